import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { PASSWORD, USER, newSession, reply, send, signIn, snap, unique, toggleSessions } from "./helpers";

test("a wrong password is refused, then the right one signs in", async ({ page }, testInfo) => {
  await page.goto("/");
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("Wrong user name or password");
  await snap(page, testInfo, "sign-in-error");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Message", { exact: true })).toBeVisible();
  // The password lives nowhere in the browser: only an HttpOnly cookie.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toContain(PASSWORD);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "cr_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");
  expect(await page.evaluate(() => document.cookie)).not.toContain("cr_session");
});

test("a new session gets its reply, with cost, and a second turn resumes it", async ({ page, isMobile }, testInfo) => {
  await signIn(page);
  await newSession(page);
  const first = unique("hello from the phone");
  await send(page, first, isMobile);
  await expect(page.locator(".msg.user", { hasText: first })).toBeVisible();
  await expect(reply(page, `Fake reply to: ${first}`)).toBeVisible();
  await expect(reply(page, `Fake reply to: ${first}`).locator(".meta")).toHaveText("$0.0002 · 1 turn");
  await expect(page.getByTestId("session-cost")).toContainText("$0.0002 spent here");
  await snap(page, testInfo, "chat-reply");

  const sessionId = await page.evaluate(() => localStorage.getItem("claude-remote:last-session"));
  expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
  const second = unique("and a follow-up");
  await send(page, second, isMobile);
  await expect(reply(page, `Fake reply to: ${second}`)).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem("claude-remote:last-session"))).toBe(sessionId);
  // Two replies of $0.000175 each.
  await expect(page.getByTestId("session-cost")).toHaveText(/^\$0\.000[34] spent here$/);

  // The server agrees: one session, both turns, in its transcript.
  const transcript = await (await page.request.get(`/api/sessions/${sessionId}/messages`)).json();
  const texts = transcript.turns.map((t: { text: string }) => t.text);
  expect(texts).toEqual([first, `Fake reply to: ${first}`, second, `Fake reply to: ${second}`]);
  await expect(page.locator(".session-name")).toHaveText(first);
});

test("switching to an older session shows its transcript", async ({ page }, testInfo) => {
  await signIn(page);
  await toggleSessions(page);
  const older = page.locator(".session", { hasText: "hello from the tui" });
  await expect(older).toBeVisible();
  await expect(older.locator(".session-time")).toHaveText(/yesterday|h ago/);
  await snap(page, testInfo, "sessions");
  await older.click();
  await expect(reply(page, "Fake reply to: hello from the tui")).toBeVisible();
  await expect(reply(page, "Fake reply to: second tui prompt")).toBeVisible();
  await expect(page.locator(".session-name")).toHaveText("hello from the tui");
});

test("an API error shows as a failure with its reason", async ({ page, isMobile }, testInfo) => {
  await signIn(page);
  await newSession(page);
  await send(page, unique("#ERR529 please"), isMobile);
  const failure = page.locator(".msg.failure");
  await expect(failure).toContainText("API Error: 529");
  await snap(page, testInfo, "chat-failure");
});

test("a reload mid-task picks the task back up", async ({ page, isMobile }, testInfo) => {
  await signIn(page);
  await newSession(page);
  const slow = unique("#SLOW=3 take a while");
  await send(page, slow, isMobile);
  await expect(page.locator(".msg.working")).toBeVisible();
  await expect(page.locator(".msg.working .elapsed")).toHaveText(/0:0[1-9]/);
  await snap(page, testInfo, "chat-working");
  await page.reload();
  await expect(page.locator(".msg.user", { hasText: slow })).toBeVisible();
  await expect(page.locator(".msg.working")).toBeVisible();
  await expect(reply(page, `Fake reply to: ${slow}`)).toBeVisible({ timeout: 20_000 });
  await expect(page.locator(".msg.working")).toHaveCount(0);
});

test("sign out ends the session on the server", async ({ page }, testInfo) => {
  await signIn(page);
  const cookie = (await page.context().cookies()).find((c) => c.name === "cr_session");
  expect(cookie).toBeDefined();
  await toggleSessions(page);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  // The old cookie no longer opens anything.
  const replay = await page.request.get("/api/sessions", { headers: { cookie: `cr_session=${cookie!.value}` } });
  expect(replay.status()).toBe(401);
  await snap(page, testInfo, "signed-out");
});

test("no serious or critical accessibility violations", async ({ page, isMobile }) => {
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  const signInScan = await new AxeBuilder({ page }).analyze();
  const serious = (scan: typeof signInScan) =>
    scan.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`);
  expect(serious(signInScan)).toEqual([]);

  await signIn(page);
  await newSession(page);
  const text = unique("check **markdown** and `code`");
  await send(page, text, isMobile);
  await expect(reply(page, "Fake reply to")).toHaveCount(1);
  expect(serious(await new AxeBuilder({ page }).analyze())).toEqual([]);
  await toggleSessions(page);
  expect(serious(await new AxeBuilder({ page }).analyze())).toEqual([]);
});

test("sign out everywhere ends every browser's session", async ({ page, browser }) => {
  const other = await browser.newContext();
  const laptop = await other.newPage();
  await signIn(laptop);
  await signIn(page);
  await toggleSessions(page);
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await laptop.reload();
  await expect(laptop.getByRole("button", { name: "Sign in" })).toBeVisible();
  await other.close();
});
