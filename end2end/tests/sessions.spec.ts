import { test, expect, type Page } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique, seriousViolations, expectNoPageScroll } from "./helpers";

// The session list tells each session's state (a badge), project, cost and age, what was spent
// today and this month, and offers rename, archive and delete behind each row's "⋯".

/** Starts a task in a new session from "another device" (the REST API): `[taskId, sessionId]`. */
async function startElsewhere(page: Page, message: string): Promise<[string, string]> {
  const started = await page.request.post("/api/sessions/new/chat", { data: { message } });
  expect(started.ok()).toBe(true);
  const body = await started.json();
  return [body.task_id, body.session_id];
}

async function waitFinished(page: Page, session: string, task: string) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/sessions/${session}/tasks/${task}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
}

function row(page: Page, text: string) {
  return page.locator(".session-row", { hasText: text });
}

async function openDrawer(page: Page) {
  await page.getByRole("button", { name: "Sessions" }).click();
  await expect(page.locator(".drawer")).toBeVisible();
}

test.describe("sessions that tell their state", () => {
  // A narrow desktop window: below the width where the sessions become a sidebar, so that both
  // projects open the drawer as a phone does.
  test.beforeEach(async ({ page, isMobile }) => {
    if (!isMobile) await page.setViewportSize({ width: 900, height: 800 });
  });

  test("a running session shows Running in the open drawer, then its cost once it ends", async ({ page }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const prompt = unique("slow work elsewhere");
    await startElsewhere(page, `${prompt} #SLOW=4`);
    await openDrawer(page);
    const running = row(page, prompt);
    await expect(running.locator(".badge")).toHaveText("Running");
    await expect(running.locator(".session-time")).toHaveText("just now");
    await expect(page.getByTestId("spend")).toHaveText(/^Today \$\d+\.\d+ · This month \$\d+\.\d+$/);
    await expectNoPageScroll(page);
    await snap(page, testInfo, "sessions-running");

    // Nothing here follows that task: the open drawer lists again by itself while it runs.
    await expect(running.locator(".badge")).toHaveCount(0, { timeout: 20_000 });
    await expect(running.locator(".session-cost")).toHaveText("$0.0002");
    await expect(running.locator(".session-project")).not.toBeEmpty();
    await snap(page, testInfo, "sessions-finished");
  });

  test("rename shows the new title in the list and the header; Escape cancels", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const prompt = unique("rename me");
    await send(page, prompt, isMobile);
    await expect(reply(page, `Fake reply to: ${prompt}`)).toBeVisible();
    await openDrawer(page);
    await page.getByRole("button", { name: `Session actions for ${prompt}` }).click();
    expect(await seriousViolations(page)).toEqual([]);
    await snap(page, testInfo, "session-actions");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    const field = page.getByLabel("Session title");
    await expect(field).toBeFocused();
    const title = unique("My own title");
    await field.fill(title);
    await snap(page, testInfo, "session-rename");
    await field.press("Enter");
    await expect(field).toHaveCount(0);
    await expect(page.locator(".session-row .session-title", { hasText: title })).toBeVisible();

    // Escape leaves the title as it was, and the drawer open.
    await page.getByRole("button", { name: `Session actions for ${title}` }).click();
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await page.getByLabel("Session title").fill("never saved");
    await page.getByLabel("Session title").press("Escape");
    await expect(page.getByLabel("Session title")).toHaveCount(0);
    await expect(page.locator(".drawer")).toBeVisible();
    await expect(page.locator(".session-row .session-title", { hasText: title })).toBeVisible();

    await page.keyboard.press("Escape");
    await expect(page.locator(".drawer")).toHaveCount(0);
    await expect(page.locator(".session-name")).toHaveText(title);
    // It stays after a reload: the server keeps it.
    await page.reload();
    await expect(page.locator(".session-name")).toHaveText(title);
  });

  test("archive hides a session, which is found under Archived and can come back", async ({ page }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const prompt = unique("archive me");
    const [task, session] = await startElsewhere(page, prompt);
    await waitFinished(page, session, task);
    await openDrawer(page);
    await expect(row(page, prompt)).toBeVisible();
    await page.getByRole("button", { name: `Session actions for ${prompt}` }).click();
    await page.getByRole("button", { name: "Archive", exact: true }).click();
    await expect(row(page, prompt)).toHaveCount(0);

    const archivedToggle = page.getByRole("button", { name: "Archived", exact: true });
    await expect(archivedToggle).toHaveAttribute("aria-pressed", "false");
    await archivedToggle.click();
    await expect(archivedToggle).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByRole("heading", { name: "Archived sessions" })).toBeVisible();
    await expect(row(page, prompt)).toBeVisible();
    await snap(page, testInfo, "sessions-archived");
    await page.getByRole("button", { name: `Session actions for ${prompt}` }).click();
    await page.getByRole("button", { name: "Unarchive", exact: true }).click();
    await expect(row(page, prompt)).toHaveCount(0);
    await archivedToggle.click();
    await expect(page.getByRole("heading", { name: "Archived sessions" })).toHaveCount(0);
    await expect(row(page, prompt)).toBeVisible();
  });

  test("delete removes a session, keeping the CLI's transcript unless asked; the open one gives way to a new one", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const other = unique("delete me for good");
    const [task, otherSession] = await startElsewhere(page, other);
    await waitFinished(page, otherSession, task);
    const prompt = unique("delete me");
    await send(page, prompt, isMobile);
    await expect(reply(page, `Fake reply to: ${prompt}`)).toBeVisible();
    const session = await page.evaluate(() => localStorage.getItem("claude-remote:last-session"));
    await openDrawer(page);
    await page.getByRole("button", { name: `Session actions for ${prompt}` }).click();
    await page.getByRole("button", { name: "Delete…", exact: true }).click();
    await expect(page.getByText("The CLI's transcript file is kept.")).toBeVisible();
    const alsoTranscript = page.getByLabel("Also delete the transcript file");
    await expect(alsoTranscript).not.toBeChecked();
    expect(await seriousViolations(page)).toEqual([]);
    await expectNoPageScroll(page);
    await snap(page, testInfo, "session-delete");
    await page.getByRole("button", { name: "Delete session", exact: true }).click();
    await expect(row(page, prompt)).toHaveCount(0);
    await expect(page.locator(".session-name")).toHaveText("New session");
    expect((await page.request.get(`/api/sessions/${session}/messages`)).ok()).toBe(true);

    // With the box ticked, the transcript goes too.
    await page.getByRole("button", { name: `Session actions for ${other}` }).click();
    await page.getByRole("button", { name: "Delete…", exact: true }).click();
    await page.getByLabel("Also delete the transcript file").check();
    await page.getByRole("button", { name: "Delete session", exact: true }).click();
    await expect(row(page, other)).toHaveCount(0);
    expect((await page.request.get(`/api/sessions/${otherSession}/messages`)).status()).toBe(404);
  });
});
