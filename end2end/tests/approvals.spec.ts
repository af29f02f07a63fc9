import { test, expect, type Page } from "@playwright/test";
import { existsSync, readFileSync } from "node:fs";
import { newSession, reply, send, signIn, snap, unique, toggleSessions, seriousViolations, expectNoPageScroll, serviceWorkerActive } from "./helpers";

// The fake CLI asks permission for #WRITE:<path>, #BASH:<command>, #ASK and #PLAN (see
// scripts/fake-claude/README.md) and waits, as the real one does, until the app answers.

async function projectPath(page: Page): Promise<string> {
  const config = await (await page.request.get("/api/config")).json();
  expect(config.project_path).toMatch(/^\//);
  return config.project_path;
}

function card(page: Page, title: string) {
  return page.locator("section.approval", { has: page.getByRole("heading", { name: title }) });
}

test.describe("approving tool uses", () => {
  test("a Write waits for approval on every device, survives a reload, and runs once allowed", async ({ page, context, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const path = `${await projectPath(page)}/${unique("e2e").replace(" ", "-")}/hello.txt`;
    await send(page, `#WRITE:${path} please`, isMobile);
    const write = card(page, "Write a file");
    await expect(write).toBeVisible();
    await expect(write.locator(".approval-path")).toHaveText(path);
    await expect(write.getByLabel("Content")).toHaveText("written by fake");
    await expect(write.getByRole("button", { name: "Allow for this session" })).toBeVisible();
    await expect(page.locator(".msg.working .status")).toHaveText("Waiting for you");
    await expect(page.locator(".step.asked.waiting")).toHaveText(`Waiting for you: Write ${path}`);
    expect(existsSync(path)).toBe(false);
    await expectNoPageScroll(page);
    await snap(page, testInfo, "approval-write");
    expect(await seriousViolations(page)).toEqual([]);

    // It comes from the task's poll: a reload and another tab both show it.
    await page.reload();
    await expect(write).toBeVisible();
    const other = await context.newPage();
    await other.goto("/");
    const elsewhere = card(other, "Write a file");
    await expect(elsewhere).toBeVisible();

    await write.getByRole("button", { name: "Allow", exact: true }).click();
    await expect(write).toHaveCount(0);
    await expect(reply(page, `Tool said: [is_error=False] File created successfully at: ${path}`)).toBeVisible();
    expect(readFileSync(path, "utf8")).toBe("written by fake\n");
    // Gone on the other device too, which sees the same reply.
    await expect(elsewhere).toHaveCount(0);
    await expect(reply(other, "File created successfully")).toBeVisible();
    await other.close();
    // The folded timeline keeps the exchange.
    const answer = reply(page, "File created successfully");
    await answer.locator("details.steps > summary").click();
    await expect(answer.locator(".step.asked")).toHaveText(`Asked you: Write ${path}`);
    await expect(answer.locator(".step.decided")).toHaveText("Allowed");
  });

  test("Allow for this session lets the next Write run without asking", async ({ page, isMobile }) => {
    await signIn(page);
    await newSession(page);
    const dir = `${await projectPath(page)}/${unique("e2e").replace(" ", "-")}`;
    await send(page, `#WRITE:${dir}/one.txt #WRITE:${dir}/two.txt`, isMobile);
    const write = card(page, "Write a file");
    await expect(write.locator(".approval-path")).toHaveText(`${dir}/one.txt`);
    await write.getByRole("button", { name: "Allow for this session" }).click();
    await expect(reply(page, `File created successfully at: ${dir}/two.txt`)).toBeVisible();
    await expect(write).toHaveCount(0);
    expect(existsSync(`${dir}/one.txt`) && existsSync(`${dir}/two.txt`)).toBe(true);
    const answer = reply(page, "two.txt");
    await answer.locator("details.steps > summary").click();
    await expect(answer.locator(".step.decided")).toHaveText(["Allowed for this session"]);
  });

  test("a denied Bash tells Claude why, and a message sent meanwhile is queued", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const long = `echo ${"a-rather-long-argument-".repeat(12)}end`;
    await send(page, `#BASH:${long}`, isMobile);
    const bash = card(page, "Run a command");
    await expect(bash).toBeVisible();
    const command = bash.locator("pre code");
    await expect(command).toHaveText(long);
    expect(await command.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i);
    await expect(bash.locator(".approval-desc")).toHaveText("Run fake command");
    // The command scrolls in its box, not the page.
    const pre = bash.locator("pre");
    expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    await expectNoPageScroll(page);

    const next = unique("and after that");
    await send(page, next, isMobile);
    await expect(page.locator(".msg.working .status", { hasText: "Queued" })).toBeVisible();
    // The card stays with its task, above the queued message, and in view.
    await expect(page.locator("section.approval + .msg.user")).toHaveText(next);
    await expect(bash).toBeInViewport();
    await snap(page, testInfo, "approval-bash");

    await bash.getByLabel("Reason for denying (optional)").fill("not on a Friday");
    await bash.getByRole("button", { name: "Deny" }).click();
    await expect(bash).toHaveCount(0);
    await expect(reply(page, "Tool said: [is_error=True] not on a Friday")).toBeVisible();
    // The queued message runs next.
    await expect(reply(page, `Fake reply to: ${next}`)).toBeVisible();
    const denied = reply(page, "not on a Friday");
    await denied.locator("details.steps > summary").click();
    await expect(denied.locator(".step.decided.denied")).toHaveText("Denied: not on a Friday");
  });

  test("a question is answered with the chosen option", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    await send(page, "#ASK which colour?", isMobile);
    const question = card(page, "Claude has a question");
    await expect(question).toBeVisible();
    const group = question.getByRole("group", { name: /Which colour should the button be\?/ });
    await expect(group.getByRole("radio")).toHaveCount(2);
    const answer = question.getByRole("button", { name: "Answer", exact: true });
    await expect(answer).toBeDisabled();
    await group.getByRole("radio", { name: /Blue/ }).check();
    await expect(answer).toBeEnabled();
    await expectNoPageScroll(page);
    await snap(page, testInfo, "approval-question");
    expect(await seriousViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "dark" });
    await snap(page, testInfo, "approval-question-dark");
    expect(await seriousViolations(page)).toEqual([]);
    await answer.click();
    await expect(question).toHaveCount(0);
    await expect(reply(page, `"Which colour should the button be?"="Blue"`)).toBeVisible();
  });

  test("a plan asked for in Plan mode is shown as Markdown and approved", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const mode = page.getByLabel("Permission mode");
    await mode.selectOption({ label: "Bypass" });
    await expect(page.locator(".mode-note.warning")).toContainText("runs without asking");
    await snap(page, testInfo, "mode-bypass");
    await mode.selectOption({ label: "Plan" });
    await expect(page.locator(".mode-note")).toContainText("Plan:");
    await send(page, "#PLAN the button", isMobile);
    const plan = card(page, "Review the plan");
    await expect(plan).toBeVisible();
    await expect(plan.locator(".plan h2")).toHaveText("Plan");
    await expect(plan.locator(".plan li")).toHaveText(["Read the code", "Change the button colour", "Run the tests"]);
    await expect(plan.getByRole("button", { name: "Keep planning" })).toBeVisible();
    await expectNoPageScroll(page);
    await snap(page, testInfo, "approval-plan");
    await plan.getByRole("button", { name: "Approve plan" }).click();
    await expect(plan).toHaveCount(0);
    await expect(reply(page, "User has approved your plan")).toBeVisible();

    // The task ran in plan mode: its first line says so.
    const sessionId = await page.evaluate(() => localStorage.getItem("claude-remote:last-session"));
    const transcript = await (await page.request.get(`/api/sessions/${sessionId}/messages`)).json();
    const taskId = transcript.tasks.at(-1).task_id;
    const events = await (await page.request.get(`/api/sessions/${sessionId}/tasks/${taskId}/events?after=0`)).json();
    const init = events.events.map((e: { event: Record<string, unknown> }) => e.event).find((e: Record<string, unknown>) => e.subtype === "init");
    expect(init.permissionMode).toBe("plan");
  });

  test("Keep planning sends the user's feedback back to Claude", async ({ page, isMobile }) => {
    await signIn(page);
    await newSession(page);
    await page.getByLabel("Permission mode").selectOption({ label: "Plan" });
    await send(page, "#PLAN again", isMobile);
    const plan = card(page, "Review the plan");
    await plan.getByLabel("What should change? (optional)").fill("also update the docs");
    await plan.getByRole("button", { name: "Keep planning" }).click();
    await expect(plan).toHaveCount(0);
    await expect(reply(page, "Tool said: [is_error=True] also update the docs")).toBeVisible();
    const answer = reply(page, "also update the docs");
    await answer.locator("details.steps > summary").click();
    await expect(answer.locator(".step.decided")).toHaveText("Keep planning: also update the docs");
  });

  test("a request that arrives in the background raises a notification", async ({ page, context, isMobile }) => {
    test.skip(!isMobile, "phone project");
    await context.grantPermissions(["notifications"]);
    await signIn(page);
    await serviceWorkerActive(page);
    await newSession(page);
    await toggleSessions(page);
    await page.getByLabel("Notify me when a task ends").check();
    await toggleSessions(page);
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await send(page, "#BASH:echo hi", isMobile);
    await expect(card(page, "Run a command")).toBeVisible();
    const sessionId = await page.evaluate(() => localStorage.getItem("claude-remote:last-session"));
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await expect
      .poll(async () =>
        page.evaluate(async () =>
          (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, session: n.data?.session_id })),
        ),
      )
      .toContainEqual({ title: "Claude wants to run `echo hi`", body: "Tap to allow or deny.", session: sessionId });
    await card(page, "Run a command").getByRole("button", { name: "Deny" }).click();
    await expect(reply(page, "Tool said: [is_error=True]")).toBeVisible();
  });
});
