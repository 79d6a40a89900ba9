// podterm in a real browser against its demo cluster, as a person would use it.
import { expect, test, type Page } from "@playwright/test";
import { BOTH, hydrated, openPod, pane, run, screen, status, token, watch } from "./support";

// Navigates and waits for hydration: until then the page is server-rendered HTML only.
async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

const violations: string[] = [];

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  await page.goto(`/login?token=${token}`);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

test("the dashboard lists pods, rendered on the server", async ({ page, request }) => {
  const html = await (await request.get("/", { headers: { Authorization: `Bearer ${token}` } })).text();
  expect(html).toContain("toolbox");
  expect(html).toContain("busybox");
  await visit(page, "/");
  await expect(page.locator(".demo-badge")).toHaveText("Demo cluster");
  await expect(page.locator("tr[data-pod]")).toHaveCount(2);
  await expect(page.locator(".empty-state")).toContainText("No terminal open");
});

test("namespaces, the filter, and containers that cannot be opened", async ({ page }) => {
  await visit(page, "/");
  await page.getByLabel("Namespace").selectOption("shop");
  await expect(page).toHaveURL(/namespace=shop/);
  await hydrated(page);
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  await page.getByLabel("Filter pods").fill("worker");
  await expect(page.locator("tr[data-pod]")).toHaveCount(1);
  const worker = page.locator('tr[data-pod="worker-0"] button[data-container="worker"]');
  await expect(worker).toBeDisabled();
  await expect(page.locator('tr[data-pod="worker-0"]')).toContainText("CrashLoopBackOff");
  await page.getByLabel("Filter pods").fill("nothing-matches");
  await expect(page.getByText("No pod matches the filter.")).toBeVisible();
});

test("the list counts the pods, filters on the server, and lists more on demand", async ({ page }) => {
  const rows = page.locator("tr[data-pod]");
  const tally = page.locator(".pod-count");
  await visit(page, "/?namespace=shop");
  await expect(tally).toHaveText("5 pods");
  await page.getByLabel("Filter pods").fill("WEB");
  await expect(rows).toHaveCount(2);
  await expect(tally).toHaveText("2 of 5 pods match");
  // the address follows the filter as typed: a reload shows the same list
  await expect(page).toHaveURL(/[?&]filter=WEB(&|$)/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Filter pods")).toHaveValue("WEB");
  await expect(rows).toHaveCount(2);
  await page.getByLabel("Filter pods").fill("zzz");
  await expect(page.getByText("No pod matches the filter.")).toBeVisible();
  await expect(tally).toHaveText("None of 5 pods match");
  // the filter and the length are in the URL the forms send without scripts
  await visit(page, "/?namespace=shop&filter=web&limit=1");
  await expect(page.getByLabel("Filter pods")).toHaveValue("web");
  await expect(rows).toHaveCount(1);
  await expect(tally).toHaveText("Showing 1 of 2 matching, 5 pods in all");
  await page.getByRole("button", { name: "Show 1 more" }).click();
  await expect(rows).toHaveCount(2);
  await expect(tally).toHaveText("2 of 5 pods match");
  await expect(page).toHaveURL(/[?&]limit=201(&|$)/);
  await expect(page.getByRole("button", { name: /Show .* more/ })).toHaveCount(0);
  // clearing the filter asks the server for every pod again
  await page.getByLabel("Filter pods").fill("");
  await expect(rows).toHaveCount(5);
  await expect(tally).toHaveText("5 pods");
  await expect(page).not.toHaveURL(/filter=/);
});

test("a shell: echo, CJK, exit code", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await run(page, "toolbox", "echo hello from $HOSTNAME");
  await expect(screen(page, "toolbox")).toContainText("hello from toolbox");
  await run(page, "toolbox", "echo 你好世界 ok");
  await expect(screen(page, "toolbox")).toContainText("你好世界 ok");
  await run(page, "toolbox", "printf '\\033[38;5;208mcolour-208\\033[0m\\n'");
  await expect(screen(page, "toolbox")).toContainText("colour-208");
  await run(page, "toolbox", "exit 3");
  await expect(status(page, "toolbox")).toHaveText("Exited with code 3");
  await expect(screen(page, "toolbox")).toContainText("[process exited with code 3]");
  await pane(page, "toolbox").getByRole("button", { name: "Reconnect" }).click();
  await expect(status(page, "toolbox")).toHaveText("Connected");
});

