// The terminal's keys and clipboard in Firefox, where they may differ from Chromium: copy
// and paste through the real clipboard, OSC 52, the question before a multi-line paste, a
// setting across a reload, the shortcuts beside the shell's own Ctrl+W, and the early
// screen where xterm.js draws its rows (fonts are measured the browser's own way).
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... node --test end2end/firefox/*.test.mjs
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import {
  clipboardIs,
  focused,
  host,
  launch,
  open,
  openPod,
  pane,
  press,
  rowIs,
  rows,
  run,
  screenHas,
  selectRow,
  setClipboard,
  sttySize,
  statusOf,
  until,
  url,
} from "./support.mjs";

const TIMEOUT = { timeout: 40_000 };
let browser;
let context;
let page;
let errors;
let dialogs;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

beforeEach(async () => {
  ({ context, page, errors, dialogs } = await open(browser));
});

afterEach(async () => {
  // Taken before the close: a page torn down may reject what it had under way.
  const seen = [...errors];
  await context?.close();
  assert.deepEqual(seen, []);
});

test("Ctrl+Shift+C and the menu's Copy copy, Ctrl+Shift+V pastes once", TIMEOUT, async () => {
  await openPod(page, "toolbox");
  await run(page, "toolbox", "echo copy-me-$((40+2))");
  await rowIs(page, "toolbox", "copy-me-42");
  await selectRow(page, "toolbox", "copy-me-42");
  await press(page, "Control+Shift+KeyC");
  await clipboardIs(page, "copy-me-42");

  await run(page, "toolbox", "echo menu-$((6*7))");
  await rowIs(page, "toolbox", "menu-42");
  await selectRow(page, "toolbox", "menu-42");
  const box = await (await page.$(host("toolbox"))).boundingBox();
  await page.mouse.click(box.x + 40, box.y + 40, { button: "right" });
  const copy = '[role="menu"][aria-label="Terminal"] [role="menuitem"]:first-child';
  await page.waitForSelector(`${copy}:not(:disabled)`);
  await page.click(copy);
  await clipboardIs(page, "menu-42");
  await until(() => page.$('[role="menu"]'), (menu) => menu === null, "the menu closed");

  // Firefox pastes plain text on Ctrl+Shift+V by itself: the line must come once.
  await setClipboard(page, "echo pasted-$((3*5))");
  await press(page, "Control+Shift+KeyV");
  await screenHas(page, "toolbox", "echo pasted-$((3*5))");
  await page.keyboard.press("Enter");
  await rowIs(page, "toolbox", "pasted-15");
  assert.ok(!(await rows(page, "toolbox")).some((row) => row.includes("^V")));
});

test("OSC 52 from printf writes the clipboard; a read query gets no answer", TIMEOUT, async () => {
  await openPod(page, "toolbox");
  // OSC 52 is heard once the module loaded after the first prompt is in.
  await page.waitForSelector(`${host("toolbox")}[data-extras="ready"]`);
  await setClipboard(page, "before");
  await run(page, "toolbox", "printf '\\033]52;c;%s\\a' $(printf hi | base64)");
  await clipboardIs(page, "hi");
  // An answer would be typed into the pod, for `read` to find.
  await run(page, "toolbox", "printf '\\033]52;c;?\\a'; read -rs -t 1 -N 64 reply; echo \"reply-length=${#reply}.\"");
  await rowIs(page, "toolbox", "reply-length=0.");
});

test("a paste of several lines asks first: Cancel sends nothing, Paste sends it", TIMEOUT, async () => {
  await openPod(page, "toolbox");
  await setClipboard(page, "echo one-$((1+1))\necho two-$((2+2))\n");
  await page.click(host("toolbox"));
  await press(page, "Control+Shift+KeyV");
  const ask = '[role="alertdialog"][aria-label="Paste 2 lines?"]';
  await page.waitForSelector(ask);
  assert.match(await focused(page), /^button\..* Paste$/);
  await page.click(`${ask} button:last-of-type`);
  await until(() => page.$(ask), (found) => found === null, "the question gone");
  assert.match(await focused(page), /xterm-helper-textarea/);
  await page.keyboard.press("Enter");
  await run(page, "toolbox", "echo cancelled-$((3+3))");
  await rowIs(page, "toolbox", "cancelled-6");
  assert.ok(!(await rows(page, "toolbox")).includes("one-2"));

  await press(page, "Control+Shift+KeyV");
  await page.waitForSelector(ask);
  await page.keyboard.press("Enter");
  await screenHas(page, "toolbox", "echo two-$((2+2))");
  // The shell may hold a bracketed paste until Enter.
  await page.keyboard.press("Enter");
  await rowIs(page, "toolbox", "two-4");
  assert.ok((await rows(page, "toolbox")).includes("one-2"));
});

test("a bigger font survives a reload and gives the shell fewer rows and columns", TIMEOUT, async () => {
  await openPod(page, "toolbox");
  const before = await sttySize(page, "toolbox", "before");
  const fontSize = () =>
    page.$eval(`${host("toolbox")} .xterm-rows`, (rows) => getComputedStyle(rows).fontSize);
  await page.click(`${pane("toolbox")} button[aria-label="Terminal settings"]`);
  const size = '[role="dialog"][aria-label="Terminal settings"] input[name="fontSize"]';
  await page.waitForSelector(size);
  assert.match(await focused(page), /^input/);
  // By keyboard, as a person would: the value is taken when the field loses the focus.
  await press(page, "Control+KeyA");
  await page.keyboard.type("20");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Escape");
  await until(() => page.$('[role="dialog"]'), (found) => found === null, "the settings closed");
  await until(fontSize, (now) => now === "20px", "the font size");
  const after = await sttySize(page, "toolbox", "after");
  assert.ok(after.rows < before.rows && after.cols < before.cols, `${JSON.stringify({ before, after })}`);

  await page.reload();
  await page.waitForSelector("html[data-hydrated]");
  await until(() => statusOf(page, "toolbox"), (s) => s === "Connected", "toolbox reconnected");
  await until(fontSize, (now) => now === "20px", "the font size after a reload");
  // The size the change gave is the one a fresh page fits.
  assert.deepEqual(await sttySize(page, "toolbox", "reloaded"), after);
  await page.click(`${pane("toolbox")} button[aria-label="Terminal settings"]`);
  await page.waitForSelector(size);
  assert.equal(await page.$eval(size, (input) => input.value), "20");
});

test("Alt+PageUp/PageDown switch tabs from inside a terminal; Ctrl+W is the shell's, or leaving asks first", TIMEOUT, async () => {
  const active = () => page.$eval(".tab.active .tab-name", (e) => e.textContent);
  await openPod(page, "toolbox");
  await openPod(page, "busybox");
  assert.equal(await active(), "busybox/busybox");
  await press(page, "Alt+PageUp");
  await until(active, (name) => name === "toolbox/shell", "the active tab");
  await press(page, "Alt+PageDown");
  await until(active, (name) => name === "busybox/busybox", "the active tab");
  await press(page, "Alt+PageDown");
  await until(active, (name) => name === "toolbox/shell", "the active tab");

  // Ctrl+W deletes the word before the cursor where it reaches the page (here, keys sent
  // to the page; else an installed app's window, or full screen with Keyboard Lock).
  await page.click(host("toolbox"));
  await page.keyboard.type("echo abc def");
  await press(page, "Control+KeyW");
  await page.keyboard.type("xyz");
  await page.keyboard.press("Enter");
  await rowIs(page, "toolbox", "abc xyz");
  // Where the browser keeps Ctrl+W, it closes the tab: a connected terminal asks first.
  assert.deepEqual(dialogs, []);
  await page.close({ runBeforeUnload: true });
  await until(async () => dialogs, (seen) => seen.includes("beforeunload"), "the question before leaving");
});

test("the shell's first output shows before xterm.js, where xterm.js then draws it", TIMEOUT, async () => {
  // xterm.js held back until the shell's output is in; the early screen's text and its
  // prompt line's place noted when it is drawn (Firefox measures fonts its own way).
  let release = () => {};
  const held = new Promise((resolve) => (release = resolve));
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    if (request.isInterceptResolutionHandled()) return;
    if (request.url().includes("/vendor/xterm/xterm-bundle.mjs")) void held.then(() => request.continue());
    else void request.continue();
  });
  await page.evaluateOnNewDocument(() => {
    const seen = new MutationObserver(() => {
      const screen = document.querySelector(".early-screen");
      if (!screen) return;
      seen.disconnect();
      const spans = [...screen.querySelectorAll("span")].filter((s) => s.textContent.trim());
      const last = spans[spans.length - 1].getBoundingClientRect();
      globalThis.earlyScreen = { text: screen.textContent, x: last.x, y: last.y };
    });
    seen.observe(document, { childList: true, subtree: true });
  });
  // The page's load waits for xterm.js: not awaited until it is let through.
  const loading = page.goto(`${url}/terminal?namespace=default&pod=busybox&container=busybox`);
  await page.waitForFunction(() => globalThis.podtermEarlySocket?.events.some((e) => e.data instanceof ArrayBuffer));
  release();
  await loading;
  const early = await (await page.waitForFunction(() => globalThis.earlyScreen)).jsonValue();
  assert.match(early.text, /[#$] +$/);
  const prompt = await until(
    () =>
      page.$$eval(".xterm-rows > div", (rows) =>
        rows
          .filter((row) => /[#$][\s\u00a0]*$/.test(row.textContent) && row.textContent.trim())
          .map((row) => ({ text: row.textContent, ...row.getBoundingClientRect().toJSON() }))
          .pop(),
      ),
    (row) => row !== undefined,
    "xterm.js's prompt row",
  );
  assert.ok(Math.abs(prompt.x - early.x) <= 2, `x: ${prompt.x} against ${early.x}`);
  assert.ok(Math.abs(prompt.y - early.y) <= 3, `y: ${prompt.y} against ${early.y}`);
  await until(() => page.$(".early-screen"), (screen) => screen === null, "the early screen gone");
});
