import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { newSession, reply, send, signIn, snap, unique } from "./helpers";

test.describe("messages read like replies", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("the user's Markdown renders; a code block names its language and its Copy covers no code", async ({ page, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    const tag = unique("tag");
    await send(page, `Look at **this** ${tag}:\n\n\`\`\`rust\nfn main() { println!("a long line that runs to the right edge of the phone"); }\n\`\`\`\n\n> a quoted line`, isMobile);
    const mine = page.locator(".msg.user", { hasText: tag });
    await expect(mine.locator("strong")).toHaveText("this");
    await expect(mine.locator("blockquote")).toHaveText("a quoted line");
    const block = mine.locator(".code");
    await expect(block.locator(".lang")).toHaveText("rust");
    const copy = await block.getByRole("button", { name: "Copy" }).boundingBox();
    const code = await block.locator("pre").boundingBox();
    expect(copy && code && copy.y + copy.height <= code.y + 1, "Copy sits above the code, not over it").toBe(true);
    expect(copy && code && code.y - (copy.y + copy.height) < 2, "the bar is the code's top edge, no gap").toBe(true);
    await expect(reply(page, tag)).toBeVisible();
    await snap(page, testInfo, "markdown-user");
  });
});

const HIGHLIGHTER = /^\/vendor\/highlight\.js-[\d.]+\/highlight\.min\.js$/;

test.describe("code is coloured, URLs are links", () => {
  test("a reply's rust block is coloured, Copy still copies its plain text, and a bare URL is a link", async ({ page, context, isMobile }, testInfo) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await signIn(page);
    // Controlled by the service worker, so the highlighter fetched below is kept for offline use.
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await newSession(page);
    const tag = unique("colour");
    const code = 'fn main() {\n    let greeting = "a long line that runs past the right edge of a phone screen, and on";\n    println!("{greeting}"); // said\n}';
    await send(page, `${tag}: read https://example.com/docs?page=2.\n\n\`\`\`rust\n${code}\n\`\`\``, isMobile);
    const answer = reply(page, `Fake reply to: ${tag}`);
    const block = answer.locator(".code pre code");
    await expect(block.locator(".hljs-keyword").first()).toHaveText("fn");
    await expect(block.locator(".hljs-string").first()).toContainText("a long line");
    const colours = await block.evaluate((el) => ({
      plain: getComputedStyle(el).color,
      keyword: getComputedStyle(el.querySelector(".hljs-keyword")!).color,
      string: getComputedStyle(el.querySelector(".hljs-string")!).color,
    }));
    expect(colours.keyword, "a keyword is coloured").not.toBe(colours.plain);
    expect(colours.string, "a string is coloured, unlike a keyword").not.toBe(colours.keyword);

    const link = answer.getByRole("link", { name: "https://example.com/docs?page=2" });
    await expect(link).toHaveAttribute("href", "https://example.com/docs?page=2");
    await expect(link).toHaveAttribute("target", "_blank");
    await expect(link).toHaveAttribute("rel", "noopener noreferrer");
    await expect(link.locator("xpath=..")).toContainText("docs?page=2.");

    // A long line scrolls inside its block; the page itself does not scroll sideways.
    const pre = answer.locator(".code pre");
    expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    await answer.getByRole("button", { name: "Copy" }).click();
    await expect(answer.getByRole("button", { name: "Copied" })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${code}\n`);

    // Fetched on demand, not precached, and kept by the worker once fetched.
    expect(await (await page.request.get("/sw.js")).text()).not.toContain("/vendor/");
    await expect.poll(() => page.evaluate(async () => (await caches.keys()).length > 0 && (await caches.match(document.querySelector<HTMLScriptElement>("script[src^='/vendor/']")!.src)) !== undefined)).toBe(true);
    // Readable in the light theme and the dark one.
    await pre.scrollIntoViewIfNeeded();
    await snap(page, testInfo, "markdown-colours");
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      const axe = await new AxeBuilder({ page }).include(".code").analyze();
      expect(axe.violations, `${colorScheme}: ${JSON.stringify(axe.violations.map((v) => [v.id, v.nodes.length]))}`).toEqual([]);
    }
    await snap(page, testInfo, "markdown-colours-dark");
  });

  test("a first load without a code block in a known language never fetches the highlighter", async ({ page, context, isMobile }) => {
    const fetched: string[] = [];
    // The context sees the service worker's requests too.
    context.on("request", (request) => fetched.push(new URL(request.url()).pathname));
    await signIn(page);
    await newSession(page);
    const tag = unique("no colour");
    await send(page, `${tag} at https://example.com/x\n\n\`\`\`\nplain text, no language\n\`\`\`\n\n\`\`\`text\nstill plain\n\`\`\``, isMobile);
    const answer = reply(page, `Fake reply to: ${tag}`);
    await expect(answer.getByRole("link", { name: "https://example.com/x" })).toBeVisible();
    await expect(answer.locator(".code")).toHaveCount(2);
    await page.waitForLoadState("networkidle");
    expect(fetched.some((path) => path.endsWith(".wasm")), "the requests were seen").toBe(true);
    expect(fetched.filter((path) => HIGHLIGHTER.test(path))).toEqual([]);
    await expect(answer.locator("[class*='hljs']")).toHaveCount(0);
  });
});
