import { test, expect, chromium } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumLaunch } from "../playwright.config";

// Chromium reports installability only to a persistent context.
test("the app is installable with zero errors and its shell works offline", async ({ baseURL }, testInfo) => {
  test.skip(testInfo.project.name !== "phone", "one browser is enough");
  const profile = mkdtempSync(join(tmpdir(), "claude-remote-profile-"));
  const context = await chromium.launchPersistentContext(profile, { ...chromiumLaunch, baseURL });
  try {
    const page = await context.newPage();
    await page.goto("/");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active?.state === "activated");
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    expect(installabilityErrors).toEqual([]);
    const manifest = await cdp.send("Page.getAppManifest");
    expect(manifest.errors).toEqual([]);

    // Offline: the shell still opens (from the service worker) and says the server is out of reach.
    await page.reload(); // let the worker control the page
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByRole("status")).toContainText("Can't reach your machine");
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
