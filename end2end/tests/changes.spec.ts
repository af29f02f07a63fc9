import { test, expect, type Page } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { expectNoPageScroll, newSession, reply, send, signIn, snap, toggleSessions, unique, seriousViolations } from "./helpers";

// The fake CLI really edits and writes files (#EDIT:, #WRITE:, scripts/fake-claude/README.md);
// "Accept edits" lets it without asking.

async function projectPath(page: Page): Promise<string> {
  const config = await (await page.request.get("/api/config")).json();
  expect(config.project_path).toMatch(/^\//);
  return config.project_path;
}

// One unbroken 300-character word: it must wrap inside the diff, not widen the page.
const LONG = "x".repeat(300);

test("a task's changes open under its reply: each file's diff, line numbers, changed words", async ({ page, isMobile }, testInfo) => {
  await signIn(page);
  await newSession(page);
  await page.getByLabel("Permission mode").selectOption({ label: "Accept edits" });
  const dir = unique("changes").replace(" ", "-");
  const base = `${await projectPath(page)}/${dir}`;

  await send(page, `#WRITE:${base}/notes.txt`, isMobile);
  const first = reply(page, `File created successfully at: ${base}/notes.txt`);
  await expect(first.locator("details.changes > summary")).toHaveText("1 file changed, +1 \u22120");

  await send(page, `#EDIT:${base}/notes.txt|fake|${LONG} #WRITE:${base}/more.txt`, isMobile);
  const second = reply(page, `File created successfully at: ${base}/more.txt`);
  const row = second.locator("details.changes");
  await expect(row.locator("> summary")).toHaveText("2 files changed, +2 \u22121");
  await row.locator("> summary").click();

  const files = row.locator("details.diff-file");
  await expect(files).toHaveCount(2);
  await expect(files.nth(0).locator(".path")).toHaveText(`${dir}/notes.txt`);
  await expect(files.nth(0).locator(".counts")).toHaveText("+1 \u22121");
  await files.nth(0).locator("summary").click();
  const table = files.nth(0).locator("table.diff");
  await expect(table.locator("tr.del")).toHaveCount(1);
  await expect(table.locator("tr.del td.no").first()).toHaveText("1");
  await expect(table.locator("tr.add td.no").nth(1)).toHaveText("1");
  // Only the changed word is marked: "written by" stays as it was.
  await expect(table.locator("tr.del mark")).toHaveText("fake");
  await expect(table.locator("tr.add mark")).toHaveText(LONG);
  await expectNoPageScroll(page);
  await snap(page, testInfo, "changes-diff");

  // All at once, and closed again.
  await row.getByRole("button", { name: "Expand all" }).click();
  await expect(files.nth(1).locator("tr.add")).toHaveText(/written by fake/);
  await row.getByRole("button", { name: "Collapse all" }).click();
  await expect(files.nth(0).locator("table.diff")).toBeHidden();
  expect(await seriousViolations(page)).toEqual([]);
});

test("the Files view lists the project, shows a file with colours and refuses secrets", async ({ page }, testInfo) => {
  await signIn(page);
  const dir = unique("files").replace(" ", "-");
  const base = `${await projectPath(page)}/${dir}`;
  mkdirSync(base, { recursive: true });
  writeFileSync(`${base}/main.rs`, `fn main() {\n    println!("${LONG}");\n}\n`);
  writeFileSync(`${base}/.env`, "API_KEY=hunter2\n");

  await toggleSessions(page);
  await page.getByRole("button", { name: "Files" }).click();
  const view = page.getByRole("dialog", { name: "Files" });
  await expect(view.locator(".git-state")).toHaveText("Not a git repository.");
  await view.getByRole("button", { name: `${dir}/` }).click();
  await expect(view.locator(".crumbs")).toContainText(dir);
  await view.getByRole("button", { name: "main.rs" }).click();
  const code = view.locator("pre.file-text code.language-rust");
  await expect(code).toContainText("fn main()");
  await expect(code.locator(".hljs-keyword").first()).toHaveText("fn");
  await expectNoPageScroll(page);
  await snap(page, testInfo, "files-view");

  await view.getByRole("button", { name: dir, exact: true }).click();
  await view.getByRole("button", { name: ".env" }).click();
  await expect(view.locator(".changes-error")).toContainText("may hold secrets");
  await expect(view).not.toContainText("hunter2");
  expect(await seriousViolations(page)).toEqual([]);
  await view.getByRole("button", { name: "Close" }).click();
  await expect(view).toHaveCount(0);
});
