// A terminal whose connection drops resumes the same session: no output lost or repeated,
// and keys typed during the outage reach the same shell.
//
// Playwright's offline mode does not reliably cut open WebSockets, so the page talks to
// podterm through a small TCP proxy that the tests can cut and hold down (`Proxy`).
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { BOTH, hydrated, openPod, pane, Proxy, run, screen, status, token, watch } from "./support";

let proxy: Proxy;

// Navigates through the proxy and waits for hydration.
async function visit(page: Page, path: string) {
  await page.goto(proxy.url + path);
  await hydrated(page);
}

// Records every text the status shows from now on: a short reconnect may come and go
// between two polls of an assertion.
async function recordStatus(page: Page, pod: string): Promise<() => Promise<string[]>> {
  const element = await status(page, pod).elementHandle();
  await page.evaluate((el) => {
    const seen: string[] = [];
    (window as unknown as { podtermStatus: string[] }).podtermStatus = seen;
    new MutationObserver(() => seen.push(el!.textContent ?? "")).observe(el!, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  }, element);
  return () => page.evaluate(() => (window as unknown as { podtermStatus: string[] }).podtermStatus);
}

const violations: string[] = [];

// The admin API, straight to podterm (not through the proxy): the token holder is an admin.
const auth = { Authorization: `Bearer ${token}` };

async function sessionIds(request: APIRequestContext, pod: string): Promise<string[]> {
  const response = await request.get("/admin/sessions", { headers: auth });
  expect(response.ok()).toBe(true);
  const sessions = (await response.json()) as { id: string; pod: string }[];
  return sessions.filter((s) => s.pod === pod).map((s) => s.id);
}

// Opens a terminal and returns the id of the session it started.
async function openSession(page: Page, request: APIRequestContext, pod: string): Promise<string> {
  const before = await sessionIds(request, pod);
  await openPod(page, pod);
  const started = (await sessionIds(request, pod)).filter((id) => !before.includes(id));
  expect(started).toHaveLength(1);
  return started[0];
}

test.beforeEach(async ({ page }) => {
  proxy = await Proxy.start(process.env.PODTERM_URL ?? "");
  watch(page, violations);
  // Logged in through the proxy, the address the page uses from here on.
  await page.goto(`${proxy.url}/login?token=${token}`);
});

test.afterEach(async () => {
  await proxy.close();
  expect(violations).toEqual([]);
});

test("a dropped connection resumes the session without losing or repeating output", BOTH, async ({ page }) => {
  // Tall enough that all 40 lines stay on screen (.xterm-rows holds the visible rows only).
  await page.setViewportSize({ width: 1200, height: 1600 });
  await visit(page, "/");
  await openPod(page, "toolbox");
  // fini''shed: the typed command does not contain the word the test waits for.
  await run(page, "toolbox", "for i in $(seq 1 40); do echo line-$i; sleep 0.05; done; echo fini''shed");
  await expect(screen(page, "toolbox")).toContainText("line-8");

  proxy.down();
  await expect(status(page, "toolbox")).toContainText(/Connection lost — reconnecting \(attempt \d+\)/);
  // The command keeps running meanwhile; its output waits on the server.
  await page.waitForTimeout(1500);
  proxy.up();
  await expect(status(page, "toolbox")).toHaveText("Connected", { timeout: 15_000 });
  await expect(screen(page, "toolbox")).toContainText("finished");

  const text = await screen(page, "toolbox").innerText();
  const numbers = [...text.matchAll(/line-(\d+)/g)].map((m) => Number(m[1]));
  expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  // Nothing about the resume is written into the terminal itself.
  expect(text).not.toContain("reconnect");
  expect(text).not.toContain("dropped");

  // The resumed session is the same shell and still works.
  await run(page, "toolbox", "echo still-''here");
  await expect(screen(page, "toolbox")).toContainText("still-here");
});

test("keys typed while reconnecting reach the same shell once", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  await run(page, "toolbox", "marker=same-shell");
  // Keys already on the wire when a connection dies are lost with it; wait for the echo.
  await expect(screen(page, "toolbox")).toContainText(/marker=same-shell\s*root@toolbox/);

  proxy.down();
  await expect(status(page, "toolbox")).toContainText("reconnecting");
  // typed-during-''outage: only the command's output reads typed-during-outage.
  await run(page, "toolbox", "echo typed-during-''outage $marker");
  proxy.up();
  await expect(status(page, "toolbox")).toHaveText("Connected", { timeout: 15_000 });
  await expect(screen(page, "toolbox")).toContainText("typed-during-outage same-shell");
  const text = await screen(page, "toolbox").innerText();
  expect(text.split("typed-during-outage").length - 1).toBe(1);
});

test("a short drop resumes at once", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  const history = await recordStatus(page, "toolbox");
  proxy.cut();
  await expect.poll(history).toContainEqual(expect.stringMatching(/reconnecting \(attempt 1\)/));
  await expect(status(page, "toolbox")).toHaveText("Connected");
  await run(page, "toolbox", "echo after-''cut");
  await expect(screen(page, "toolbox")).toContainText("after-cut");
});

test("output larger than the flow-control window keeps flowing, across a drop", BOTH, async ({ page }) => {
  await visit(page, "/");
  await openPod(page, "toolbox");
  // About 7 MB: several times what the server sends before the page acknowledges.
  await run(page, "toolbox", "seq 1 1000000; echo fini''shed");
  // Output has started (rows of numbers read as one long run of digits; the typed line has
  // at most six), so the command line is no longer on the wire when the connection is cut.
  await expect(screen(page, "toolbox")).toContainText(/\d{12}/);
  proxy.cut();
  await expect(screen(page, "toolbox")).toContainText("finished", { timeout: 20_000 });
  await expect(status(page, "toolbox")).toHaveText("Connected");
  const text = await screen(page, "toolbox").innerText();
  expect(text).toMatch(/999999\s+1000000\s+finished/);
});

test("closing a terminal ends its session at once, without a grace period", BOTH, async ({ page, request }) => {
  await visit(page, "/");
  const id = await openSession(page, request, "toolbox");
  await page.locator(".tab", { hasText: "toolbox" }).getByRole("button", { name: "Close this terminal" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "End the shell" }).click();
  await expect(page.locator(".tab")).toHaveCount(0);
  await expect.poll(() => sessionIds(request, "toolbox"), { timeout: 5_000 }).not.toContain(id);
});

test("a session that ended during the outage is not resumed; Reconnect starts a new one", BOTH, async ({ page, request }) => {
  await visit(page, "/");
  const id = await openSession(page, request, "toolbox");
  proxy.down();
  await expect(status(page, "toolbox")).toContainText("reconnecting");
  expect((await request.delete(`/admin/sessions/${id}`, { headers: auth })).status()).toBe(204);
  proxy.up();
  await expect(status(page, "toolbox")).toContainText("Ended", { timeout: 15_000 });
  const reconnect = pane(page, "toolbox").getByRole("button", { name: "Reconnect" });
  await expect(reconnect).toBeVisible();
  // No more automatic attempts.
  await page.waitForTimeout(1500);
  await expect(status(page, "toolbox")).toContainText("Ended");

  const before = await sessionIds(request, "toolbox");
  await reconnect.click();
  await expect(status(page, "toolbox")).toHaveText("Connected");
  expect((await sessionIds(request, "toolbox")).filter((s) => !before.includes(s))).toHaveLength(1);
});
