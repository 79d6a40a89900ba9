// What the browser suites share: locators for a terminal pane, opening one, typing into
// it, waiting for hydration, failing on page errors and CSP violations, and a proxy whose
// connections a test can cut.
import net from "node:net";
import { expect, type Page } from "@playwright/test";

export const token = process.env.PODTERM_TOKEN ?? "";

export const hydrated = (page: Page) => expect(page.locator("html[data-hydrated]")).toHaveCount(1);

export const pane = (page: Page, pod: string) =>
  page.locator(`.tab-panel:not(.hidden) .terminal-pane[data-pod="${pod}"]`);
export const screen = (page: Page, pod: string) => pane(page, pod).locator(".xterm-rows");
export const status = (page: Page, pod: string) => pane(page, pod).getByTestId("session-status");

// The page's clipboard (the test grants its permissions).
export const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());
export const setClipboard = (page: Page, text: string) =>
  page.evaluate((text) => navigator.clipboard.writeText(text), text);

export async function openPod(page: Page, pod: string) {
  await page.locator(`tr[data-pod="${pod}"] .pod-open`).click();
  await expect(status(page, pod)).toHaveText("Connected");
  await expect(screen(page, pod)).toContainText(/[#$][\s\u00a0]/);
}

export async function run(page: Page, pod: string, line: string) {
  await pane(page, pod).locator(".terminal-host").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

// Page errors fail the test at once; Content-Security-Policy violations (the real policy
// is on) are collected in `violations` for an afterEach to check.
export function watch(page: Page, violations: string[]) {
  violations.length = 0;
  page.on("pageerror", (error) => {
    throw error;
  });
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
}

// Tests that also run through the real kube-apiserver (scripts/test greps @both): the
// others count the demo's pods or show its badge, which only the testcluster has.
export const BOTH = { tag: "@both" };

// A TCP proxy to podterm that a test can cut and hold down: a network drop, for a page's
// WebSockets and streamed responses alike (Playwright's offline mode does not reliably
// cut open connections).
export class Proxy {
  readonly url: string;
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  #down = false;

  private constructor(server: net.Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(target: string): Promise<Proxy> {
    const upstream = new URL(target);
    const port = Number(upstream.port || (upstream.protocol === "https:" ? 443 : 80));
    let proxy: Proxy | undefined;
    const server = net.createServer((client) => proxy!.#accept(client, upstream.hostname, port));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port: own } = server.address() as net.AddressInfo;
    proxy = new Proxy(server, `${upstream.protocol}//127.0.0.1:${own}`);
    return proxy;
  }

  #accept(client: net.Socket, host: string, port: number) {
    if (this.#down) {
      client.destroy();
      return;
    }
    const server = net.connect(port, host);
    for (const [from, to] of [
      [client, server],
      [server, client],
    ]) {
      this.#sockets.add(from);
      from.pipe(to);
      from.on("error", () => to.destroy());
      from.on("close", () => {
        this.#sockets.delete(from);
        to.destroy();
      });
    }
  }

  // Destroys every open connection, both ends, as a network drop would.
  cut() {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  // Cuts and refuses new connections until up().
  down() {
    this.#down = true;
    this.cut();
  }

  up() {
    this.#down = false;
  }

  async close() {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

