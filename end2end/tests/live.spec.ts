import { test, expect } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique, toggleSessions, serviceWorkerActive } from "./helpers";

test.describe("watching a task", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("the timeline grows while a task runs, then folds above the reply", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const message = unique("#TOOL=3 run a tool");
    await send(page, message, isMobile);
    const working = page.locator(".msg.working");
    await expect(working.locator(".step.started")).toHaveText("Started · Opus 4.8 (1M context)");
    await expect(working.locator(".step.text")).toHaveText("Let me run something.");
    await expect(working.locator(".step.tool.running")).toHaveText("Bash: sleep 3");
    await snap(page, testInfo, "timeline-running");
    const answer = reply(page, "Tool said");
    await expect(answer).toBeVisible();
    await expect(working).toHaveCount(0);
    const fold = answer.locator("details.steps > summary");
    // Started, the text, the call (its result shows inside it), the closing text.
    await expect(fold).toHaveText("4 steps · 1 tool call");
    await fold.click();
    await answer.locator(".step.tool summary", { hasText: "Bash: sleep 3" }).click();
    await expect(answer.locator(".tool-output")).toBeVisible();
    await snap(page, testInfo, "timeline-folded");

    // After a reload the reply reads as it did live: the same summary, its steps when opened.
    await page.reload();
    const reloaded = reply(page, "Tool said");
    const summary = reloaded.locator("details.steps > summary");
    await expect(summary).toHaveText("4 steps · 1 tool call");
    await expect(reloaded.locator("ul.tools")).toHaveCount(0);
    await summary.click();
    await expect(reloaded.locator(".step.tool summary", { hasText: "Bash: sleep 3" })).toBeVisible();
    await expect(reloaded.locator(".step.text", { hasText: "Let me run something." })).toBeVisible();
    await snap(page, testInfo, "timeline-after-reload");
  });

  test("a reload mid-task shows the whole timeline, nothing twice", async ({ page, isMobile }) => {
    await signIn(page);
    await newSession(page);
    await send(page, unique("#TOOL=4 survive a reload"), isMobile);
    const working = page.locator(".msg.working");
    await expect(working.locator(".step.tool.running")).toBeVisible();
    await page.reload();
    await expect(working.locator(".step.started")).toHaveCount(1);
    await expect(working.locator(".step.text")).toHaveCount(1);
    await expect(working.locator(".step.tool")).toHaveCount(1);
    await expect(working.locator(".step.tool")).toHaveText("Bash: sleep 4");
    await expect(reply(page, "Tool said")).toBeVisible({ timeout: 20_000 });
  });

  test("Stop ends the task and says so", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    await send(page, unique("#TOOL=60 never finishes"), isMobile);
    const working = page.locator(".msg.working");
    await expect(working.locator(".step.tool.running")).toBeVisible();
    await working.getByRole("button", { name: "Stop" }).click();
    const stopped = page.locator(".msg.failure.cancelled");
    await expect(stopped).toContainText("Stopped.");
    await expect(working).toHaveCount(0);
    await snap(page, testInfo, "stopped");
    // The session goes on.
    const next = unique("still there?");
    await send(page, next, isMobile);
    await expect(reply(page, `Fake reply to: ${next}`)).toBeVisible();
  });

  test("a task that ends in the background raises a notification", async ({ page, context, isMobile }) => {
    await context.grantPermissions(["notifications"]);
    await signIn(page);
    await serviceWorkerActive(page);
    await newSession(page);
    await toggleSessions(page);
    const toggle = page.getByLabel("Notify me when a task ends");
    await toggle.check();
    await expect(toggle).toBeChecked();
    await toggleSessions(page);
    const message = unique("#SLOW=2 tell me when done");
    await send(page, message, isMobile);
    await expect(page.locator(".msg.working")).toBeVisible();
    // The user switches away: the page is hidden.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible();
    const sessionId = await page.evaluate(() => localStorage.getItem("claude-remote:last-session"));
    await expect
      .poll(async () =>
        page.evaluate(async () =>
          (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, session: n.data?.session_id })),
        ),
      )
      .toContainEqual({ title: "Claude finished", body: `Fake reply to: ${message}`, session: sessionId });
  });
});
