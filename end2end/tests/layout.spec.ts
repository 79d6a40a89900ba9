// The dashboard's keyboard and layout: shortcuts that leave the shell its keys, tabs
// renamed and reordered, two and four panes, the list of shortcuts, the pod list hidden, broadcast
// input, and the key bar of touch screens.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, openPod, pane, run, screen, status, token, watch } from "./support";

async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

// The rows of a terminal that read exactly `text`.
const rows = (page: Page, pod: string, text: string) =>
  screen(page, pod).locator(":scope > div", { hasText: new RegExp(`^${text}\\s*$`) });

const activeTab = (page: Page) => page.locator(".tab.active .tab-name");
const tabNames = (page: Page) => page.locator(".tab .tab-name");

// Rows and columns of a shell's terminal, as the shell's `stty` sees them.
async function size(page: Page, pod: string, mark: string): Promise<{ rows: number; cols: number }> {
  await run(page, pod, `echo ${mark}=$(stty size | tr ' ' x)`);
  const row = screen(page, pod).locator(":scope > div", { hasText: new RegExp(`^${mark}=\\d+x\\d+`) });
  await expect(row).toHaveCount(1);
  const [, rows, cols] = (await row.innerText()).match(/=(\d+)x(\d+)/)!;
  return { rows: Number(rows), cols: Number(cols) };
}

const columns = async (page: Page, pod: string, mark: string) => (await size(page, pod, mark)).cols;

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

test("shortcuts switch, move and close tabs; Ctrl+W and Ctrl+R stay the shell's", async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await openPod(page, "busybox");
  await expect(activeTab(page)).toHaveText("busybox/busybox");

  // From inside the terminal: the shortcut never reaches the shell.
  await page.keyboard.press("Alt+PageUp");
  await expect(activeTab(page)).toHaveText("toolbox/shell");
  await page.keyboard.press("Alt+PageDown");
  await expect(activeTab(page)).toHaveText("busybox/busybox");
  await page.keyboard.press("Alt+PageDown");
  await expect(activeTab(page)).toHaveText("toolbox/shell");
  // The browser's own tab keys, where they reach the page (here, headless; else an
  // installed app's window or full screen with Keyboard Lock).
  await page.keyboard.press("Control+PageDown");
  await expect(activeTab(page)).toHaveText("busybox/busybox");
  await page.keyboard.press("Control+PageUp");
  await expect(activeTab(page)).toHaveText("toolbox/shell");

  // Ctrl+W deletes the word before the cursor, Ctrl+R searches the history.
  await pane(page, "toolbox").locator(".terminal-host").click();
  await page.keyboard.type("echo abc def");
  await page.keyboard.press("Control+W");
  await page.keyboard.type("xyz");
  await page.keyboard.press("Enter");
  await expect(rows(page, "toolbox", "abc xyz")).toHaveCount(1);
  await run(page, "toolbox", "echo rev-$((2+3))");
  await expect(rows(page, "toolbox", "rev-5")).toHaveCount(1);
  await page.keyboard.press("Control+R");
  await page.keyboard.type("rev-");
  await expect(screen(page, "toolbox")).toContainText("reverse-i-search");
  await page.keyboard.press("Enter");
  await expect(rows(page, "toolbox", "rev-5")).toHaveCount(2);

  // Moving the active tab by keyboard.
  await page.keyboard.press("Alt+Shift+PageDown");
  await expect(tabNames(page)).toHaveText(["busybox/busybox", "toolbox/shell"]);
  await page.keyboard.press("Alt+Shift+PageUp");
  await expect(tabNames(page)).toHaveText(["toolbox/shell", "busybox/busybox"]);

  // Closing a live shell by keyboard still asks.
  await page.keyboard.press("Control+Shift+X");
  const ask = page.getByRole("alertdialog", { name: "End this shell?" });
  await expect(ask).toContainText("toolbox/shell");
  await ask.getByRole("button", { name: "End the shell" }).click();
  await expect(tabNames(page)).toHaveText(["busybox/busybox"]);
});

