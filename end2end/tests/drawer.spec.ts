import { test, expect } from "@playwright/test";
import { newSession, reply, send, signIn, unique } from "./helpers";

test.describe("the sessions drawer", () => {
  test("opening it shows sessions started elsewhere; Back (phone) or Escape closes it, staying in the app", async ({ page, isMobile }) => {
    // A narrow desktop window: below the width where the sessions become a sidebar.
    if (!isMobile) await page.setViewportSize({ width: 900, height: 800 });
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
    await expect(page.getByLabel("Message", { exact: true })).toBeVisible();
    await expect(sessions).toHaveAttribute("aria-expanded", "false");

    // Closed by its own button, it leaves no step behind: Back then does not reopen it.
    await sessions.click();
    await expect(drawer).toBeVisible();
    await sessions.click();
    await expect(drawer).toHaveCount(0);
    await expect(page.getByLabel("Message", { exact: true })).toBeVisible();

    if (!isMobile) {
      // A click beside the drawer closes it.
      await sessions.click();
      await expect(drawer).toBeVisible();
      await page.mouse.click(850, 400);
      await expect(drawer).toHaveCount(0);
    }
  });

  test("on a wide screen the sessions are a sidebar that stays, and the composer is as wide as the conversation", async ({ page, isMobile }, testInfo) => {
    test.skip(isMobile, "desktop project");
    await signIn(page);
    await newSession(page);
    const sidebar = page.locator(".drawer");
    await expect(sidebar).toBeVisible();
    await expect(page.getByRole("button", { name: "Sessions" })).toBeHidden();
    const message = unique("a wide screen");
    await send(page, message, isMobile);
    const answer = reply(page, `Fake reply to: ${message}`);
    await expect(answer).toBeVisible();
    // The composer's box lines up with the conversation's column.
    const column = await page.locator(".conversation > .msg.assistant").last().boundingBox();
    const box = await page.locator(".composer textarea").boundingBox();
    expect(column && box).toBeTruthy();
    if (column && box) {
      expect(Math.abs(box.x - column.x)).toBeLessThan(2);
      expect(box.x + box.width).toBeLessThanOrEqual(column.x + column.width + 2);
      expect(column.x + column.width - (box.x + box.width)).toBeLessThan(120); // beside Send
    }
    // Choosing a session keeps the sidebar.
    await sidebar.locator(".session", { hasText: "hello from the tui" }).click();
    await expect(reply(page, "Fake reply to: second tui prompt")).toBeVisible();
    await expect(sidebar).toBeVisible();
    const path = testInfo.outputPath("desktop-sidebar.png");
    await page.screenshot({ path });
    await testInfo.attach("desktop-sidebar", { path, contentType: "image/png" });
  });
});
