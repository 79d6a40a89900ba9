// End-to-end tests against a running podterm.
//
//   PODTERM_URL=http://127.0.0.1:3000 npx playwright test --config end2end/playwright.config.ts
//
// Uses Debian's chromium (/usr/bin/chromium); Playwright's own browsers are never
// downloaded. There is no webServer entry: start podterm first and point
// PODTERM_URL at it.
import { defineConfig } from "@playwright/test";
import { chromiumLaunch } from "./chromium.mjs";

export default defineConfig({
  // Relative to this file.
  testDir: "tests",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results",
  reporter: "list",
  timeout: 30_000,
  workers: 1,
  retries: 0,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  use: {
    baseURL: process.env.PODTERM_URL,
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: chromiumLaunch,
      },
    },
  ],
});