test("a tab renamed and dragged keeps its name and place after a reload", async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await openPod(page, "busybox");
  await page.locator(".tab", { hasText: "toolbox/shell" }).locator(".tab-title").dblclick();
  const field = page.getByLabel("New name for toolbox/shell");
  await expect(field).toBeFocused();
  await field.fill("build box");
  await field.press("Enter");
  await expect(tabNames(page)).toHaveText(["build box", "busybox/busybox"]);
  await expect(page).toHaveTitle("build box · podterm");

  // F2 on a tab renames it too; Esc keeps the old name.
  await page.locator(".tab", { hasText: "busybox/busybox" }).locator(".tab-title").focus();
  await page.keyboard.press("F2");
  await page.getByLabel("New name for busybox/busybox").fill("nope");
  await page.keyboard.press("Escape");
  await expect(tabNames(page)).toHaveText(["build box", "busybox/busybox"]);

  await page.locator(".tab", { hasText: "busybox/busybox" }).dragTo(page.locator(".tab", { hasText: "build box" }));
  await expect(tabNames(page)).toHaveText(["busybox/busybox", "build box"]);

  await page.reload();
  await hydrated(page);
  await expect(tabNames(page)).toHaveText(["busybox/busybox", "build box"]);
  await page.locator(".tab-title", { hasText: "build box" }).click();
  await expect(status(page, "toolbox")).toHaveText("Connected");
});

test("two panes: each shell answers in its own, both refit, and both come back after a reload", async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await visit(page, "/");
  await openPod(page, "toolbox");
  const wide = await columns(page, "toolbox", "before");
  await openPod(page, "busybox");
  await page.getByRole("button", { name: "Two panes side by side" }).click();
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(2);
  await expect(status(page, "toolbox")).toHaveText("Connected");
  await expect(status(page, "busybox")).toHaveText("Connected");
  // The shell learns its pane's size.
  await expect.poll(() => columns(page, "toolbox", `split${Date.now() % 1000}`)).toBeLessThan(wide * 0.6);

  await run(page, "toolbox", "M=left");
  await run(page, "busybox", "M=right");
  await run(page, "toolbox", "echo in-$M");
  await run(page, "busybox", "echo in-$M");
  await expect(rows(page, "toolbox", "in-left")).toHaveCount(1);
  await expect(rows(page, "busybox", "in-right")).toHaveCount(1);
  await expect(rows(page, "toolbox", "in-right")).toHaveCount(0);
  // The pane with the keyboard is the one typed into, and its tab is the active one.
  await expect(page.locator(".tab-panel.focused .terminal-pane")).toHaveAttribute("data-pod", "busybox");
  await expect(activeTab(page)).toHaveText("busybox/busybox");
  // The shortcut moves the keyboard to the next pane, round the end.
  await page.keyboard.press("Alt+Shift+ArrowRight");
  await expect(page.locator(".tab-panel.focused .terminal-pane")).toHaveAttribute("data-pod", "toolbox");
  await page.keyboard.type("echo next-$M");
  await page.keyboard.press("Enter");
  await expect(rows(page, "toolbox", "next-left")).toHaveCount(1);
  // Full screen: the pane with the keyboard, its terminal refitted.
  await page.getByRole("button", { name: "Show the pane with the keyboard full screen" }).click();
  await expect
    .poll(() => page.evaluate(() => document.fullscreenElement?.querySelector(".terminal-pane")?.getAttribute("data-pod")))
    .toBe("toolbox");
  await page.evaluate(() => document.exitFullscreen());
  await expect.poll(() => page.evaluate(() => document.fullscreenElement)).toBeNull();

  await page.reload();
  await hydrated(page);
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(2);
  await expect(page.getByRole("button", { name: "Two panes side by side" })).toHaveAttribute("aria-pressed", "true");
  for (const [pod, mark] of [
    ["toolbox", "left"],
    ["busybox", "right"],
  ]) {
    await expect(status(page, pod)).toHaveText("Connected");
    await run(page, pod, "echo again-$M");
    await expect(rows(page, pod, `again-${mark}`)).toHaveCount(1);
  }
  await page.getByRole("button", { name: "One pane" }).click();
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(1);
});

