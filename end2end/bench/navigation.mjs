// Time from navigation to a usable shell prompt, in Chromium, and what the page downloaded.
// Run by the benchmark (podterm-bench); prints one JSON object.
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... TERMINAL_PATH='/terminal?...' \
//     COLD_RUNS=5 RUNS=9 node end2end/bench/navigation.mjs
//
// COLD_RUNS visits, each in a new browser context (an empty cache), then RUNS more in the
// last one (cached); then COLD_RUNS visits in new contexts that navigate as soon as their
// window is open, for comparison (see `settled`).
import { readFileSync, readdirSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumLaunch } from "../chromium.mjs";
import { logIn } from "./login.mjs";

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

// Reports, when the terminal first shows a prompt, the milliseconds since the navigation
// started: a MutationObserver added before the page's own scripts, so the time is taken in
// the task that rendered the prompt. (Playwright's `waitForFunction` polled once per frame and
// first compiled its injected script on the page's main thread while the page loaded: it
// added up to a frame, and its own work, to every sample.) Beside it, when each step on the
// way happened (`steps`): the page's first byte and last byte, the document made (this
// script runs: Chromium committed the navigation), the WebSocket made, open,
// its first message (attached) and first output, the xterm.js bundle loaded, the terminal's
// rows shown, and the prompt itself (so each visit's gaps can be read). The socket is
// watched through a Proxy of the page's `WebSocket`.
const PROMPT = "podterm-bench prompt ";
function watchForPrompt(prefix) {
  const steps = { document: performance.now() };
  const step = (name) => {
    steps[name] ??= performance.now();
  };
  window.WebSocket = new Proxy(window.WebSocket, {
    construct(target, args) {
      const socket = Reflect.construct(target, args);
      step("socket");
      socket.addEventListener("open", () => step("open"));
      socket.addEventListener("message", (event) =>
        step(typeof event.data === "string" ? "attached" : "output"),
      );
      return socket;
    },
  });
  const prompted = (element) => /[#$][\s\u00a0]/.test(element?.textContent ?? "");
  // Reported once both the prompt and xterm.js's rows have shown (the prompt may show
  // first, on the early screen).
  const report = () => {
    if (steps.prompt === undefined || steps.terminal === undefined) return;
    observer.disconnect();
    const [page] = performance.getEntriesByType("navigation");
    const bundle = performance
      .getEntriesByType("resource")
      .find((entry) => entry.name.includes("xterm-bundle"));
    Object.assign(steps, {
      response: page?.responseStart,
      html: page?.responseEnd,
      bundle: bundle?.responseEnd,
    });
    console.log(prefix + JSON.stringify({ prompt: steps.prompt, steps }));
  };
  const shown = (time) => {
    steps.prompt ??= time;
    report();
  };
  const observer = new MutationObserver(() => {
    const rows = document.querySelector(".xterm-rows");
    if (rows) step("terminal");
    const screen = document.querySelector(".early-screen");
    if (prompted(rows)) shown(performance.now());
    else if (prompted(screen) && steps.screen === undefined) {
      // Drawn in a task, not in a frame as xterm.js draws: it shows in the next frame.
      steps.screen = null;
      requestAnimationFrame((frame) => {
        steps.screen = frame;
        shown(frame);
      });
    } else report();
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true });
}

// CPU time (clock ticks) used so far by the processes this script started (Chromium's), or
// undefined without Linux's /proc.
function browserTicks() {
  let stats;
  try {
    stats = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map((pid) => {
        try {
          // pid (comm) state ppid ... utime stime: fields 14 and 15, counted after the comm.
          const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
          const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
          const ticks = Number(fields[11]) + Number(fields[12]);
          return { pid: Number(pid), ppid: Number(fields[1]), ticks };
        } catch {
          return null; // it ended meanwhile
        }
      })
      .filter(Boolean);
  } catch {
    return undefined;
  }
  const ours = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of stats) {
      if (!ours.has(stat.pid) && ours.has(stat.ppid)) {
        ours.add(stat.pid);
        grew = true;
      }
    }
  }
  ours.delete(process.pid);
  return stats.filter((s) => ours.has(s.pid)).reduce((sum, s) => sum + s.ticks, 0);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Busy CPU time (clock ticks) of the whole machine so far, over all CPUs, or undefined
