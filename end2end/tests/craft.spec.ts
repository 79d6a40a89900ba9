// The terminal as a person handles it: the clipboard, reloads, many tabs, a phone, pages
// that go wrong, and the bar around a terminal.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, openPod, pane, run, screen, status, token, watch } from "./support";

async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

// Selects the terminal row that reads exactly `text`, by dragging across it.
async function selectRow(page: Page, pod: string, text: string) {
  const row = screen(page, pod).locator(":scope > div", { hasText: new RegExp(`^${text}\\s*$`) }).first();
  const box = (await row.boundingBox())!;
  await page.mouse.move(box.x + 1, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

// Whether every `.pod-open` name that wraps does so right after a dash.
function podNamesBreakAtDashes(page: Page) {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const element of document.querySelectorAll(".pod-open")) {
      const text = element.firstChild;
      if (!(text instanceof Text)) continue;
      const range = document.createRange();
      let top: number | null = null;
      for (let i = 0; i < text.length; i++) {
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        const now = range.getBoundingClientRect().top;
        if (top !== null && now > top + 2 && text.data[i - 1] !== "-") bad.push(text.data);
        top = now;
      }
    }
    return bad;
  });
}

// The active tab lies within the tab strip's visible part.
const activeTabInView = (page: Page) =>
  page.evaluate(() => {
    const strip = document.querySelector(".tabs")!.getBoundingClientRect();
    const tab = document.querySelector(".tabs .tab.active")!.getBoundingClientRect();
    return tab.left >= strip.left - 1 && tab.right <= strip.right + 1;
  });

const violations: string[] = [];

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  // A reload with a live terminal asks first; these tests mean to reload.
  page.on("dialog", (dialog) => void dialog.accept());
  await page.goto(`/login?token=${token}`);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

test("the clipboard: Ctrl+Shift+C and Ctrl+Insert copy, Ctrl+Shift+V and Shift+Insert paste, Ctrl+C interrupts", async ({
  page,
  context,
  baseURL,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await visit(page, "/");
  await openPod(page, "toolbox");
  await run(page, "toolbox", "echo copy-me-$((40+2))");
  await expect(screen(page, "toolbox")).toContainText("copy-me-42");
  await selectRow(page, "toolbox", "copy-me-42");
  await page.keyboard.press("Control+Shift+C");
  await expect.poll(() => clipboard(page)).toBe("copy-me-42");

  // With text selected, Ctrl+C is still the shell's interrupt.
  await selectRow(page, "toolbox", "copy-me-42");
  await page.keyboard.type("sleep 100");
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+C");
  await page.keyboard.type("echo interrupted-$((1+1))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("interrupted-2");

  await page.evaluate(() => navigator.clipboard.writeText("echo pasted-$((3*5))"));
  await page.keyboard.press("Control+Shift+V");
  // The clipboard answers asynchronously: Enter once the line is in.
  await expect(screen(page, "toolbox")).toContainText("echo pasted-$((3*5))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("pasted-15");
  await page.evaluate(() => navigator.clipboard.writeText("echo inserted-$((2*4))"));
  await page.keyboard.press("Shift+Insert");
  await expect(screen(page, "toolbox")).toContainText("echo inserted-$((2*4))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("inserted-8");

  await selectRow(page, "toolbox", "pasted-15");
  await page.keyboard.press("Control+Insert");
  await expect.poll(() => clipboard(page)).toBe("pasted-15");
  // Nothing of the keys above reached the shell as text.
  await expect(screen(page, "toolbox")).not.toContainText("^V");
});