test("four panes: two shells and two logs at once, each shell its own size, all back after a reload", async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await visit(page, "/?namespace=shop");
  const [first, second] = ["web-7d4b9c6f5-abcde", "web-7d4b9c6f5-fghij"];
  await openPod(page, first);
  const whole = await size(page, first, "whole");
  await openPod(page, second);
  for (const pod of [first, second]) {
    await page.locator(`tr[data-pod="${pod}"] [data-logs="log-shipper"]`).click();
  }
  await page.getByRole("button", { name: "Four panes" }).click();
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(4);
  const logs = page.locator(".tab-panel:not(.hidden) .log-pane");
  await expect(logs).toHaveCount(2);
  for (const log of await logs.all()) {
    await expect(log.locator(".log-lines .line", { hasText: "shipped batch" }).first()).toBeVisible();
  }
  // Each shell learns its quarter of the view.
  for (const pod of [first, second]) {
    await expect(status(page, pod)).toHaveText("Connected");
    await expect
      .poll(async () => {
        const quarter = await size(page, pod, `quarter${Date.now() % 1000}`);
        return quarter.cols < whole.cols * 0.6 && quarter.rows < whole.rows * 0.6;
      })
      .toBe(true);
  }
  await run(page, first, "M=one");
  await run(page, second, "M=two");
  await run(page, first, "echo in-$M");
  await run(page, second, "echo in-$M");
  await expect(rows(page, first, "in-one")).toHaveCount(1);
  await expect(rows(page, second, "in-two")).toHaveCount(1);
  await expect(rows(page, first, "in-two")).toHaveCount(0);

  await page.reload();
  await hydrated(page);
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(4);
  await expect(page.getByRole("button", { name: "Four panes" })).toHaveAttribute("aria-pressed", "true");
  for (const [pod, mark] of [
    [first, "one"],
    [second, "two"],
  ]) {
    await expect(status(page, pod)).toHaveText("Connected");
    await run(page, pod, "echo again-$M");
    await expect(rows(page, pod, `again-${mark}`)).toHaveCount(1);
  }
  await expect(logs).toHaveCount(2);
});

test("the ? list names every shortcut, closes with Esc, and gives a shortcut new keys", async ({ page }) => {
  await visit(page, "/");
  const list = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await page.locator("body").press("?");
  await expect(list).toBeVisible();
  for (const [words, keys] of [
    ["Show the previous tab", "Alt+PageUp"],
    ["Show the next tab", "Alt+PageDown"],
    ["Move the tab left", "Alt+Shift+PageUp"],
    ["Close the tab", "Ctrl+Shift+X"],
    ["List the shortcuts", "Ctrl+Shift+/"],
    ["Rename that tab", "F2"],
    ["Copy the terminal's selection", "Ctrl+Shift+C, Ctrl+Insert"],
    ["Paste into the terminal", "Ctrl+Shift+V, Shift+Insert"],
    ["Search the terminal's output", "Ctrl+Shift+F"],
  ]) {
    await expect(list.locator("tr", { hasText: words }).first()).toContainText(keys);
  }
  await page.keyboard.press("Escape");
  await expect(list).toHaveCount(0);

  // In a terminal, ? is the shell's; Ctrl+Shift+/ opens the list.
  await openPod(page, "toolbox");
  await page.keyboard.type("echo what?");
  await expect(list).toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(rows(page, "toolbox", "what\\?")).toHaveCount(1);
  await page.keyboard.press("Control+Shift+Slash");
  await expect(list).toBeVisible();
  await expect(list.getByRole("button", { name: "Close the list of shortcuts" })).toBeFocused();
  // Esc gives the keyboard back to the terminal.
  await page.keyboard.press("Escape");
  await expect(list).toHaveCount(0);
  await page.keyboard.type("echo back-$((1+1))");
  await page.keyboard.press("Enter");
  await expect(rows(page, "toolbox", "back-2")).toHaveCount(1);
  await page.keyboard.press("Control+Shift+Slash");

  await list.getByRole("button", { name: "Change the keys of: Show the next tab" }).click();
  await page.keyboard.press("Control+Shift+K");
  await expect(list.locator("tr", { hasText: "Show the next tab" })).toContainText("Ctrl+Shift+K");
  await page.keyboard.press("Escape");
  await page.reload();
  await hydrated(page);
  await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
  await expect(list.locator("tr", { hasText: "Show the next tab" })).toContainText("Ctrl+Shift+K");
  await list.getByRole("button", { name: "Back to the defaults" }).click();
  await expect(list.locator("tr", { hasText: "Show the next tab" })).toContainText("Alt+PageDown");
  await list.getByRole("button", { name: "Close the list of shortcuts" }).click();
  await expect(list).toHaveCount(0);
});

