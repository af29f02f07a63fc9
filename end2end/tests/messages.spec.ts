import { test, expect } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique, USER, PASSWORD } from "./helpers";

test.describe("words, unsent messages and failures on the phone", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("the reply grows word by word while the task runs", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    await send(page, unique("stream it #SLOWSTREAM6"), isMobile);
    const working = page.locator(".msg.working");
    const draft = working.getByTestId("draft");
    // Words show while the task still runs (Stop is there), and the draft grows.
    await expect(draft).toContainText("word1");
    await expect(working.getByRole("button", { name: "Stop" })).toBeVisible();
    await expect(draft).toBeInViewport();
    await snap(page, testInfo, "streaming-words");
    await expect(draft).toContainText("word3");
    await expect(working).toHaveCount(1);
    // Then the reply, whole, once; the draft is gone with the running task.
    await expect(reply(page, "word0 word1 word2 word3 word4 word5")).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId("draft")).toHaveCount(0);
    await expect(reply(page, "word0")).toHaveCount(1);
  });

  test("a message sent offline is kept and delivered once the machine answers", async ({ page, context, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const first = unique("before going offline");
    await send(page, first, isMobile);
    await expect(reply(page, `Fake reply to: ${first}`)).toBeVisible();

    await context.setOffline(true);
    const message = unique("written in a tunnel");
    await send(page, message, isMobile);
    const unsent = page.getByTestId("unsent");
    await expect(unsent).toContainText("Not sent");
    await expect(unsent.getByRole("button", { name: "Resend" })).toBeVisible();
    await expect(page.locator(".msg.user", { hasText: message })).toBeVisible();
    await snap(page, testInfo, "unsent");
    await context.setOffline(false);
    // Back online: it goes by itself, to the same session, once.
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible({ timeout: 20_000 });
    await expect(unsent).toHaveCount(0);
    await expect(page.locator(".msg.user", { hasText: message })).toHaveCount(1);
    await expect(reply(page, `Fake reply to: ${first}`)).toBeVisible();
    await page.reload();
    await expect(reply(page, `Fake reply to: ${message}`)).toHaveCount(1);
    await expect(page.locator(".msg.user", { hasText: message })).toHaveCount(1);
  });

  test("signed out in another tab: the message waits for the sign-in and goes to its session", async ({ page, context, isMobile }) => {
    await signIn(page);
    await newSession(page);
    const first = unique("start a session");
    await send(page, first, isMobile);
    await expect(reply(page, `Fake reply to: ${first}`)).toBeVisible();

    // Another tab signs out (the same browser, the same cookie).
    const other = await context.newPage();
    await other.goto("/");
    await other.getByRole("button", { name: "Sessions" }).click();
    await other.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect(other.getByLabel("User name")).toBeVisible();
    await other.close();

    const message = unique("written before noticing");
    await send(page, message, isMobile);
    await expect(page.getByLabel("User name")).toBeVisible();
    await page.getByLabel("User name").fill(USER);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Delivered to the session it was written in, after the earlier exchange.
    await expect(reply(page, `Fake reply to: ${message}`)).toBeVisible({ timeout: 20_000 });
    await expect(reply(page, `Fake reply to: ${first}`)).toBeVisible();
    await expect(page.locator(".msg.user", { hasText: message })).toHaveCount(1);
  });

  test("an API error shows once with Retry; a stopped task makes up no reply", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const failing = unique("overloaded #ERR529");
    await send(page, failing, isMobile);
    const failure = page.locator(".msg.failure:not(.cancelled)");
    await expect(failure).toHaveCount(1);
    await expect(failure).toContainText("529");
    await expect(page.locator(".msg.assistant", { hasText: "API Error" })).toHaveCount(0);
    await snap(page, testInfo, "api-error-retry");
    // After a reload (the transcript holds the CLI's own note of the error): still once.
    await page.reload();
    await expect(failure).toHaveCount(1);
    await expect(page.locator(".msg.assistant", { hasText: "API Error" })).toHaveCount(0);
    // Retry sends the message again.
    await failure.getByRole("button", { name: "Retry" }).click();
    await expect(page.locator(".msg.user", { hasText: failing })).toHaveCount(2);
    await expect(failure).toHaveCount(2);

    const slow = unique("take your time #SLOW=30");
    await send(page, slow, isMobile);
    await page.locator(".msg.working").getByRole("button", { name: "Stop" }).click();
    const stopped = page.locator(".msg.failure.cancelled");
    await expect(stopped).toContainText("Stopped");
    await page.reload();
    await expect(stopped).toHaveCount(1);
    await expect(page.locator(".msg.assistant", { hasText: "No response requested" })).toHaveCount(0);
  });

  test("when the browser blocks notifications, the app says so and how to allow them", async ({ page }, testInfo) => {
    // As a browser does once the user said no: asking again changes nothing.
    await page.addInitScript(() => {
      Object.defineProperty(Notification, "permission", { configurable: true, get: () => "denied" });
      Notification.requestPermission = () => Promise.resolve("denied");
    });
    await signIn(page);
    await page.getByRole("button", { name: "Sessions" }).click();
    const note = page.locator(".notify-refused");
    await expect(note).toContainText("blocks notifications");
    const toggle = page.getByLabel("Notify me when a task ends");
    await toggle.click();
    await expect(toggle).not.toBeChecked();
    await expect(note).toContainText("site's settings");
    await snap(page, testInfo, "notifications-blocked");
  });
});
