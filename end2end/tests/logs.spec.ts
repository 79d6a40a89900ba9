// A container's log in a tab beside the terminals: followed as the demo's sidecar writes
// it, in colour, filtered, downloaded; the crash-looping worker's previous instance; an
// error that says what to do; a dropped connection, after which no line shows twice.
import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { BOTH, hydrated, Proxy, token, watch } from "./support";

const violations: string[] = [];

// The log tab on show.
const log = (page: Page) => page.locator(".tab-panel:not(.hidden) .log-pane");
const lines = (page: Page) => log(page).locator(".log-lines .line");
const logStatus = (page: Page) => log(page).getByTestId("log-status");

async function openLog(page: Page, pod: string, container: string) {
  await page.locator(`tr[data-pod="${pod}"] [data-logs="${container}"]`).click();
  await expect(page.locator(".tab.active")).toContainText(`${pod}/${container} · log`);
}

// The highest batch number the sidecar's lines show.
async function lastBatch(page: Page) {
  const texts = await lines(page).allInnerTexts();
  const numbers = texts.map((t) => Number(/shipped batch (\d+)/.exec(t)?.[1] ?? 0));
  return Math.max(0, ...numbers);
}

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  await page.goto(`/login?token=${token}`);
  await page.goto("/?namespace=shop");
  await hydrated(page);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

test("a log followed as the container writes it, in colour, filtered and downloaded", BOTH, async ({ page }) => {
  await openLog(page, "web-7d4b9c6f5-abcde", "log-shipper");
  await expect(logStatus(page)).toHaveText("Following");
  await expect(lines(page).first()).toContainText("log-shipper 0.9 shipping");
  // A new line arrives while the tab is open (the sidecar writes one every 2 s).
  await expect.poll(() => lastBatch(page)).toBeGreaterThan(0);
  const before = await lastBatch(page);
  await expect.poll(() => lastBatch(page), { timeout: 10_000 }).toBeGreaterThan(before);
  await expect(log(page).locator(".log-count")).toContainText("a view keeps the last 10,000");

  // ANSI colours: INFO in the theme's green, the escape codes gone.
  const info = lines(page).filter({ hasText: "shipped batch" }).first().locator("span.fg-2");
  await expect(info).toHaveText("INFO");
  await expect(info).toHaveCSS("color", "rgb(35, 209, 139)");
  await expect(lines(page).first()).not.toContainText("[32m");

  // The filter marks matches; "Only matches" leaves out the rest.
  await log(page).getByLabel("Filter lines").fill("info");
  await expect(lines(page).locator("mark").first()).toHaveText("INFO");
  await expect(lines(page).filter({ hasText: "log-shipper 0.9" }).locator("mark")).toHaveCount(0);
  await log(page).getByText("Only matches").click();
  await expect(lines(page).filter({ hasText: "log-shipper 0.9" })).toHaveCount(0);
  await expect(log(page).locator(".log-count")).toContainText(/ · \d+ match/);

  // The download is what is shown: matching lines, with timestamps once they are shown.
  await log(page).getByText("Timestamps").click();
  await expect(lines(page).first().locator(".time")).toBeVisible();
  const shown = await lines(page).allInnerTexts();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    log(page).getByRole("button", { name: "Download" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("web-7d4b9c6f5-abcde_log-shipper.log");
  const saved = await readFile((await download.path())!, "utf8");
  for (const line of shown) expect(saved).toContain(line.trim());
  expect(saved).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO shipped batch 1 \(25 lines\)$/m);
  expect(saved).not.toContain("log-shipper 0.9");
  expect(saved).not.toContain("\u001b");

  // Follow off pauses; on again reads on from the last line, none twice.
  await log(page).getByText("Follow", { exact: true }).click();
  await expect(logStatus(page)).toHaveText("Paused");
  await log(page).getByText("Follow", { exact: true }).click();
  await expect(logStatus(page)).toHaveText("Following");
  const after = await lastBatch(page);
  await expect.poll(() => lastBatch(page), { timeout: 10_000 }).toBeGreaterThan(after);
  const batches = (await lines(page).allInnerTexts()).map((t) => /shipped batch (\d+)/.exec(t)?.[1]);
  expect(new Set(batches).size).toBe(batches.length);
});

test("the crash-looping worker's previous instance, and an error that says what to do", BOTH, async ({ page }) => {
  // Its shell is disabled (not running), its log is not.
  await expect(page.locator('tr[data-pod="worker-0"] button[data-container="worker"]')).toBeDisabled();
  await openLog(page, "worker-0", "worker");
  await log(page).getByText("Previous instance").click();
  await expect(log(page).getByText("Follow", { exact: true }).locator("input")).toBeDisabled();
  await expect(logStatus(page)).toHaveText("End of the log");
  // stdout and stderr, in the order the node wrote them down.
  await expect(lines(page)).toHaveCount(3);
  for (const text of ["worker 2.4.1 starting", "connecting to postgres at", 'FATAL: password authentication failed for user "shop"']) {
    await expect(lines(page).filter({ hasText: text })).toHaveCount(1);
  }

  // A container that never restarted has no previous instance: said, with the way out.
  await page.getByLabel("Namespace").selectOption("default");
  await hydrated(page);
  await openLog(page, "toolbox", "shell");
  await log(page).getByText("Previous instance").click();
  const failure = log(page).getByRole("alert");
  await expect(failure).toContainText("The cluster cannot give this log.");
  await expect(failure).toContainText(/previous terminated container/i);
  await expect(failure).toContainText("Turn Previous off");
  await log(page).getByText("Previous instance").click();
  await expect(failure).toHaveCount(0);
  // The shell's container writes nothing: the empty log says so.
  await expect(log(page).locator(".log-note")).toBeVisible();
});

test("a dropped connection: reconnecting, then on from the last line, none twice", BOTH, async ({ page, baseURL }) => {
  const proxy = await Proxy.start(baseURL!);
  try {
    await page.goto(`${proxy.url}/login?token=${token}`);
    await page.goto(`${proxy.url}/?namespace=shop`);
    await hydrated(page);
    await openLog(page, "web-7d4b9c6f5-abcde", "log-shipper");
    await expect(logStatus(page)).toHaveText("Following");
    await expect.poll(() => lastBatch(page)).toBeGreaterThan(0);

    proxy.down();
    await expect(logStatus(page)).toHaveText(/reconnecting/);
    const resumed = page.waitForRequest(/\/api\/logs\/.*since_time=/);
    proxy.up();
    await resumed;
    await expect(logStatus(page)).toHaveText("Following");
    // Lines written while it was down arrive, and a new one after; each batch once, in order.
    const back = await lastBatch(page);
    await expect.poll(() => lastBatch(page), { timeout: 10_000 }).toBeGreaterThan(back);
    const batches = (await lines(page).allInnerTexts())
      .map((t) => /shipped batch (\d+)/.exec(t)?.[1])
      .filter((b) => b !== undefined)
      .map(Number);
    expect(batches).toEqual(batches.map((_, i) => batches[0] + i));
  } finally {
    await proxy.close();
  }
});
