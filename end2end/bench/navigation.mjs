// Time from navigation to a usable shell prompt, in Chromium, and what the page downloaded.
// Run by the benchmark (podterm-bench); prints one JSON object.
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... TERMINAL_PATH='/terminal?...' \
//     RUNS=10 node end2end/bench/navigation.mjs
import { chromium } from "@playwright/test";
import { chromiumLaunch } from "../chromium.mjs";

const url = process.env.PODTERM_URL;
const token = process.env.PODTERM_TOKEN;
const target = process.env.TERMINAL_PATH;
const runs = Number(process.env.RUNS ?? 10);
if (!url || !token || !target) {
  console.error("PODTERM_URL, PODTERM_TOKEN and TERMINAL_PATH are needed");
  process.exit(2);
}

const browser = await chromium.launch(chromiumLaunch);

// Milliseconds since the navigation started, once the terminal shows a prompt.
const promptShown = () => {
  const rows = document.querySelector(".xterm-rows");
  return rows && /[#$][\s\u00a0]/.test(rows.textContent ?? "") ? performance.now() : false;
};

try {
  const context = await browser.newContext();
  const login = await context.newPage();
  await login.goto(`${url}/login`);
  await login.fill("#token", token);
  await Promise.all([login.waitForURL((u) => !u.pathname.endsWith("/login")), login.press("#token", "Enter")]);
  await login.close();

  const times = [];
  let resources = [];
  for (let i = 0; i < runs; i++) {
    const page = await context.newPage();
    page.on("pageerror", (error) => {
      throw error;
    });
    await page.goto(`${url}${target}`, { waitUntil: "commit" });
    const shown = await page.waitForFunction(promptShown, null, { polling: "raf", timeout: 30_000 });
    times.push(await shown.jsonValue());
    if (i === 0) {
      // What the first (cold cache) visit downloaded, as the browser counted it: once the
      // page has hydrated, since a terminal's own page loads its wasm after the prompt.
      await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 30_000 });
      resources = await page.evaluate(() =>
        performance.getEntriesByType("resource").map((e) => ({
          url: e.name,
          transferred: e.transferSize,
          encoded: e.encodedBodySize,
          decoded: e.decodedBodySize,
        })),
      );
    }
    await page.close();
  }
  console.log(JSON.stringify({ times, resources }));
} finally {
  await browser.close();
}