test("the terminal follows the window's size", BOTH, async ({ page }) => {
  await page.setViewportSize({ width: 1300, height: 800 });
  await visit(page, "/");
  await openPod(page, "toolbox");
  const size = async (label: string) => {
    await run(page, "toolbox", `stty size | sed 's/^/${label}=/'`);
    await expect(screen(page, "toolbox")).toContainText(new RegExp(`${label}=\\d+ \\d+`));
    return (await screen(page, "toolbox").innerText()).match(new RegExp(`${label}=(\\d+) (\\d+)`))!.slice(1).map(Number);
  };
  const [rows1, cols1] = await size("before");
  await page.setViewportSize({ width: 900, height: 500 });
  await page.waitForTimeout(500);
  const [rows2, cols2] = await size("after");
  expect(rows2).toBeLessThan(rows1);
  expect(cols2).toBeLessThan(cols1);
});

test("busybox has no bash: the shell falls back to sh", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "busybox");
  await run(page, "busybox", "echo shell=$0; command -v bash || echo no-bash");
  await expect(screen(page, "busybox")).toContainText("shell=sh");
  await expect(screen(page, "busybox")).toContainText("no-bash");
});

test("two terminals in tabs", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await openPod(page, "busybox");
  await expect(page.locator(".tab")).toHaveCount(2);
  await run(page, "busybox", "echo in-busybox");
  await expect(screen(page, "busybox")).toContainText("in-busybox");
  await page.locator(".tab-title", { hasText: "toolbox/shell" }).click();
  await run(page, "toolbox", "echo in-toolbox");
  await expect(screen(page, "toolbox")).toContainText("in-toolbox");
  await page.locator(".tab", { hasText: "busybox" }).getByRole("button", { name: "Close this terminal" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "End the shell" }).click();
  await expect(page.locator(".tab")).toHaveCount(1);
});

test("deep links open a terminal, and ask before running a command", BOTH, async ({ page }) => {
  await visit(page, "/terminal?namespace=shop&pod=web-7d4b9c6f5-abcde");
  // no container named: the default-container annotation picks "web"
  await expect(page.locator('.terminal-pane[data-container="web"]')).toBeVisible();
  await expect(page.getByTestId("session-status")).toHaveText("Connected");

  await visit(page, "/terminal?namespace=default&pod=toolbox&container=shell&command=sh&command=-c&command=echo%20linked%3B%20exit%205");
  await expect(page.getByRole("dialog")).toContainText("echo linked; exit 5");
  await page.getByRole("button", { name: "Run it" }).click();
  await expect(page.getByTestId("session-status")).toHaveText("Exited with code 5");
  await expect(page.locator(".xterm-rows")).toContainText("linked");
});

