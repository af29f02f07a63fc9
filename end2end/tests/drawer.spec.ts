import { test, expect } from "@playwright/test";
import { newSession, signIn, unique } from "./helpers";

test.describe("the sessions drawer", () => {
  test("opening it shows sessions started elsewhere; Back (phone) or Escape closes it, staying in the app", async ({ page, isMobile }) => {
    await signIn(page);
    await newSession(page);
    // A session started from another device while this one was open.
    const elsewhere = unique("started on another device");
    const started = await page.request.post("/api/sessions/new/chat", { data: { message: elsewhere } });
    expect(started.ok()).toBe(true);

    const sessions = page.getByRole("button", { name: "Sessions" });
    const drawer = page.locator(".drawer");
    await sessions.click();
    await expect(drawer).toBeVisible();
    await expect(drawer.getByText(elsewhere)).toBeVisible();

    if (isMobile) {
      await page.goBack();
    } else {
      await page.keyboard.press("Escape");
    }
    await expect(drawer).toHaveCount(0);
    await expect(page.getByLabel("Message")).toBeVisible();
    await expect(sessions).toHaveAttribute("aria-expanded", "false");

    // Closed by its own button, it leaves no step behind: Back then does not reopen it.
    await sessions.click();
    await expect(drawer).toBeVisible();
    await sessions.click();
    await expect(drawer).toHaveCount(0);
    await expect(page.getByLabel("Message")).toBeVisible();
  });
});
