// A Mac's key conventions, simulated in Chromium: the page reads a Mac's navigator.platform,
// and Cmd keys come with the editing commands Chromium on a Mac attaches to them (as
// Playwright does on a Mac host): Cmd+C copies, Cmd+V pastes through the browser's own
// paste, Cmd+F searches, Ctrl+C interrupts.
import { expect, test, type Page } from "@playwright/test";
import { clipboard, hydrated, openPod, pane, run, screen, setClipboard, token, watch } from "./support";

const violations: string[] = [];

test.beforeEach(async ({ page, context, baseURL }) => {
  watch(page, violations);
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "platform", { get: () => "MacIntel" });
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await page.goto(`/login?token=${token}`);
  await hydrated(page);
  await openPod(page, "toolbox");
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

const rows = (page: Page, text: string) =>
  screen(page, "toolbox").locator(":scope > div", { hasText: new RegExp(`^${text.replace(/[$()*+]/g, "\\$&")}\\s*$`) });

// Cmd with a letter as Chromium on a Mac sends it: the key event and its editing command.
async function cmd(page: Page, letter: string, command?: "copy" | "paste") {
  const cdp = await page.context().newCDPSession(page);
  const key = {
    modifiers: 4, // Meta
    key: letter,
    code: `Key${letter.toUpperCase()}`,
    windowsVirtualKeyCode: letter.toUpperCase().charCodeAt(0),
  };
  await cdp.send("Input.dispatchKeyEvent", { type: "rawKeyDown", ...key, commands: command ? [command] : [] });
  await cdp.send("Input.dispatchKeyEvent", { type: "keyUp", ...key });
  await cdp.detach();
}

// Selects the terminal row that reads exactly `text`, by dragging across it.
async function selectRow(page: Page, text: string) {
  const box = (await rows(page, text).first().boundingBox())!;
  await page.mouse.move(box.x + 1, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

test("on a Mac, Cmd+C copies, Cmd+V pastes once (asking first for several lines), Cmd+F searches, Ctrl+C interrupts", async ({
  page,
}) => {
  expect(await page.evaluate(() => navigator.platform)).toBe("MacIntel");
  await run(page, "toolbox", "echo cmd-copy-$((40+2))");
  await expect(rows(page, "cmd-copy-42")).toHaveCount(1);
  await selectRow(page, "cmd-copy-42");
  await cmd(page, "c", "copy");
  await expect.poll(() => clipboard(page)).toBe("cmd-copy-42");

  await setClipboard(page, "echo cmd-pasted-$((3*5))");
  await cmd(page, "v", "paste");
  await expect(screen(page, "toolbox")).toContainText("echo cmd-pasted-$((3*5))");
  await page.keyboard.press("Enter");
  // Exactly once: a second paste would run `echo cmd-pasted-15echo …`.
  await expect(rows(page, "cmd-pasted-15")).toHaveCount(1);

  await setClipboard(page, "echo one-$((1+1))\necho two-$((2+2))\n");
  await cmd(page, "v", "paste");
  const ask = page.getByRole("alertdialog", { name: "Paste 2 lines?" });
  await ask.getByRole("button", { name: "Paste" }).click();
  await expect(screen(page, "toolbox")).toContainText("echo two-$((2+2))");
  await page.keyboard.press("Enter");
  await expect(rows(page, "two-4")).toHaveCount(1);

  await cmd(page, "f");
  const field = page.getByRole("searchbox", { name: "Find in the terminal" });
  await expect(field).toBeFocused();
  await field.fill("cmd-pasted");
  await expect(page.getByTestId("search-count")).toHaveText(/ of 2$/);
  await field.press("Escape");

  // The menu and the list of shortcuts name a Mac's keys.
  await pane(page, "toolbox").locator(".terminal-host").click({ button: "right" });
  const menu = page.getByRole("menu", { name: "Terminal" });
  await expect(menu.getByRole("menuitem", { name: /^Copy/ })).toContainText("Cmd+C");
  await expect(menu.getByRole("menuitem", { name: /^Paste/ })).toContainText("Cmd+V");
  await expect(menu.getByRole("menuitem", { name: /^Search/ })).toContainText("Cmd+F");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Shift+Slash");
  const list = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  for (const [words, keys] of [
    ["Copy the terminal's selection", "Cmd+C, Ctrl+Shift+C"],
    ["Paste into the terminal", "Cmd+V, Ctrl+Shift+V"],
    ["Search the terminal's output", "Cmd+F, Ctrl+Shift+F"],
  ]) {
    await expect(list.locator("tr", { hasText: words })).toContainText(keys);
  }
  await page.keyboard.press("Escape");

  // Ctrl+C is the shell's interrupt on a Mac too, selection or not.
  await selectRow(page, "two-4");
  await page.keyboard.type("sleep 100");
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+C");
  await run(page, "toolbox", "echo interrupted-$((1+1))");
  await expect(rows(page, "interrupted-2")).toHaveCount(1);
});