test("a terminal's own page works before its wasm has loaded, and hands over", BOTH, async ({ page }) => {
  // Hold the wasm back: the page's own script must connect, show and send keys without it.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/podterm.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/terminal?namespace=default&pod=busybox&container=busybox", { waitUntil: "commit" });
  const rows = page.locator(".xterm-rows");
  await expect(rows).toContainText(/[#$][\s\u00a0]/);
  await page.keyboard.type("echo early-$((6*7))");
  await page.keyboard.press("Enter");
  await expect(rows).toContainText("early-42");
  await expect(page.getByTestId("session-status")).toHaveText("Loading the terminal…");

  release();
  await hydrated(page);
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  await page.keyboard.type("echo after-$((2*3))");
  await page.keyboard.press("Enter");
  await expect(rows).toContainText("after-6");
  // What was shown before the hand-over is not shown again.
  expect((await rows.textContent())?.match(/early-42/g)).toHaveLength(1);
});

test("the shell's first output shows before xterm.js has loaded, where xterm.js then draws it", async ({ page }) => {
  // Keep xterm.js back until the shell's output is in, and note the early screen's lines
  // and where they were drawn (it is gone once xterm.js has drawn them).
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/vendor/xterm/xterm-bundle.mjs", async (route) => {
    await held;
    await route.continue();
  });
  await page.addInitScript(() => {
    const seen = new MutationObserver(() => {
      const screen = document.querySelector(".early-screen");
      if (!screen) return;
      seen.disconnect();
      const spans = [...screen.querySelectorAll("span")].filter((s) => s.textContent?.trim());
      const last = spans[spans.length - 1].getBoundingClientRect();
      Object.assign(globalThis, { earlyScreen: { text: screen.textContent, last: { x: last.x, y: last.y } } });
    });
    seen.observe(document, { childList: true, subtree: true });
  });
  await page.goto("/terminal?namespace=default&pod=busybox&container=busybox", { waitUntil: "commit" });
  await page.waitForFunction(() =>
    (globalThis as any).podtermEarlySocket?.events.some((e: MessageEvent) => e.data instanceof ArrayBuffer),
  );
  // Typed ahead, before the terminal is made: kept for it, not lost.
  await page.keyboard.type("echo ahead-$((6*7))");
  await page.keyboard.press("Enter");
  release();

  const early = await page.waitForFunction(() => (globalThis as any).earlyScreen).then((h) => h.jsonValue());
  expect(early.text).toMatch(/[#$] +$/);
  const rows = page.locator(".xterm-rows");
  await expect(rows).toContainText("ahead-42");
  await expect(page.locator(".early-screen")).toHaveCount(0);
  // xterm.js drew the same prompt in the same place.
  const prompt = rows.locator("div", { hasText: /[#$][\s\u00a0]+echo ahead/ }).first();
  const drawn = (await prompt.boundingBox())!;
  expect(Math.abs(drawn.x - early.last.x)).toBeLessThanOrEqual(2);
  expect(Math.abs(drawn.y - early.last.y)).toBeLessThanOrEqual(3);
  expect((await prompt.textContent())?.replace(/\u00a0/g, " ")).toContain(early.text.split("\n").pop().trimEnd());
  await page.keyboard.type("echo typed-$((6*7))");
  await page.keyboard.press("Enter");
  await expect(rows).toContainText("typed-42");
});

test("errors read as messages in the terminal area", BOTH, async ({ page }) => {
  await visit(page, "/terminal?namespace=default&pod=toolbox&container=nope");
  await expect(page.getByTestId("session-status")).toHaveText("Not found");
  await expect(page.locator(".xterm-rows")).toContainText('Not found: pod toolbox has no container "nope"');
  await visit(page, "/terminal?context=bob%40demo&namespace=shop&pod=web-7d4b9c6f5-abcde&container=web");
  await expect(page.getByTestId("session-status")).toContainText("Not allowed");
  await expect(page.locator(".xterm-rows")).toContainText("Not allowed: you may not open a shell in pod web-7d4b9c6f5-abcde");
});

test("leaving a page with a live terminal asks first", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  const asked = new Promise<string>((resolve) => page.once("dialog", (dialog) => {
    resolve(dialog.type());
    void dialog.dismiss();
  }));
  await page.close({ runBeforeUnload: true });
  expect(await asked).toBe("beforeunload");
});

test("logging in is required, and a wrong token is refused", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/?namespace=shop");
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Access token").fill("not-the-right-token");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That access token is not right.");
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/namespace=shop/);
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await context.close();
});

test("where RBAC forbids exec, the page says so instead of opening a broken terminal", BOTH, async ({ page }) => {
  await visit(page, "/?context=bob%40demo");
  await expect(page.getByRole("status")).toContainText("Not allowed: you may not open shells in namespace shop");
  const web = page.locator('tr[data-pod="web-7d4b9c6f5-abcde"] button[data-container="web"]');
  await expect(web).toBeDisabled();
  await expect(web).toHaveAttribute("title", "You may not open shells in this namespace");
  // Nor add debug containers; but bob may read the logs.
  const row = page.locator('tr[data-pod="web-7d4b9c6f5-abcde"]');
  const debug = row.getByRole("button", { name: /start a debug container beside web/ });
  await expect(debug).toBeDisabled();
  await expect(debug).toHaveAttribute("title", /may not add debug containers in namespace shop/);
  await expect(row.locator('[data-logs="web"]')).toBeEnabled();
});
