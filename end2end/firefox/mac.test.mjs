// A Mac's key conventions in Firefox, simulated with Firefox's own preferences: a Mac's
// navigator.platform, and Cmd (Meta) as the accelerator, so Cmd+V is the browser's paste
// as on a Mac. Cmd+C copies, Cmd+V pastes once (asking first for several lines), Cmd+F
// searches, Ctrl+C interrupts.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  clipboardIs,
  focused,
  launch,
  open,
  openPod,
  press,
  rowIs,
  run,
  screenHas,
  selectRow,
  setClipboard,
} from "./support.mjs";

const browser = await launch({ "general.platform.override": "MacIntel", "ui.key.accelKey": 224 });

after(async () => {
  await browser.close();
});

test("on a Mac, Cmd+C copies, Cmd+V pastes, Cmd+F searches and Ctrl+C interrupts", { timeout: 40_000 }, async () => {
  const { context, page, errors } = await open(browser);
  assert.equal(await page.evaluate(() => navigator.platform), "MacIntel");
  await openPod(page, "toolbox");
  await run(page, "toolbox", "echo cmd-copy-$((40+2))");
  await rowIs(page, "toolbox", "cmd-copy-42");
  await selectRow(page, "toolbox", "cmd-copy-42");
  await press(page, "Meta+KeyC");
  await clipboardIs(page, "cmd-copy-42");

  await setClipboard(page, "echo cmd-pasted-$((3*5))");
  await press(page, "Meta+KeyV");
  await screenHas(page, "toolbox", "echo cmd-pasted-$((3*5))");
  await page.keyboard.press("Enter");
  // Exactly once: a second paste would run `echo cmd-pasted-15echo …`.
  await rowIs(page, "toolbox", "cmd-pasted-15");

  await setClipboard(page, "echo one-$((1+1))\necho two-$((2+2))\n");
  await press(page, "Meta+KeyV");
  await page.waitForSelector('[role="alertdialog"][aria-label="Paste 2 lines?"]');
  await page.keyboard.press("Enter");
  await screenHas(page, "toolbox", "echo two-$((2+2))");
  await page.keyboard.press("Enter");
  await rowIs(page, "toolbox", "two-4");

  await press(page, "Meta+KeyF");
  await page.waitForSelector('input[aria-label="Find in the terminal"]');
  assert.match(await focused(page), /^input\.search-field/);
  await page.keyboard.press("Escape");

  await page.keyboard.type("sleep 100");
  await page.keyboard.press("Enter");
  await new Promise((resolve) => setTimeout(resolve, 300));
  await press(page, "Control+KeyC");
  await run(page, "toolbox", "echo interrupted-$((1+1))");
  await rowIs(page, "toolbox", "interrupted-2");

  const seen = [...errors];
  await context.close();
  assert.deepEqual(seen, []);
});
