// The terminal as a person handles it: the clipboard, reloads, many tabs, a phone, pages
// that go wrong, and the bar around a terminal.
import { expect, test, type Page } from "@playwright/test";
import { clipboard, hydrated, openPod, pane, run, screen, status, token, watch } from "./support";

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

test("a reload comes back to the same shells; closing a live one asks first", async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await run(page, "toolbox", "M=first");
  await openPod(page, "busybox");
  await run(page, "busybox", "M=busy");
  // A second shell in the same container, in a tab of its own.
  await pane(page, "busybox").getByRole("button", { name: "New shell" }).click();
  await expect(page.locator(".tab")).toHaveCount(3);
  await expect(status(page, "busybox")).toHaveText("Connected");
  await expect(screen(page, "busybox")).toContainText(/[#$][\s\u00a0]/);
  await run(page, "busybox", "M=second");

  await page.reload();
  await hydrated(page);
  await expect(page.locator(".tab")).toHaveCount(3);
  const tab = (name: string) => page.locator(".tab-title").filter({ hasText: name });
  for (const [title, pod, mark] of [
    [/toolbox\/shell$/, "toolbox", "first"],
    [/busybox\/busybox$/, "busybox", "busy"],
    [/busybox\/busybox \(2\)$/, "busybox", "second"],
  ] as const) {
    await page.locator(".tab-title", { hasText: title }).click();
    await expect(status(page, pod)).toHaveText("Connected");
    await run(page, pod, "echo mark=$M");
    await expect(screen(page, pod)).toContainText(`mark=${mark}`);
  }

  // × on a live shell asks; "Keep it" keeps it, "End the shell" closes it.
  const close = page.locator(".tab", { has: tab("toolbox/shell") }).getByRole("button", { name: "Close this terminal" });
  await close.click();
  const ask = page.getByRole("alertdialog", { name: "End this shell?" });
  await expect(ask).toContainText("toolbox/shell");
  await ask.getByRole("button", { name: "Keep it" }).click();
  await expect(ask).toHaveCount(0);
  await expect(page.locator(".tab")).toHaveCount(3);
  await close.click();
  await ask.getByRole("button", { name: "End the shell" }).click();
  await expect(page.locator(".tab")).toHaveCount(2);

  // A terminal's own page comes back to its shell too.
  await visit(page, "/terminal?namespace=default&pod=busybox&container=busybox");
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  await page.keyboard.type("M=own");
  await page.keyboard.press("Enter");
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  await page.locator(".terminal-host").click();
  await page.keyboard.type("echo mark=$M");
  await page.keyboard.press("Enter");
  await expect(page.locator(".xterm-rows")).toContainText("mark=own");
});

test("eight tabs: the active one stays in view, a list holds them all, and tabs say where they run", async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await visit(page, "/");
  await openPod(page, "toolbox");
  for (let i = 2; i <= 8; i++) {
    await pane(page, "toolbox").getByRole("button", { name: "New shell" }).click();
    await expect(page.locator(".tab")).toHaveCount(i);
  }
  await expect(page.locator(".tab.active")).toContainText("toolbox/shell (8)");
  expect(await activeTabInView(page)).toBe(true);
  const picker = page.getByLabel("All terminals");
  await expect(picker.locator("option")).toHaveCount(8);
  await picker.selectOption({ index: 0 });
  await expect(page.locator(".tab.active .tab-title")).toHaveText(/toolbox\/shell$/);
  await expect.poll(() => activeTabInView(page)).toBe(true);
  await expect(page.locator(".tab.active .tab-where")).toHaveText("default");
  await expect(page.locator(".tab.elsewhere")).toHaveCount(0);

  // In another cluster context, these tabs say whose they are.
  await page.getByLabel("Cluster").selectOption("alice@demo");
  await expect(page).toHaveURL(/context=alice%40demo/);
  await expect(page.locator(".tab.elsewhere")).toHaveCount(8);
  await expect(page.locator(".tab.active .tab-where")).toHaveText("admin@demo · default");
});

