// Time from navigation to a usable shell prompt, in Chromium, and what the page downloaded.
// Run by the benchmark (podterm-bench); prints one JSON object.
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... TERMINAL_PATH='/terminal?...' \
//     COLD_RUNS=5 RUNS=9 node end2end/bench/navigation.mjs
//
// COLD_RUNS visits, each in a new browser context (an empty cache), then RUNS more in the
// last one (cached).
import { chromium } from "@playwright/test";
import { chromiumLaunch } from "../chromium.mjs";

const url = process.env.PODTERM_URL;
const token = process.env.PODTERM_TOKEN;
const target = process.env.TERMINAL_PATH;
const coldRuns = Number(process.env.COLD_RUNS ?? 5);
const runs = Number(process.env.RUNS ?? 9);
if (!url || !token || !target) {
  console.error("PODTERM_URL, PODTERM_TOKEN and TERMINAL_PATH are needed");
  process.exit(2);
}

const browser = await chromium.launch(chromiumLaunch);

// Reports the milliseconds since the navigation started when the terminal first shows a
// prompt: a MutationObserver added before the page's own scripts, so the time is taken in the
// task that rendered the prompt. (Playwright's `waitForFunction` polled once per frame and
// first compiled its injected script on the page's main thread while the page loaded: it
// added up to a frame, and its own work, to every sample.)
const PROMPT = "podterm-bench prompt ";
function watchForPrompt(prefix) {
  const observer = new MutationObserver(() => {
    const rows = document.querySelector(".xterm-rows");
    if (rows && /[#$][\s\u00a0]/.test(rows.textContent ?? "")) {
      observer.disconnect();
      console.log(prefix + performance.now());
    }
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true });
}

// Opens the terminal page and returns when its prompt showed; the first visit also returns
// what the page downloaded, as the browser counted it, once it has hydrated (a terminal's
// own page loads its wasm after the prompt).
async function visit(context, countResources) {
  const page = await context.newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
  const shown = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no prompt within 30 s")), 30_000);
    page.on("console", (message) => {
      if (message.text().startsWith(PROMPT)) {
        clearTimeout(timer);
        resolve(Number(message.text().slice(PROMPT.length)));
      }
    });
  });
  await page.goto(`${url}${target}`, { waitUntil: "commit" });
  const time = await shown;
  let resources = [];
  if (countResources) {
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
  return { time, resources };
}

async function loggedIn() {
  const context = await browser.newContext();
  const login = await context.newPage();
  await login.goto(`${url}/login`);
  await login.fill("#token", token);
  await Promise.all([login.waitForURL((u) => !u.pathname.endsWith("/login")), login.press("#token", "Enter")]);
  await login.close();
  await context.addInitScript(watchForPrompt, PROMPT);
  return context;
}

try {
  const cold = [];
  const times = [];
  let resources = [];
  let context;
  for (let i = 0; i < Math.max(coldRuns, 1); i++) {
    await context?.close();
    context = await loggedIn();
    const first = await visit(context, i === 0);
    cold.push(first.time);
    if (i === 0) resources = first.resources;
  }
  for (let i = 0; i < runs; i++) {
    times.push((await visit(context, false)).time);
  }
  console.log(JSON.stringify({ cold, times, resources }));
} finally {
  await browser.close();
}
