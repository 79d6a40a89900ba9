// Getting into containers a shell cannot reach: the guide where a terminal cannot start, a
// debug container beside a distroless one, attaching to an interactive main process, and
// a command of one's own, run as an argument list.
import { expect, test, type Page } from "@playwright/test";
import { BOTH, hydrated, pane, run, screen, status, token, watch } from "./support";

const violations: string[] = [];

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  await page.goto(`/login?token=${token}`);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

test("no shell: the guide shows the container, then Debug gets in beside it", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=shop");
  const row = page.locator('tr[data-pod^="payments-"]');
  const pod = (await row.getAttribute("data-pod")) ?? "";
  await row.locator('button.container[data-container="payments"]').click();

  const guide = pane(page, pod).getByTestId("guide");
  await expect(guide.getByRole("heading", { name: "payments has no shell" })).toBeVisible();
  await expect(guide.getByTestId("guide-state")).toHaveText("running");
  await expect(guide).toContainText("from the current instance");
  // It logs a line every 3 s: its first or its latest ones.
  await expect(guide.getByTestId("guide-log")).toContainText(/payments 1\.4\.2 listening|processed order \d+/);
  // On the dashboard the whole log opens in a tab beside the terminals.
  await expect(guide.locator('button[data-way="logs"]')).toHaveText("Open the logs");
  // Its main process reads no stdin: no Attach offered.
  await expect(guide.getByRole("button", { name: "Attach", exact: true })).toHaveCount(0);

  await guide.getByRole("button", { name: /^Start a debug container/ }).click();
  const asking = guide.getByRole("dialog", { name: "Start a debug container?" });
  await expect(asking).toContainText("A debug container stays in the pod's spec until the pod is deleted");
  await expect(asking).toContainText("all capabilities dropped");
  await expect(asking).toContainText("/proc/1/root");
  await asking.getByRole("button", { name: "Start the debug container" }).click();

  // A new tab, in the debug container.
  const debug = page.locator('.tab-panel:not(.hidden) .terminal-pane[data-container^="podterm-debug-"]');
  await expect(debug.getByTestId("session-status")).toHaveText("Connected", { timeout: 60_000 });
  await expect(debug.getByTestId("terminal-note")).toContainText("A debug container beside payments");
  await expect(page.locator(".tab.active")).toContainText(`${pod}/podterm-debug-`);
  await expect(screen(page, pod)).toContainText(/[#$][\s\u00a0]/);
  await run(page, pod, "ps");
  await expect(screen(page, pod)).toContainText("/app/server");
  await run(page, pod, "cat /proc/1/root/etc/os-release");
  await expect(screen(page, pod)).toContainText("ID=distroless");

  // The pod list shows it for what it is, and a second Debug reuses it.
  await expect(row.locator("button.debug-of")).toContainText("debug → payments");
  await row.getByRole("button", { name: /^Debug: start a debug container beside payments/ }).click();
  await row.getByRole("button", { name: "Start the debug container" }).click();
  await expect(page.locator(".tab-panel:not(.hidden)").getByTestId("terminal-note")).toContainText("reused");
});

test("a crash loop's guide says how it last ended and shows its last words", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=shop");
  const row = page.locator('tr[data-pod="worker-0"]');
  await row.getByRole("button", { name: "Why?" }).click();
  const guide = pane(page, "worker-0").getByTestId("guide");
  await expect(guide.getByRole("heading", { name: "worker is not running" })).toBeVisible();
  await expect(guide.getByTestId("guide-state")).toContainText("CrashLoopBackOff");
  await expect(guide).toContainText(/Error, exit code 1/);
  await expect(guide.getByTestId("guide-log")).toContainText("FATAL: password authentication failed");
  // A debug container shares the target's processes: not beside one that is not running.
  await expect(guide.getByRole("button", { name: /^Start a debug container/ })).toBeDisabled();
  await expect(guide).toContainText("A debug container shares its target's processes, so it needs worker running");
  await expect(row.getByRole("button", { name: /^Debug: start a debug container beside worker$/ })).toBeDisabled();
});

test("attach reaches an interactive main process; closing detaches", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=tools");
  await page.locator('tr[data-pod="repl"]').getByRole("button", { name: "Attach" }).click();
  await expect(status(page, "repl")).toHaveText("Connected");
  await expect(pane(page, "repl").getByTestId("terminal-note")).toHaveText(
    "Attached to the main process: closing detaches, the process keeps running.",
  );
  await run(page, "repl", "echo $((6*7))");
  await expect(screen(page, "repl")).toContainText("42");
  await page.locator(".tab.active .tab-close").click();
  const asking = page.getByRole("alertdialog");
  await expect(asking).toContainText("detaches from its main process, which keeps running");
  await asking.getByRole("button", { name: "Detach" }).click();
  await expect(page.locator(".tab")).toHaveCount(0);
});

test("a command of one's own runs as an argument list, and is remembered", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=shop");
  const row = page.locator('tr[data-pod="web-7d4b9c6f5-fghij"]');
  const pod = (await row.getAttribute("data-pod")) ?? "";
  await row.getByRole("button", { name: "Choose the command for web" }).click();
  const picker = row.getByTestId("picker");
  await picker.getByLabel("Your own command").check();
  await picker.getByLabel("Command, one argument per line").fill("echo\na  b");
  await expect(picker).toContainText("podterm cannot end the session's processes");
  await picker.getByRole("button", { name: "Open a terminal" }).click();

  // Two spaces kept inside one argument: no shell split it.
  await expect(screen(page, pod)).toContainText(/a[\s\u00a0]{2}b/);
  await expect(status(page, pod)).toHaveText("Exited with code 0");
  await expect(pane(page, pod).locator(".terminal-command")).toHaveText('echo "a  b"');
  await expect(pane(page, pod).getByTestId("terminal-note")).toContainText("runs as given");

  // Remembered for the container: after a reload its button runs the same command.
  await visit(page, "/?namespace=shop");
  await expect(row.locator(".chosen")).toHaveText('echo "a  b"');
  await row.getByRole("button", { name: "Choose the command for web" }).click();
  await expect(row.getByLabel("Command, one argument per line")).toHaveValue("echo\na  b");
  await row.getByTestId("picker").getByLabel("sh only", { exact: true }).check();
  await expect(row.locator(".chosen")).toHaveText("sh");
});
