// What the browser suites share: locators for a terminal pane, opening one, typing into
// it, waiting for hydration, and failing on page errors and CSP violations.
import { expect, type Page } from "@playwright/test";

export const token = process.env.PODTERM_TOKEN ?? "";

export const hydrated = (page: Page) => expect(page.locator("html[data-hydrated]")).toHaveCount(1);

export const pane = (page: Page, pod: string) =>
  page.locator(`.tab-panel:not(.hidden) .terminal-pane[data-pod="${pod}"]`);
export const screen = (page: Page, pod: string) => pane(page, pod).locator(".xterm-rows");
export const status = (page: Page, pod: string) => pane(page, pod).getByTestId("session-status");

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
