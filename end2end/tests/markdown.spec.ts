import { test, expect } from "@playwright/test";
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
