// The terminal's own feel: searching the scrollback, podterm's context menu, OSC 52, the
// question before a multi-line paste, and the settings a person keeps.
import { expect, test, type Page } from "@playwright/test";
import { clipboard, hydrated, openPod, pane, run, screen, setClipboard, status, token, watch } from "./support";

const violations: string[] = [];

test.beforeEach(async ({ page, context, baseURL }) => {
  watch(page, violations);
  // A reload with a live terminal asks first; these tests mean to reload.
  page.on("dialog", (dialog) => void dialog.accept());
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await page.goto(`/login?token=${token}`);
  await page.goto("/");
  await hydrated(page);
  await openPod(page, "toolbox");
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

const host = (page: Page) => pane(page, "toolbox").locator(".terminal-host");
// Keys go to the shell: xterm.js's hidden field has the focus.
const terminalFocused = (page: Page) =>
  page.evaluate(() => document.activeElement?.classList.contains("xterm-helper-textarea") ?? false);

// How many places in the terminal are highlighted as matches.
const highlighted = (page: Page) =>
  host(page)
    .locator(".xterm-find-result-decoration")
    .evaluateAll((found) => new Set(found.map((e) => `${e.style.top},${e.style.left}`)).size);

// Selects the terminal row that reads exactly `text`, by dragging across it.
async function selectRow(page: Page, text: string) {
  const row = screen(page, "toolbox").locator(":scope > div", { hasText: new RegExp(`^${text}\\s*$`) }).first();
  const box = (await row.boundingBox())!;
  await page.mouse.move(box.x + 1, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

// The rows and columns the shell's terminal has, as `stty size` says them.
async function sttySize(page: Page, mark: string, pod = "toolbox") {
  await run(page, pod, `echo ${mark}=$(stty size | tr ' ' x)`);
  const found = screen(page, pod).getByText(new RegExp(`^${mark}=\\d+x\\d+`));
  await expect(found).toHaveCount(1);
  const [rows, cols] = (await found.textContent())!.trim().split("=")[1].split("x").map(Number);
  return { rows, cols };
}

test("search finds, counts and highlights every match, follows streaming output, and Esc gives the keys back", async ({
  page,
}) => {
  // `ne""edle` keeps the command line itself out of the matches.
  await run(page, "toolbox", 'for i in 1 2 3 4 5; do echo ne""edle-$i; done');
  await expect(screen(page, "toolbox")).toContainText("needle-5");
  await page.keyboard.press("Control+Shift+F");
  const bar = page.getByRole("search", { name: "Search the terminal" });
  const field = bar.getByRole("searchbox", { name: "Find in the terminal" });
  await expect(field).toBeFocused();
  const count = bar.getByTestId("search-count");
  await field.fill("NEEDLE");
  await expect(count).toHaveText(/^[1-5] of 5$/);
  // Every match highlighted (the current one has a second highlight of its own).
  await expect.poll(() => highlighted(page)).toBe(5);
  const first = await count.textContent();
  await field.press("Enter");
  await expect(count).not.toHaveText(first!);
  await field.press("Shift+Enter");
  await expect(count).toHaveText(first!);

  await bar.getByRole("button", { name: "Match case" }).click();
  await expect(count).toHaveText("No matches");
  await expect.poll(() => highlighted(page)).toBe(0);
  await bar.getByRole("button", { name: "Match case" }).click();
  await bar.getByRole("button", { name: "Regular expression" }).click();
  await field.fill("needle-[24]$");
  await expect(count).toHaveText(/^[12] of 2$/);
  await field.fill("needle-[");
  await expect(count).toHaveText("Not a valid pattern");

  // Output that arrives while the bar is open is counted as it comes.
  await field.fill("needle-x");
  await expect(count).toHaveText("No matches");
  await run(page, "toolbox", 'for i in 1 2 3 4 5 6; do echo ne""edle-x$i; sleep 0.3; done; echo stream-done');
  await expect(count).toHaveText(/^\d+ of [1-5]$|^[1-5] matches$/);
  await expect(screen(page, "toolbox")).toContainText("stream-done");
  await expect(count).toHaveText(/ 6$|^6 matches$/);

  // The button opens it again with the field focused; Esc closes and the shell has the keys.
  await field.press("Escape");
  await expect(bar).toHaveCount(0);
  expect(await terminalFocused(page)).toBe(true);
  await pane(page, "toolbox").getByRole("button", { name: "Search the terminal" }).click();
  await expect(field).toBeFocused();
  await field.press("Escape");
  await expect(bar).toHaveCount(0);
  await page.keyboard.type("echo keys-$((2*21))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("keys-42");
});

test("podterm's context menu copies, pastes, searches and clears; a middle click pastes", async ({ page }) => {
  await run(page, "toolbox", "echo menu-$((6*7))");
  await expect(screen(page, "toolbox")).toContainText("menu-42");
  await selectRow(page, "menu-42");
  const menu = page.getByRole("menu", { name: "Terminal" });
  await host(page).click({ button: "right" });
  await expect(menu.getByRole("menuitem", { name: /Copy/ })).toBeFocused();
  await menu.getByRole("menuitem", { name: /Copy/ }).click();
  await expect(menu).toHaveCount(0);
  await expect.poll(() => clipboard(page)).toBe("menu-42");

  // Nothing selected: Copy is there but cannot be used; Esc closes the menu.
  await host(page).click();
  await host(page).click({ button: "right" });
  await expect(menu.getByRole("menuitem", { name: /Copy/ })).toBeDisabled();
  await page.keyboard.press("Escape");
  await expect(menu).toHaveCount(0);
  expect(await terminalFocused(page)).toBe(true);

  await setClipboard(page, "echo from-menu-$((2+3))");
  await host(page).click({ button: "right" });
  await menu.getByRole("menuitem", { name: /Paste/ }).click();
  await expect(screen(page, "toolbox")).toContainText("echo from-menu-$((2+3))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("from-menu-5");

  await setClipboard(page, "echo middle-$((1+1))");
  await host(page).click({ button: "middle" });
  await expect(screen(page, "toolbox")).toContainText("echo middle-$((1+1))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("middle-2");

  await host(page).click({ button: "right" });
  await menu.getByRole("menuitem", { name: /Search/ }).click();
  await expect(page.getByRole("searchbox", { name: "Find in the terminal" })).toBeFocused();
  await page.keyboard.press("Escape");

  await host(page).click({ button: "right" });
  await menu.getByRole("menuitem", { name: "Clear" }).click();
  await expect(screen(page, "toolbox")).not.toContainText("menu-42");
  await expect(screen(page, "toolbox")).not.toContainText("middle-2");
});

test("OSC 52 from a program writes the clipboard, a read query gets no answer, and the setting turns it off", async ({
  page,
}) => {
  // OSC 52 is heard once the module loaded after the first prompt is in.
  await expect(host(page)).toHaveAttribute("data-extras", "ready");
  await run(page, "toolbox", "printf '\\033]52;c;%s\\a' $(printf hi | base64)");
  await expect.poll(() => clipboard(page)).toBe("hi");

  // A query: the answer would be typed into the pod, for `read` to find (its length is
  // shown: the answer itself would be an OSC 52 again, invisible).
  await run(page, "toolbox", "printf '\\033]52;c;?\\a'; read -rs -t 1 -N 64 reply; echo \"reply-length=${#reply}.\"");
  await expect(screen(page, "toolbox")).toContainText("reply-length=0.");

  await pane(page, "toolbox").getByRole("button", { name: "Terminal settings" }).click();
  const settings = page.getByRole("dialog", { name: "Terminal settings" });
  await settings.getByLabel(/Let programs in the pod copy/).uncheck();
  await settings.getByRole("button", { name: "Done" }).click();
  await expect(settings).toHaveCount(0);
  await setClipboard(page, "before");
  await run(page, "toolbox", "printf '\\033]52;c;%s\\a' $(printf off | base64); echo osc-$((5*5))");
  await expect(screen(page, "toolbox")).toContainText("osc-25");
  await page.waitForTimeout(200);
  expect(await clipboard(page)).toBe("before");
});

test("OSC 52 heard before the late part is in reaches the clipboard once it is", async ({ page }) => {
  // The late part is held back across a reload, so the terminal comes back without it.
  const held: Array<() => Promise<void>> = [];
  await page.route("**/js/terminal-extras.mjs", (route) => void held.push(() => route.continue()));
  await page.reload();
  await hydrated(page);
  await expect(status(page, "toolbox")).toHaveText("Connected");
  await setClipboard(page, "before");
  await run(page, "toolbox", "printf '\\033]52;c;%s\\a' $(printf early | base64); echo sent-$((6*7))");
  await expect(screen(page, "toolbox")).toContainText("sent-42");
  await expect.poll(() => held.length).toBeGreaterThan(0);
  await expect(host(page)).not.toHaveAttribute("data-extras", "ready");
  expect(await clipboard(page)).toBe("before");
  for (const release of held.splice(0)) await release();
  await expect(host(page)).toHaveAttribute("data-extras", "ready");
  await expect.poll(() => clipboard(page)).toBe("early");
});

test("a paste of several lines asks first; Cancel sends nothing, Paste sends it, bracketed when the program asks", async ({
  page,
}) => {
  await setClipboard(page, "echo one-$((1+1))\necho two-$((2+2))\n");
  await host(page).click();
  await page.keyboard.press("Control+Shift+V");
  const ask = page.getByRole("alertdialog", { name: "Paste 2 lines?" });
  await expect(ask).toContainText("echo two-$((2+2))");
  await expect(ask.getByRole("button", { name: "Paste" })).toBeFocused();
  await ask.getByRole("button", { name: "Cancel" }).click();
  await expect(ask).toHaveCount(0);
  expect(await terminalFocused(page)).toBe(true);
  await page.keyboard.press("Enter");
  await run(page, "toolbox", "echo cancelled-$((3+3))");
  await expect(screen(page, "toolbox")).toContainText("cancelled-6");
  await expect(screen(page, "toolbox")).not.toContainText("one-2");

  await page.keyboard.press("Control+Shift+V");
  await ask.getByRole("button", { name: "Paste" }).click();
  await expect(ask).toHaveCount(0);
  await expect(screen(page, "toolbox")).toContainText("echo two-$((2+2))");
  // The shell may hold a bracketed paste until Enter.
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("two-4");

  // A program that asks for bracketed paste gets the paste between its markers.
  await run(page, "toolbox", "printf '\\033[?2004h'; cat -v");
  await setClipboard(page, "marked");
  await page.keyboard.press("Control+Shift+V");
  await expect(screen(page, "toolbox")).toContainText("^[[200~marked^[[201~");
  await page.keyboard.press("Control+C");
});

test("every setting survives a reload, a bigger font means fewer rows and columns for the shell", async ({ page }) => {
  const before = await sttySize(page, "before");
  const fontSize = () =>
    host(page).locator(".xterm-rows").evaluate((rows) => getComputedStyle(rows).fontSize);
  await pane(page, "toolbox").getByRole("button", { name: "Terminal settings" }).click();
  const settings = page.getByRole("dialog", { name: "Terminal settings" });
  const size = settings.getByLabel("Font size");
  await expect(size).toBeFocused();
  await size.fill("99");
  await size.blur();
  await expect(settings.getByRole("alert")).toHaveText("The font size is a whole number from 8 to 32.");
  await expect(size).toHaveValue("14");
  await size.fill("20");
  await size.blur();
  await expect(settings.getByRole("alert")).toHaveCount(0);
  await settings.getByLabel("Font", { exact: true }).selectOption("noto-sans-mono");
  await settings.getByLabel("Line height").selectOption("1.3");
  await settings.getByLabel("Theme").selectOption("light");
  await settings.getByLabel("Cursor").selectOption("underline");
  await settings.getByLabel("Scrollback, lines").fill("5000");
  await settings.getByLabel("Scrollback, lines").blur();
  await settings.getByLabel("Copy text as it is selected").check();
  await settings.getByLabel("Ask before pasting several lines").uncheck();
  await settings.getByLabel(/Let programs in the pod copy/).uncheck();
  await page.keyboard.press("Escape");
  await expect(settings).toHaveCount(0);
  expect(await terminalFocused(page)).toBe(true);
  await expect.poll(fontSize).toBe("20px");
  const after = await sttySize(page, "after");
  expect(after.rows).toBeLessThan(before.rows);
  expect(after.cols).toBeLessThan(before.cols);

  await page.reload();
  await hydrated(page);
  await expect(status(page, "toolbox")).toHaveText("Connected");
  await expect.poll(fontSize).toBe("20px");
  await expect(host(page)).toHaveCSS("background-color", "rgb(251, 251, 251)");
  await pane(page, "toolbox").getByRole("button", { name: "Terminal settings" }).click();
  await expect(settings.getByLabel("Font size")).toHaveValue("20");
  await expect(settings.getByLabel("Font", { exact: true })).toHaveValue("noto-sans-mono");
  await expect(settings.getByLabel("Line height")).toHaveValue("1.3");
  await expect(settings.getByLabel("Theme")).toHaveValue("light");
  await expect(settings.getByLabel("Cursor")).toHaveValue("underline");
  await expect(settings.getByLabel("Scrollback, lines")).toHaveValue("5000");
  await expect(settings.getByLabel("Copy text as it is selected")).toBeChecked();
  await expect(settings.getByLabel("Ask before pasting several lines")).not.toBeChecked();
  await expect(settings.getByLabel(/Let programs in the pod copy/)).not.toBeChecked();
  await settings.getByRole("button", { name: "Done" }).click();

  // Copy on select, and no question before a multi-line paste.
  await run(page, "toolbox", "echo selected-$((4*4))");
  await expect(screen(page, "toolbox")).toContainText("selected-16");
  await selectRow(page, "selected-16");
  await expect.poll(() => clipboard(page)).toBe("selected-16");
  await setClipboard(page, "echo p-$((1+2))\necho q-$((2+2))\n");
  await host(page).click();
  await page.keyboard.press("Control+Shift+V");
  await expect(screen(page, "toolbox")).toContainText("echo q-$((2+2))");
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("q-4");

  // Ctrl+= and Ctrl+- step the font, Ctrl+0 puts it back; the shell hears the new size.
  await page.keyboard.press("Control+=");
  await expect.poll(fontSize).toBe("21px");
  await page.keyboard.press("Control+-");
  await page.keyboard.press("Control+-");
  await expect.poll(fontSize).toBe("19px");
  await page.keyboard.press("Control+0");
  await expect.poll(fontSize).toBe("14px");
  await page.keyboard.press("Control+u");
  const reset = await sttySize(page, "reset");
  expect(reset.cols).toBeGreaterThan(after.cols);

  // "Follow the system" follows it while the page is open.
  await pane(page, "toolbox").getByRole("button", { name: "Terminal settings" }).click();
  await settings.getByLabel("Theme").selectOption("system");
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(host(page)).toHaveCSS("background-color", "rgb(30, 30, 30)");
  await page.emulateMedia({ colorScheme: "light" });
  await expect(host(page)).toHaveCSS("background-color", "rgb(251, 251, 251)");
});

test("a setting changed in one terminal applies to every open one, and each shell learns its new size", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await openPod(page, "busybox");
  await page.getByRole("button", { name: "Two panes side by side" }).click();
  await expect(page.locator(".tab-panel:not(.hidden)")).toHaveCount(2);
  const pods = ["toolbox", "busybox"];
  const before = [await sttySize(page, "before", pods[0]), await sttySize(page, "before", pods[1])];
  const fontSize = (pod: string) =>
    pane(page, pod).locator(".xterm-rows").evaluate((rows) => getComputedStyle(rows).fontSize);

  await pane(page, "busybox").getByRole("button", { name: "Terminal settings" }).click();
  const settings = page.getByRole("dialog", { name: "Terminal settings" });
  await settings.getByLabel("Font size").fill("20");
  await settings.getByLabel("Font size").blur();
  await settings.getByRole("button", { name: "Done" }).click();
  for (const [i, pod] of pods.entries()) {
    await expect.poll(() => fontSize(pod)).toBe("20px");
    const after = await sttySize(page, "after", pod);
    expect(after.cols).toBeLessThan(before[i].cols);
    expect(after.rows).toBeLessThan(before[i].rows);
  }
});

test("a flood reaches xterm.js in batches at least 80 ms apart, all of it, and an echo after it on its own", async ({
  page,
}) => {
  // Every write the bridge hands to xterm.js: when, and how many bytes.
  await host(page).evaluate((element) => {
    type Written = Uint8Array | string;
    type Xterm = { write(data: Written, callback?: () => void): void };
    const bridge = (globalThis as { podtermXterm?: { terminalOf(e: Element): Xterm } }).podtermXterm!;
    const terminal = bridge.terminalOf(element);
    const writes: [number, number][] = [];
    (globalThis as { writes?: [number, number][] }).writes = writes;
    const write = terminal.write.bind(terminal);
    terminal.write = (data: Written, callback?: () => void) => {
      writes.push([performance.now(), data.length]);
      write(data, callback);
    };
  });
  const writes = () => page.evaluate(() => (globalThis as { writes?: [number, number][] }).writes!.splice(0));
  // About 7 MB, several flow-control windows.
  await run(page, "toolbox", "seq 1 1000000; echo fini''shed");
  await expect(screen(page, "toolbox")).toContainText(/999999\s*1000000\s*finished/, { timeout: 30_000 });
  const flood = await writes();
  const big = flood.filter(([, bytes]) => bytes >= 32 * 1024).length;
  expect(big).toBeGreaterThan(5);
  for (let i = 1; i < flood.length; i++) {
    if (flood[i - 1][1] >= 32 * 1024) expect(flood[i][0] - flood[i - 1][0]).toBeGreaterThanOrEqual(79);
  }

  // After the flood, an echo is a small write of its own.
  await page.waitForTimeout(200);
  await host(page).click();
  const typedAt = await page.evaluate(() => performance.now());
  await page.keyboard.type("z");
  const count = () => page.evaluate(() => (globalThis as { writes?: [number, number][] }).writes!.length);
  await expect.poll(count).toBeGreaterThan(0);
  const [[echoedAt, bytes]] = await writes();
  expect(bytes).toBeLessThan(32 * 1024);
  expect(echoedAt).toBeGreaterThan(typedAt);
  await expect(screen(page, "toolbox")).toContainText(/[#$]\s*z/);
});