test("on a 390 px phone the page fits its width", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await visit(page, "/?namespace=shop");
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  expect(await podNamesBreakAtDashes(page)).toEqual([]);
  await page.locator('tr[data-pod="web-7d4b9c6f5-abcde"] .pod-open').click();
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const logout = (await page.getByRole("button", { name: "Log out" }).boundingBox())!;
  const show = (await page.getByLabel("Cluster").boundingBox())!;
  // One line: about as tall as the selects beside it, not two lines of text.
  expect(logout.height).toBeLessThan(show.height * 1.4);
  const host = (await page.locator(".terminal-host").boundingBox())!;
  expect(host.x).toBeGreaterThanOrEqual(0);
  expect(host.x + host.width).toBeLessThanOrEqual(390);
});

test("pages that go wrong say why and what to do, once", async ({ page }) => {
  // A namespace that does not exist is named as such, in the list and in the message.
  await visit(page, "/?namespace=made-up");
  await expect(page.getByLabel("Namespace").locator("option:checked")).toHaveText("made-up (not found)");
  await expect(page.getByRole("alert")).toContainText("There is no namespace made-up");
  await expect(page.getByText("No pods in")).toHaveCount(0);
  // The error box keeps off the page's edge.
  const box = (await page.getByRole("alert").boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(8);

  await visit(page, "/terminal?namespace=default&pod=nope");
  await expect(page.getByRole("alert")).toContainText("Cannot open this terminal: there is no pod nope in namespace default.");
  await expect(page.getByRole("alert")).not.toContainText("server function");
  await page.getByRole("link", { name: "Back to the dashboard" }).click();
  await expect(page).toHaveURL(/namespace=default/);
  await expect(page.locator("tr[data-pod]")).toHaveCount(2);

  // A container that is not running: said once, and no Reconnect that cannot work.
  await visit(page, "/terminal?namespace=shop&pod=worker-0&container=worker");
  await expect(page.getByTestId("session-status")).toHaveText("Not running");
  await expect(page.locator(".xterm-rows")).toContainText("the container is not running");
  expect((await page.locator("body").innerText()).match(/is not running/g)).toHaveLength(1);
  await expect(page.getByRole("button", { name: "Reconnect" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Back to the dashboard" })).toBeVisible();

  // bob may neither list namespaces nor open shells: each said once, outside the top bar.
  await visit(page, "/?context=bob%40demo");
  await expect(page.locator(".hint-box")).toContainText("You may not list namespaces here");
  expect((await page.locator(".topbar").boundingBox())!.height).toBeLessThan(60);
  await expect(page.getByRole("status")).toContainText("Not allowed: you may not open shells in namespace shop");
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  await expect(page.getByText("not allowed", { exact: true })).toHaveCount(0);
});

test("the terminal's bar and its own page", async ({ page, context }) => {
  await visit(page, "/");
  // The namespace select navigates by itself once the page runs: no Show button.
  await expect(page.getByRole("button", { name: "Show", exact: true })).toBeHidden();
  await expect(page).toHaveTitle("default · podterm");
  await openPod(page, "busybox");
  await expect(page).toHaveTitle("busybox/busybox · podterm");
  // busybox's banner starts at the top, with no blank lines above it.
  await expect(screen(page, "busybox").locator(":scope > div").first()).toContainText("BusyBox");

  // Reconnect: the bar keeps its height, and keys go to the new shell.
  const bar = pane(page, "busybox").locator(".terminal-bar");
  const before = (await bar.boundingBox())!.height;
  await run(page, "busybox", "exit 4");
  await expect(status(page, "busybox")).toHaveText("Exited with code 4");
  expect((await bar.boundingBox())!.height).toBe(before);
  await pane(page, "busybox").getByRole("button", { name: "Reconnect" }).click();
  await expect(status(page, "busybox")).toHaveText("Connected");
  await page.keyboard.type("echo typed-$((5+5))");
  await page.keyboard.press("Enter");
  await expect(screen(page, "busybox")).toContainText("typed-10");

  // "Own page" moves the shell there: same shell, and the dashboard's tab closes.
  await run(page, "busybox", "M=moved");
  const [own] = await Promise.all([
    context.waitForEvent("page"),
    pane(page, "busybox").getByRole("link", { name: "Own page" }).click(),
  ]);
  await expect(page.locator(".tab")).toHaveCount(0);
  await hydrated(own);
  await expect(own.getByTestId("session-status")).toHaveText("Connected");
  await own.locator(".terminal-host").click();
  await own.keyboard.type("echo mark=$M");
  await own.keyboard.press("Enter");
  await expect(own.locator(".xterm-rows")).toContainText("mark=moved");
  // Its bar is the dashboard's: demo badge, cluster, Log out; no link to itself.
  await expect(own.locator(".demo-badge")).toHaveText("Demo cluster");
  await expect(own.locator(".crumb")).toHaveText("admin@demo · default / busybox");
  await expect(own.getByRole("link", { name: "Own page" })).toHaveCount(0);
  await own.close({ runBeforeUnload: false });

  // Back after Log out shows no pod list.
  await visit(page, "/?namespace=shop");
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goBack();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.locator("tr[data-pod]")).toHaveCount(0);
});

// A terminal's own page (it loads no dashboard, whose code shares parts with the tools)
// with the requests that match `cut` failing. They are not part of the first load: a moment
// after the prompt they are fetched (and fail here), and the search (Ctrl+Shift+F) says its
// part could not be loaded. `tryAgain` lets them through and asks again: the search opens.
async function laterPartCut(page: Page, cut: string) {
  const fetched: string[] = [];
  let down = true;
  await page.route(cut, (route) => {
    fetched.push(route.request().url());
    return down ? route.abort("internetdisconnected") : route.continue();
  });
  await visit(page, "/terminal?namespace=default&pod=toolbox&container=shell");
  const rows = page.locator(".xterm-rows");
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  await expect(rows).toContainText(/[#$][\s\u00a0]/);
  expect(fetched).toEqual([]);
  await expect.poll(() => fetched.length, { timeout: 5_000 }).toBeGreaterThan(0);

  await page.locator(".terminal-host").click();
  await page.keyboard.press("Control+Shift+F");
  const unloaded = page.locator(".part-unloaded");
  await expect(unloaded).toContainText("could not be loaded: check your connection");
  const tryAgain = async () => {
    down = false;
    await unloaded.getByRole("button", { name: "Try again" }).click();
    await expect(page.locator(".search-field")).toBeVisible();
    await expect(unloaded).toHaveCount(0);
  };
  return { rows, tryAgain };
}

test("a terminal's tools are fetched after its prompt; where they cannot be, it says so, keeps working and tries again", async ({
  page,
}) => {
  // The split loader's fetch is awaited only once the parts it needs are in: Chromium calls
  // its failure unhandled before then. That one page error is this test's point.
  page.removeAllListeners("pageerror");
  page.on("pageerror", (error) => {
    if (!error.message.includes("Failed to fetch")) throw error;
  });
  const { rows, tryAgain } = await laterPartCut(page, "**/pkg/split_terminal_later*.wasm");
  await page.locator(".terminal-host").click();
  await page.keyboard.type("echo still-''here");
  await page.keyboard.press("Enter");
  await expect(rows).toContainText("still-here");

  await tryAgain();
});

test("a terminal's later styles come with its tools; where they cannot be fetched, the tools say so and try again", async ({
  page,
}) => {
  const { tryAgain } = await laterPartCut(page, "**/css/later.css");
  await expect(page.locator(".search-field")).toHaveCount(0);

  await tryAgain();
  // Styled: the search bar floats over the terminal.
  await expect(page.locator(".search-bar")).toHaveCSS("position", "absolute");
});

test("the dashboard has the later parts' styles from its first paint", async ({ page }) => {
  await visit(page, "/?namespace=default");
  await expect(page.locator('head link[rel=stylesheet][href$="/css/later.css"]')).toHaveCount(1);
  await expect(page.locator(".container-ways").first()).toHaveCSS("display", "flex");
});