test("the pod list hides and stays hidden; screen-reader mode and visible focus", async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  const host = pane(page, "toolbox").locator(".terminal-host");
  const before = (await host.boundingBox())!.width;
  await page.getByRole("button", { name: "Hide the pod list" }).click();
  await expect(page.locator(".sidebar")).toBeHidden();
  await expect.poll(async () => (await host.boundingBox())!.width).toBeGreaterThan(before * 1.2);

  const reader = page.getByRole("button", { name: "Screen reader" });
  await reader.click();
  await expect(reader).toHaveAttribute("aria-pressed", "true");
  await expect(pane(page, "toolbox").locator(".xterm-accessibility-tree")).toHaveCount(1);

  await page.reload();
  await hydrated(page);
  await expect(page.locator(".sidebar")).toBeHidden();
  await expect(reader).toHaveAttribute("aria-pressed", "true");
  await expect(status(page, "toolbox")).toHaveText("Connected");
  await expect(pane(page, "toolbox").locator(".xterm-accessibility-tree")).toHaveCount(1);

  // The keyboard's place shows.
  await page.getByRole("button", { name: "Show the pod list" }).focus();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).toBe("solid");
  await page.keyboard.press("Enter");
  await expect(page.locator(".sidebar")).toBeVisible();
  await reader.click();
  await expect(reader).toHaveAttribute("aria-pressed", "false");
});

test("broadcast input: typed once into every marked terminal, shown while on, off by default", async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await visit(page, "/");
  await openPod(page, "toolbox");
  await openPod(page, "busybox");
  await page.getByRole("button", { name: "Two panes side by side" }).click();
  const bar = page.locator(".broadcast-bar");
  await expect(bar).toHaveCount(0);
  const mark = (pod: string) => pane(page, pod).getByRole("button", { name: "Broadcast" });
  await expect(mark("toolbox")).toHaveAttribute("aria-pressed", "false");
  await mark("toolbox").click();
  await expect(bar).toContainText("mark another terminal");
  await mark("busybox").click();
  await expect(bar).toContainText("Broadcast on: what you type into one of these 2 terminals goes to all of them");
  await expect(page.locator(".terminal-pane.broadcasting")).toHaveCount(2);

  await run(page, "toolbox", "echo both-$((2+2))");
  await expect(rows(page, "toolbox", "both-4")).toHaveCount(1);
  await expect(rows(page, "busybox", "both-4")).toHaveCount(1);

  await bar.getByRole("button", { name: "Stop broadcasting" }).click();
  await expect(bar).toHaveCount(0);
  await run(page, "toolbox", "echo solo-$((1+1))");
  await expect(rows(page, "toolbox", "solo-2")).toHaveCount(1);
  await run(page, "busybox", "echo other-$((1+2))");
  await expect(rows(page, "busybox", "other-3")).toHaveCount(1);
  await expect(rows(page, "busybox", "solo-2")).toHaveCount(0);
});

test.describe("on a touch phone", () => {
  test.use({ hasTouch: true, isMobile: true, viewport: { width: 390, height: 844 } });

  test("the key bar sends Ctrl+C and the arrows to the shell", async ({ page }) => {
    await visit(page, "/terminal?namespace=default&pod=toolbox&container=shell");
    await expect(page.getByTestId("session-status")).toHaveText("Connected");
    const bar = page.getByRole("toolbar", { name: "Keys for touch screens" });
    await expect(bar).toBeVisible();
    const rowsHere = (text: string) =>
      page.locator(".xterm-rows > div", { hasText: new RegExp(`^${text}\\s*$`) });
    await page.locator(".terminal-host").tap();
    await page.keyboard.type("sleep 100");
    await page.keyboard.press("Enter");
    await page.waitForTimeout(300);
    // Ctrl held for the next key typed.
    await bar.getByRole("button", { name: "Control, for the next key" }).tap();
    await expect(bar.getByRole("button", { name: "Control, for the next key" })).toHaveAttribute("aria-pressed", "true");
    await page.keyboard.type("c");
    await expect(bar.getByRole("button", { name: "Control, for the next key" })).toHaveAttribute("aria-pressed", "false");
    await page.keyboard.type("echo after-$((6*7))");
    await page.keyboard.press("Enter");
    await expect(rowsHere("after-42")).toHaveCount(1);
    // Up recalls it, Left and Right move in it.
    await bar.getByRole("button", { name: "Up arrow" }).tap();
    await bar.getByRole("button", { name: "Left arrow" }).tap();
    await bar.getByRole("button", { name: "Left arrow" }).tap();
    await page.keyboard.type("0");
    await bar.getByRole("button", { name: "Right arrow" }).tap();
    await page.keyboard.press("Enter");
    await expect(rowsHere("after-420")).toHaveCount(1);
    // The keys leave the keyboard in the terminal.
    await expect(page.locator(".terminal-host textarea")).toBeFocused();
  });
});
