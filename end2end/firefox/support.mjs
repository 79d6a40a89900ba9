// What the Firefox tests share: Debian's firefox-esr driven over WebDriver BiDi by
// puppeteer-core (Playwright's Firefox is a patched build of its own), a fresh browser
// context per test, and the few page helpers the tests need.
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";

export const url = process.env.PODTERM_URL ?? "";
export const token = process.env.PODTERM_TOKEN ?? "";

// `prefs`: more preferences, on top of the clipboard's.
export function launch(prefs = {}) {
  if (!url || !token) throw new Error("set PODTERM_URL and PODTERM_TOKEN to a running podterm's");
  return puppeteer.launch({
    browser: "firefox",
    protocol: "webDriverBiDi",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
    headless: true,
    defaultViewport: { width: 1200, height: 800 },
    extraPrefsFirefox: {
      // Firefox has no clipboard-read permission to grant: this test preference lets the
      // page read and write the clipboard without a user gesture or the Paste menu.
      "dom.events.testing.asyncClipboard": true,
      ...prefs,
    },
  });
}

// A logged-in page in a browser context of its own (its own storage, so no settings
// left by another test). `errors` collects page errors and CSP violations, `dialogs` the
// types of the dialogs the page opened (each accepted).
export async function open(browser) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors = [];
  const dialogs = [];
  page.on("pageerror", (error) => errors.push(`${error}\n${error.stack ?? ""}`));
  page.on("console", (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) errors.push(message.text());
  });
  // A reload with a live terminal asks first; the tests mean to reload.
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.type());
    void dialog.accept().catch(() => {});
  });
  // The login redirects to the dashboard: no second navigation, which would cut the
  // first page's loading short (and Firefox reports the imports it broke off as errors).
  await page.goto(`${url}/login?token=${token}`);
  await page.waitForSelector("html[data-hydrated]");
  assert.equal(new URL(page.url()).pathname, "/");
  return { context, page, errors, dialogs };
}

export async function visit(page, path) {
  await page.goto(`${url}${path}`);
  await page.waitForSelector("html[data-hydrated]");
}

// Polls `read` until `ok(value)`; fails with the last value seen.
export async function until(read, ok, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  let value;
  for (;;) {
    value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(value)} after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const pane = (pod) => `.tab-panel:not(.hidden) .terminal-pane[data-pod="${pod}"]`;
export const host = (pod) => `${pane(pod)} .terminal-host`;

// The terminal's rows as text.
export const rows = (page, pod) =>
  page.evaluate(
    (selector) =>
      [...(document.querySelector(selector)?.children ?? [])].map((row) =>
        row.textContent.replace(/\u00a0/g, " ").trimEnd(),
      ),
    `${pane(pod)} .xterm-rows`,
  );

export const screenHas = (page, pod, text, what = `the screen shows ${text}`) =>
  until(() => rows(page, pod), (all) => all.join("\n").includes(text), what);

export const rowIs = (page, pod, text) =>
  until(() => rows(page, pod), (all) => all.includes(text), `a row reads exactly ${text}`);

// Firefox now and then refuses a read ("not allowed") while a page's write is under way:
// said as the value, so that a poll tries again.
export const clipboard = (page) =>
  page.evaluate(() => navigator.clipboard.readText().catch((error) => `refused: ${error.message}`));
export const setClipboard = (page, text) => page.evaluate((text) => navigator.clipboard.writeText(text), text);

export const clipboardIs = (page, text) => until(() => clipboard(page), (now) => now === text, "the clipboard");

export const statusOf = (page, pod) =>
  page.$eval(`${pane(pod)} [data-testid="session-status"]`, (e) => e.textContent).catch(() => null);

export async function openPod(page, pod) {
  await page.click(`tr[data-pod="${pod}"] .pod-open`);
  await until(() => statusOf(page, pod), (s) => s === "Connected", `${pod}'s status`);
  await until(() => rows(page, pod), (all) => all.some((row) => /[#$] ?$/.test(row)), `${pod}'s prompt`);
}

// Presses `keys` ("Control+Shift+KeyC"): the modifiers held, the last key pressed.
export async function press(page, keys) {
  const all = keys.split("+");
  const key = all.pop();
  for (const modifier of all) await page.keyboard.down(modifier);
  await page.keyboard.press(key);
  for (const modifier of all.reverse()) await page.keyboard.up(modifier);
}

export async function run(page, pod, line) {
  await page.click(host(pod));
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

// Selects the terminal row that reads exactly `text`, by dragging across it.
export async function selectRow(page, pod, text) {
  const box = await page.evaluate(
    (selector, text) => {
      const row = [...document.querySelector(selector).children].find(
        (row) => row.textContent.replace(/\u00a0/g, " ").trimEnd() === text,
      );
      const { x, y, width, height } = row.getBoundingClientRect();
      return { x, y, width, height };
    },
    `${pane(pod)} .xterm-rows`,
    text,
  );
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, y, { steps: 5 });
  await page.mouse.up();
}

// The element with the keys: its tag, classes and text.
export const focused = (page) =>
  page.evaluate(() => {
    const e = document.activeElement;
    return e ? `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} ${e.textContent.trim()}` : "";
  });

// The rows and columns the shell's terminal has, as `stty size` says them.
export async function sttySize(page, pod, mark) {
  await run(page, pod, `echo ${mark}=$(stty size | tr ' ' x)`);
  const all = await until(
    () => rows(page, pod),
    (all) => all.some((row) => new RegExp(`^${mark}=\\d+x\\d+$`).test(row)),
    `${mark}'s stty size`,
  );
  const [rowCount, cols] = all
    .find((row) => row.startsWith(`${mark}=`))
    .split("=")[1]
    .split("x")
    .map(Number);
  return { rows: rowCount, cols };
}
