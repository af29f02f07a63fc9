import { test, expect } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique } from "./helpers";

test.describe("the conversation follows the action", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("after Send the running task, its Stop and then the reply stay in view; scrolled up, Jump to latest", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    // A conversation several screens long above the task.
    const filler = "A long message to fill the screen. ".repeat(12);
    for (let i = 0; i < 4; i++) {
      const message = unique(`${filler} ${i}`);
      await send(page, message, isMobile);
      await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    }
    const conversation = page.locator(".conversation");
    expect(await conversation.evaluate((e) => e.scrollHeight > 2 * e.clientHeight)).toBe(true);

    await send(page, unique("#TOOL=4 follow me"), isMobile);
    const working = page.locator(".msg.working");
    await expect(working.locator(".step.tool.running")).toBeInViewport();
    await expect(working.getByRole("button", { name: "Stop" })).toBeInViewport();
    await snap(page, testInfo, "follow-running");
    const answer = reply(page, "Tool said");
    await expect(answer).toBeInViewport({ timeout: 20_000 });
    await expect(page.getByRole("button", { name: "Jump to latest" })).toHaveCount(0);

    // Scrolled up to read: the view stays there, and offers the way back.
    await conversation.evaluate((e) => e.scrollTo({ top: 0 }));
    const jump = page.getByRole("button", { name: "Jump to latest" });
    await expect(jump).toBeVisible();
    await expect(answer).not.toBeInViewport();
    await snap(page, testInfo, "follow-jump");
    await jump.click();
    await expect(answer).toBeInViewport();
    await expect(jump).toHaveCount(0);

    // A reload lands at the latest message.
    await page.reload();
    await expect(reply(page, "Tool said")).toBeInViewport();
  });
});
