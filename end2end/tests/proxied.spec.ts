// The core flow through nginx under /terminal/ (deploy/nginx/podterm.conf), against a
// podterm started with --base-path /terminal: pages, hydration, server functions, the
// live feed, a streamed log, terminals over the proxied WebSocket, deep links and
// redirects.
import { expect, test } from "@playwright/test";
import { hydrated, pane, screen, token, watch } from "./support";

const base = process.env.PODTERM_PROXIED_URL ?? "";
const violations: string[] = [];

test.skip(!base, "PODTERM_PROXIED_URL names podterm behind nginx (scripts/test sets it)");

test.beforeEach(async ({ page }) => {
  watch(page, violations);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

test("logging in through the proxy keeps the prefix", async ({ page }) => {
  await page.goto(`${base}/?namespace=shop`);
  await expect(page).toHaveURL(`${base}/login?next=%2F%3Fnamespace%3Dshop`);
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${base}/?namespace=shop`);
  await hydrated(page);
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
});

test("dashboard, namespace switch, a log and a terminal, all under /terminal/", async ({ page }) => {
  await page.goto(`${base}/login?token=${token}`);
  await expect(page).toHaveURL(`${base}/`);
  await hydrated(page);
  await expect(page.locator("tr[data-pod]")).toHaveCount(2);
  // a server function call and a client-side navigation, both under the prefix
  const under = (query: string) => new RegExp(`^${base}/?\\?.*${query}`);
  await page.getByLabel("Namespace").selectOption("shop");
  await expect(page).toHaveURL(under("namespace=shop"));
  await expect(page.locator("tr[data-pod]")).toHaveCount(5);
  // a container's log, streamed through nginx under the prefix
  await page.locator('tr[data-pod="worker-0"] [data-logs="worker"]').click();
  await expect(page.locator(".log-lines")).toContainText("worker 2.4.1 starting");
  await page.getByLabel("Namespace").selectOption("default");
  await expect(page).toHaveURL(under("namespace=default"));
  await expect(page.locator("tr[data-pod]")).toHaveCount(2);

  await page.locator('tr[data-pod="toolbox"] .pod-open').click();
  await expect(pane(page, "toolbox").getByTestId("session-status")).toHaveText("Connected");
  await pane(page, "toolbox").locator(".terminal-host").click();
  await page.keyboard.type("echo via-ng''inx $HOSTNAME");
  await page.keyboard.press("Enter");
  await expect(screen(page, "toolbox")).toContainText("via-nginx toolbox");
  await expect(pane(page, "toolbox").locator(".terminal-link")).toHaveAttribute("href", /^\/terminal\/terminal\?/);
  await expect(page.locator(".brand")).toHaveAttribute("href", "/terminal/");
});

test("deep links and logging out keep the prefix", async ({ page }) => {
  await page.goto(`${base}/login?token=${token}`);
  await page.goto(`${base}/terminal?namespace=default&pod=busybox`);
  await hydrated(page);
  await expect(page.getByTestId("session-status")).toHaveText("Connected");
  await page.goto(`${base}/`);
  await hydrated(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(new RegExp(`^${base}/login`));
});
