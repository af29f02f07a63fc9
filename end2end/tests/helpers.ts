import { expect, type Page, type TestInfo } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export const USER = "e2e";
export const PASSWORD = process.env.E2E_PASSWORD ?? "e2e-password";

export function unique(label: string): string {
  return `${label} ${Math.random().toString(36).slice(2, 8)}`;
}

/** Signs in on the server at `origin` (the configured base URL by default). */
export async function signIn(page: Page, origin = "") {
  await page.goto(`${origin}/`);
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByLabel("Message", { exact: true })).toBeVisible();
}

/** Starts a blank session so tests do not continue each other's. */
export async function newSession(page: Page) {
  await page.getByRole("button", { name: "New session", exact: true }).click();
  await expect(page.locator(".session-name")).toHaveText("New session");
}

/** Sends as the device would: the Send button on a phone, Enter on a desktop. */
export async function send(page: Page, text: string, isMobile: boolean) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  if (isMobile) {
    await page.getByRole("button", { name: "Send" }).tap();
  } else {
    await box.press("Enter");
  }
}

export function reply(page: Page, text: string) {
  return page.locator(".msg.assistant", { hasText: text });
}

export async function snap(page: Page, testInfo: TestInfo, name: string) {
  if (testInfo.project.name !== "phone") return;
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: false });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** Waits until the service worker controls notifications (and answers pushes). */
export async function serviceWorkerActive(page: Page) {
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active !== null);
}

/** Opens (or closes) the sessions drawer; on a wide screen the sessions are a sidebar, always there. */
export async function toggleSessions(page: Page) {
  const button = page.getByRole("button", { name: "Sessions" });
  if (await button.isVisible()) await button.click();
}

/** The serious and critical accessibility violations on the page, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const scan = await new AxeBuilder({ page }).analyze();
  return scan.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`);
}

/** The page never scrolls sideways; long contents scroll inside their box. */
export async function expectNoPageScroll(page: Page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll).toBeLessThanOrEqual(width);
}
