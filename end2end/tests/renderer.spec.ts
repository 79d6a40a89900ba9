// The renderer: WebGL where a GPU draws it, or where the setting asks for it even on the CPU
// (here SwiftShader); the DOM renderer otherwise, and when the WebGL context is lost, the
// terminal working on with its content.
import { expect, test, type Page } from "@playwright/test";
import { chromiumWithWebgl } from "../chromium.mjs";
import { hydrated, openPod, pane, run, screen, token, watch } from "./support";

test.use({ launchOptions: chromiumWithWebgl });

const POD = "busybox";
const host = (page: Page) => pane(page, POD).locator(".terminal-host");

// Loses the WebGL context of the terminal's canvas, as a GPU reset would. A canvas that
// holds a 2D context answers null for WebGL2 (no new context is made).
const loseContext = (page: Page) =>
  host(page).evaluate((element) => {
    let lost = 0;
    for (const canvas of element.querySelectorAll("canvas")) {
      const gl = canvas.getContext("webgl2");
      const extension = gl?.getExtension("WEBGL_lose_context");
      if (extension) {
        extension.loseContext();
        lost++;
      }
    }
    return lost;
  });

const violations: string[] = [];

// Sets the renderer in the settings panel.
async function choose(page: Page, renderer: string) {
  await pane(page, POD).getByRole("button", { name: "Terminal settings" }).click();
  const settings = page.getByRole("dialog", { name: "Terminal settings" });
  await settings.getByLabel("Renderer").selectOption(renderer);
  await settings.getByRole("button", { name: "Done" }).click();
}

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  await page.goto(`/login?token=${token}`);
  await page.goto("/");
  await hydrated(page);
  await openPod(page, POD);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

test("WebGL draws the terminal; a lost context falls back to the DOM renderer, content and typing kept", async ({
  page,
}) => {
  // The late module loads a moment after the first prompt.
  await expect(host(page)).toHaveAttribute("data-extras", "ready", { timeout: 15_000 });
  await choose(page, "webgl");
  await expect(host(page)).toHaveAttribute("data-renderer", "webgl");
  await expect(host(page).locator(".xterm-rows")).toHaveCount(0);
  await run(page, POD, "echo before-$((40+2))");

  expect(await loseContext(page)).toBe(1);
  // xterm.js waits 3 s for the context to come back before it gives up on it.
  await expect(host(page)).toHaveAttribute("data-renderer", "dom", { timeout: 15_000 });
  await expect(screen(page, POD)).toContainText("before-42");
  await run(page, POD, "echo after-$((40+3))");
  await expect(screen(page, POD)).toContainText("after-43");
  await expect(host(page).locator(".xterm-screen canvas")).toHaveCount(0);
});

test("the renderer setting: automatic keeps the DOM where WebGL runs on the CPU; WebGL and DOM only are kept", async ({
  page,
}) => {
  await expect(host(page)).toHaveAttribute("data-extras", "ready", { timeout: 15_000 });
  // SwiftShader draws on the CPU, slower than the DOM renderer: automatic does not take it.
  await expect(host(page)).toHaveAttribute("data-renderer", "dom");
  await choose(page, "webgl");
  await expect(host(page)).toHaveAttribute("data-renderer", "webgl");
  await run(page, POD, "echo drawn-$((6*7))");
  await expect(host(page).locator(".xterm-rows")).toHaveCount(0);

  // Kept in the browser: a reload draws with WebGL again.
  await page.reload();
  await hydrated(page);
  await expect(host(page)).toHaveAttribute("data-extras", "ready", { timeout: 15_000 });
  await expect(host(page)).toHaveAttribute("data-renderer", "webgl");

  await choose(page, "dom");
  await expect(host(page)).toHaveAttribute("data-renderer", "dom");
  await run(page, POD, "echo dom-$((6*7))");
  await expect(screen(page, POD)).toContainText("dom-42");
});