// without Linux's /proc.
function machineTicks() {
  try {
    const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0];
    // cpu user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return user + nice + system + irq + softirq + (steal || 0);
  } catch {
    return undefined;
  }
}

// Waits until Chromium and the machine are idle: two 100 ms spans in which Chromium's
// processes used at most one clock tick (10 ms) and all processes together at most two. A
// new window keeps Chromium busy for about half a second on two cores (it builds the
// window's own interface, such as the omnibox popup, a WebUI page in a renderer of its
// own), and a person navigates in a window that is already open. Work left from an earlier
// part of the benchmark (a thousand shells ending) is waited out too. At most 20 s; a
// fixed second where /proc is missing.
async function settled() {
  let last = browserTicks();
  let lastMachine = machineTicks();
  if (last === undefined || lastMachine === undefined) return pause(1000);
  let quiet = 0;
  for (let waited = 0; waited < 20_000 && quiet < 2; waited += 100) {
    await pause(100);
    const [now, machine] = [browserTicks(), machineTicks()];
    quiet = now - last <= 1 && machine - lastMachine <= 2 ? quiet + 1 : 0;
    [last, lastMachine] = [now, machine];
  }
}

// The machine's speed at the moment: milliseconds for a fixed piece of work (integer
// arithmetic in a loop), timed before each visit. A virtual machine's speed moves with
// its host's load, which no process here can see.
let sink = 0;
function probe() {
  const start = performance.now();
  let x = sink;
  for (let i = 0; i < 20_000_000; i++) x = (x * 31 + i) | 0;
  sink = x;
  return performance.now() - start;
}
const probes = [];

// Opens the terminal page and returns when its prompt showed; the first visit also returns
// what the page downloaded, as the browser counted it, once it has hydrated (a terminal's
// own page loads its wasm after the prompt).
async function visit(context, countResources, settle = true) {
  const page = await context.newPage();
  if (settle) {
    // Before the wait, so its own work is waited out; not for the visits that navigate at once.
    probes.push(probe());
    await settled();
  }
  page.on("pageerror", (error) => {
    throw error;
  });
  const shown = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no prompt within 30 s")), 30_000);
    page.on("console", (message) => {
      if (message.text().startsWith(PROMPT)) {
        clearTimeout(timer);
        resolve(JSON.parse(message.text().slice(PROMPT.length)));
      }
    });
  });
  await page.goto(`${url}${target}`, { waitUntil: "commit" });
  const { prompt: time, steps } = await shown;
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
  return { time, steps, resources };
}

async function loggedIn() {
  const context = await browser.newContext();
  const login = await context.newPage();
  await logIn(login, url, token);
  await login.close();
  await context.addInitScript(watchForPrompt, PROMPT);
  return context;
}

try {
  const cold = [];
  const times = [];
  const steps = { cold: [], cached: [] };
  let resources = [];
  let context;
  for (let i = 0; i < Math.max(coldRuns, 1); i++) {
    await context?.close();
    context = await loggedIn();
    const first = await visit(context, i === 0);
    cold.push(first.time);
    steps.cold.push(first.steps);
    if (i === 0) resources = first.resources;
  }
  for (let i = 0; i < runs; i++) {
    const cached = await visit(context, false);
    times.push(cached.time);
    steps.cached.push(cached.steps);
  }
  const unsettled = [];
  for (let i = 0; i < Math.max(coldRuns, 1); i++) {
    await context.close();
    context = await loggedIn();
    unsettled.push((await visit(context, false, false)).time);
  }
  console.log(JSON.stringify({ cold, times, unsettled, probes, steps, resources }));
} finally {
  await browser.close();
}
