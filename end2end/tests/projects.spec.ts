import { test, expect, type Page } from "@playwright/test";
import { newSession, reply, send, signIn, snap, unique, toggleSessions, seriousViolations, expectNoPageScroll } from "./helpers";

// Every project on the machine: scripts/e2e-server.sh allows repos/ (--projects-root), where
// repos/second already has a session (the CLI knows it) and repos/third is a bare folder.

type Project = { id: string; name: string; path: string; default: boolean; sessions: number; last_activity: number | null };

async function projects(page: Page): Promise<Project[]> {
  const answer = await page.request.get("/api/projects");
  expect(answer.ok()).toBe(true);
  return answer.json();
}

function headerProject(page: Page) {
  return page.locator(".bar .project");
}

test("a session started in a second project from the phone is found again by search", async ({ page, isMobile }, testInfo) => {
  await signIn(page);
  await newSession(page);
  const second = (await projects(page)).find((p) => p.name === "second");
  expect(second, "the CLI's project under the root is listed").toBeTruthy();

  const picker = page.locator("#new-project");
  await expect(picker.locator("option", { hasText: /^second · / })).toHaveCount(1);
  await picker.selectOption(second!.id);
  await expect(headerProject(page)).toHaveText("second");
  await expect(page.locator(".project-picker")).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);
  await expectNoPageScroll(page);
  await snap(page, testInfo, "projects-picker");

  const token = unique("sort imports").split(" ")[2];
  const prompt = `sort imports ${token}`;
  await send(page, prompt, isMobile);
  await expect(reply(page, `Fake reply to: ${prompt}`)).toBeVisible({ timeout: 20_000 });
  await expect(headerProject(page)).toHaveText("second");
  await expect(page.locator(".project-picker")).toHaveCount(0);
  // It ran in the second project, and is listed there.
  const listed = await (await page.request.get(`/api/sessions?project=${second!.id}&q=${token}`)).json();
  expect(listed.sessions.map((s: { title: string }) => s.title)).toEqual([prompt]);

  // Another session, then back to it by searching.
  await newSession(page);
  await toggleSessions(page);
  await page.getByLabel("Search sessions").fill(token);
  const found = page.locator(".session-row", { hasText: prompt });
  await expect(found).toHaveCount(1);
  await expect(found.locator(".session-project")).toHaveText("second");
  await expect(page.locator(".session-row", { hasText: "hello from the tui" })).toHaveCount(0);
  await snap(page, testInfo, "projects-search");
  await found.locator(".session").click();
  await expect(reply(page, `Fake reply to: ${prompt}`)).toBeVisible();
  await expect(headerProject(page)).toHaveText("second");
  // The search is cleared for the next run.
  await toggleSessions(page);
  await page.getByLabel("Search sessions").fill("");
  await toggleSessions(page);
});

test("a folder under the root can be added from the app; one outside is refused", async ({ page }, testInfo) => {
  await signIn(page);
  await newSession(page);
  const second = (await projects(page)).find((p) => p.name === "second")!;
  const root = second.path.slice(0, second.path.lastIndexOf("/"));

  const folder = page.getByLabel("Folder to add");
  await folder.fill("/etc");
  await page.getByRole("button", { name: "Add folder" }).click();
  await expect(page.locator(".project-picker [role=alert]")).toContainText("outside the allowed project roots");
  await folder.fill(`${root}/../..`);
  await page.getByRole("button", { name: "Add folder" }).click();
  await expect(page.locator(".project-picker [role=alert]")).toContainText("outside the allowed project roots");
  await snap(page, testInfo, "projects-refused");

  await folder.fill(`${root}/third`);
  await page.getByRole("button", { name: "Add folder" }).click();
  await expect(page.locator(".project-picker [role=alert]")).toHaveCount(0);
  await expect(headerProject(page)).toHaveText("third");
  const third = (await projects(page)).find((p) => p.name === "third");
  expect(third?.path).toBe(`${root}/third`);
  await expect(page.locator("#new-project")).toHaveValue(third!.id);
});

test("a folder is found by browsing from the roots, without typing its path", async ({ page }, testInfo) => {
  await signIn(page);
  await newSession(page);
  const second = (await projects(page)).find((p) => p.name === "second")!;
  const root = second.path.slice(0, second.path.lastIndexOf("/"));

  await page.getByRole("button", { name: "Browse folders" }).click();
  const folders = page.getByRole("list", { name: "Folders" });
  await expect(page.locator(".folder-here")).toHaveText("Project roots");
  await folders.getByRole("button", { name: root }).click();
  await expect(page.locator(".folder-here")).toHaveText(root);
  await expect(folders.getByRole("button")).toHaveText(["fourth", "second", "third"]);
  await folders.getByRole("button", { name: "fourth" }).click();
  await expect(folders.getByRole("button")).toHaveText(["apigit"]);
  await folders.getByRole("button", { name: /^api/ }).click();
  await expect(page.getByLabel("Folder to add")).toHaveValue(`${root}/fourth/api`);
  await expect(page.locator(".folders .empty")).toHaveText("No folders here");
  await expectNoPageScroll(page);
  await snap(page, testInfo, "projects-browse");

  // Up goes back a level; the folder opened is what "Add folder" adds.
  await page.getByRole("button", { name: "Up one folder" }).click();
  await expect(page.locator(".folder-here")).toHaveText(`${root}/fourth`);
  await folders.getByRole("button", { name: /^api/ }).click();
  await page.getByRole("button", { name: "Add folder" }).click();
  await expect(headerProject(page)).toHaveText("api");
  const api = (await projects(page)).find((p) => p.name === "api");
  expect(api?.path).toBe(`${root}/fourth/api`);
  await expect(page.locator("#new-project")).toHaveValue(api!.id);
});
