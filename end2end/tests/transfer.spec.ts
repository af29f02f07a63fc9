import { test, expect } from "@playwright/test";

const BUDGET = 300 * 1024;

// What a phone downloads on its first visit (HTML, JS, WASM, CSS; compressed by the server).
test("the first load transfers at most 300 KB", async ({ page, context }, testInfo) => {
  test.skip(testInfo.project.name !== "phone", "one browser is enough");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const urls = new Map<string, string>();
  const sizes = new Map<string, number>();
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  cdp.on("Network.loadingFinished", (e) => sizes.set(e.requestId, e.encodedDataLength));
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  const shell = [...sizes].filter(([id]) => /\/$|\.(html|js|wasm|css)$/.test(new URL(urls.get(id) ?? "http://x/").pathname));
  const total = shell.reduce((sum, [, size]) => sum + size, 0);
  const lines = shell.map(([id, size]) => `  ${new URL(urls.get(id)!).pathname} ${size} B`).join("\n");
  console.log(`first-load transfer: ${total} B (${(total / 1024).toFixed(1)} KB; ${((total / BUDGET) * 100).toFixed(0)}% of the 300 KB budget)\n${lines}`);
  await testInfo.attach("first-load-transfer", { body: `${total}\n${lines}`, contentType: "text/plain" });
  expect(shell.some(([id]) => urls.get(id)!.endsWith(".wasm"))).toBe(true);
  // The Markdown renderer is a module of its own, fetched once there is text to show.
  expect([...urls.values()].filter((url) => new URL(url).pathname.startsWith("/markdown/"))).toEqual([]);
  expect(total).toBeLessThanOrEqual(BUDGET);
});
