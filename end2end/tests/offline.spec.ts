import { test, expect, type Page } from "@playwright/test";
import { newSession, send, signIn, snap, unique } from "./helpers";

/** The aria-label of the button at the centre of the one named `name`: itself, unless covered. */
async function buttonAtCentreOf(page: Page, name: string): Promise<string | null | undefined> {
  const box = await page.getByRole("button", { name, exact: true }).boundingBox();
  if (!box) return null;
  return page.evaluate(
    ([x, y]) => document.elementFromPoint(x, y)?.closest("button")?.getAttribute("aria-label"),
    [box.x + box.width / 2, box.y + box.height / 2],
  );
}

test.describe("when the machine cannot be reached", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("the notice leaves the header usable and clears by itself once the machine answers", async ({ page, context, isMobile }, testInfo) => {
    await signIn(page);
    await newSession(page);
    await context.setOffline(true);
    await send(page, unique("sent while offline"), isMobile);
    const notice = page.locator(".offline");
    await expect(notice).toBeVisible();
    for (const name of ["Sessions", "New session"]) {
      expect(await buttonAtCentreOf(page, name), `${name} is not covered`).toBe(name);
    }
    await snap(page, testInfo, "offline");
    // Back online: no tap on Retry, no task being followed; the notice goes by itself.
    await context.setOffline(false);
    await expect(notice).toHaveCount(0);
  });
});
