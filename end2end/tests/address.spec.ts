import { test, expect } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique } from "./helpers";

// The older session scripts/e2e-server.sh puts in the CLI's home.
const OLDER = "dff03279-0492-4a52-baa4-f4289e7ad6f5";

test.describe("each session has its own address", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("reload, Back and Forward, the drawer and a shared link open the right session", async ({ page, context, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    await expect(page).toHaveURL(/\/$/);
    const message = unique("a session with an address");
    await send(page, message, isMobile);
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    // The new session's address is its id, once the first message made it.
    await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
    const address = new URL(page.url()).pathname;

    await page.reload();
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`${address}$`));

    // New session, then Back to this one and Forward again.
    await newSession(page);
    await expect(page).toHaveURL(/\/$/);
    await page.goBack();
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`${address}$`));
    await page.goForward();
    await expect(page.locator(".session-name")).toHaveText("New session");
    await page.goBack();
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();

    // Chosen in the drawer: the older session, at its address; Back returns here, drawer shut.
    await page.getByRole("button", { name: "Sessions" }).click();
    await page.locator(".session", { hasText: "hello from the tui" }).click();
    await expect(page).toHaveURL(new RegExp(`/s/${OLDER}$`));
    await expect(reply(page, "Fake reply to: second tui prompt")).toBeVisible();
    await snap(page, testInfo, "address-older-session");
    await page.goBack();
    await expect(page).toHaveURL(new RegExp(`${address}$`));
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    await expect(page.locator(".drawer")).toHaveCount(0);

    // A shared link, opened in another tab.
    const other = await context.newPage();
    await other.goto(address);
    await expect(reply(other, `Fake reply to: ${message}`)).toBeVisible();
    await other.goto(`/s/${OLDER}`);
    await expect(reply(other, "Fake reply to: second tui prompt")).toBeVisible();
  });
});
