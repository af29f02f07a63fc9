import { test, expect } from "@playwright/test";
import { newSession, send, signIn, unique } from "./helpers";

test.describe("a task with thousands of steps", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("shows its latest steps, loads earlier ones on demand and stays responsive", async ({ page, isMobile }) => {
    await signIn(page);
    await newSession(page);
    await send(page, unique("#MANYSTEPS=3000 #SLOW=30 a long timeline"), isMobile);
    const working = page.locator(".msg.working");
    await expect(working.locator(".step.text").last()).toHaveText("step 3000", { timeout: 30_000 });
    // Only the latest 200 steps are kept and rendered.
    await expect(working.locator(".step")).toHaveCount(200);
    await expect(working.locator(".step.text").first()).toHaveText("step 2801");
    const earlier = working.getByRole("button", { name: "Show earlier steps" });
    await expect(earlier).toBeVisible();

    // One page of lines (500) before the first step shown.
    await earlier.click();
    await expect(working.locator(".step")).toHaveCount(700);
    await expect(working.locator(".step.text").first()).toHaveText("step 2301");
    await expect(earlier).toBeVisible();

    // Still answers at once: Stop ends the task.
    await working.getByRole("button", { name: "Stop" }).click();
    await expect(page.locator(".msg.failure.cancelled")).toContainText("Stopped.", { timeout: 15_000 });
  });
});
