// Time to display 50 MB of mixed terminal output (SGR colours, unicode with wide characters,
// long lines), in Chromium: `cat` of the file in the demo's busybox container through
// podterm's terminal page, against the same bytes written into a bare xterm.js page that
// has them in memory (the limit); each with the DOM and the WebGL renderer (SwiftShader, no
// GPU). Run by the benchmark (podterm-bench); prints one JSON object.
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... MB=50 RUNS=1 \
//     node end2end/bench/render.mjs
//
// TRACE=DIR also writes a Chromium performance trace of each timing there (TRACE_PODTERM_ONLY=1:
// not of the bare page, whose traces are about a gigabyte); RENDERERS=dom times the DOM
// renderer only (the WebGL rows are then empty).
//
// Each time runs from the key that starts the output (the bare page: its first write) to
// the render that first shows the end mark, read in the page from xterm.js's onRender.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "@playwright/test";
import { chromiumWithWebgl } from "../chromium.mjs";
import { logIn } from "./login.mjs";

const url = process.env.PODTERM_URL;
const token = process.env.PODTERM_TOKEN;
const bytes = Number(process.env.MB ?? 50) * 1_000_000;
const runs = Number(process.env.RUNS ?? 1);
const traces = process.env.TRACE;
const renderers = (process.env.RENDERERS ?? "dom,webgl").split(",");
const pod = { namespace: "default", pod: "busybox", container: "busybox" };
const remote = "/tmp/podterm-render.txt";
const MARK = "render-42-done";
const COMMAND = `cat ${remote}; echo render-$((20+22))-done`;
if (!url || !token) {
  console.error("PODTERM_URL and PODTERM_TOKEN are needed");
  process.exit(2);
}
const publicDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "public");

// Deterministic pseudo-random numbers (mulberry32).
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["pod", "container", "namespace", "error", "warning", "ready", "exec", "stream", "0x7f3a", "42"];
const UNICODE = ["héllo", "wörld", "ünïcødé", "λ→∞", "✓", "│├──", "漢字", "テスト", "한국어", "🚀", "👍🏽", "é"];

// The file: lines of coloured words, unicode lines (wide characters included), long lines
// that wrap over many rows, plain lines; "\n" line ends (the PTY makes them "\r\n").
function generate(size) {
  const next = random(42);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const colour = () => {
    const kind = next();
    if (kind < 0.4) return `\x1b[${30 + Math.floor(next() * 8) + (next() < 0.5 ? 60 : 0)}m`;
    if (kind < 0.7) return `\x1b[38;5;${Math.floor(next() * 256)}m`;
    if (kind < 0.9) return `\x1b[38;2;${Math.floor(next() * 256)};${Math.floor(next() * 256)};${Math.floor(next() * 256)}m`;
    return `\x1b[1;4;48;5;${Math.floor(next() * 256)}m`;
  };
  const lines = [];
  let length = 0;
  let n = 0;
  while (length < size) {
    const kind = next();
    let line;
    if (kind < 0.35) {
      line = Array.from({ length: 4 + Math.floor(next() * 10) }, () => `${colour()}${pick(WORDS)}\x1b[0m`).join(" ");
    } else if (kind < 0.6) {
      line = Array.from({ length: 4 + Math.floor(next() * 12) }, () => pick(UNICODE)).join(" ");
    } else if (kind < 0.75) {
      const words = [];
      for (let w = 200 + Math.floor(next() * 400); w > 0; w--) {
        words.push(next() < 0.1 ? `${colour()}${pick(WORDS)}\x1b[0m` : pick(next() < 0.8 ? WORDS : UNICODE));
      }
      line = words.join(" ");
    } else {
      line = `${String(n).padStart(8, "0")} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`;
    }
    lines.push(line);
    length += Buffer.byteLength(line) + 1;
    n++;
  }
  return Buffer.from(lines.join("\n") + "\n");
}

async function upload(data) {
  const path = `/api/files/${pod.namespace}/${pod.pod}/${pod.container}/upload?path=${encodeURIComponent(remote)}&overwrite=true`;
  const response = await fetch(`${url}${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    body: data,
  });
  if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
}

// In the page: resolves with the time of the first render that shows `mark` near the cursor.
function watchForMark(terminal, mark) {
  return new Promise((resolve) => {
    const subscription = terminal.onRender(() => {
      const buffer = terminal.buffer.active;
      const cursor = buffer.baseY + buffer.cursorY;
      for (let y = Math.max(0, cursor - 2); y <= cursor; y++) {
        if (buffer.getLine(y)?.translateToString(true).includes(mark)) {
          subscription.dispose();
          resolve(performance.now());
          return;
        }
      }
    });
  });
}

let traceCount = 0;
async function traced(page, name) {
  if (traces && !(process.env.TRACE_PODTERM_ONLY && name.startsWith("bare"))) await browser.startTracing(page, { path: join(traces, `${traceCount++}-${name}.json`) });
}
async function untraced() {
  if (traces) await browser.stopTracing();
}

// podterm's terminal page; `renderer` is the setting ("webgl" or "dom"). Returns the
// milliseconds, the terminal's size, and what the late module weighed.
async function throughPodterm(context, renderer) {
  const page = await context.newPage();
  await page.addInitScript((chosen) => {
    const key = "podterm.terminal-settings";
    localStorage.setItem(key, JSON.stringify({ ...JSON.parse(localStorage.getItem(key) ?? "{}"), renderer: chosen }));
  }, renderer);
  await page.goto(`${url}/terminal?namespace=${pod.namespace}&pod=${pod.pod}&container=${pod.container}`);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 30_000 });
  const host = page.locator(".terminal-host");
  await host.and(page.locator("[data-extras=ready]")).waitFor({ timeout: 30_000 });
  const want = renderer === "dom" ? "dom" : "webgl";
  const active = await host.getAttribute("data-renderer");
  if (active !== want) throw new Error(`podterm's renderer is ${active}, not ${want}`);
  await host.click();
  await page.keyboard.type(COMMAND);
  // Handed over as text: evaluated by the debugger, the page's script policy does not apply.
  await page.evaluate(`globalThis.watchForMark = ${watchForMark}`);
  await host.evaluate((element, mark) => {
    const terminal = globalThis.podtermXterm.terminalOf(element);
    let started = 0;
    const start = (event) => {
      if (event.key === "Enter") started = performance.now();
    };
    element.addEventListener("keydown", start, { capture: true, once: true });
    globalThis.renderTiming = globalThis.watchForMark(terminal, mark).then((shown) => ({
      ms: shown - started,
      cols: terminal.cols,
      rows: terminal.rows,
    }));
  }, MARK);
  await traced(page, `podterm-${renderer}`);
  await page.keyboard.press("Enter");
  const result = await page.evaluate(() => globalThis.renderTiming);
  await untraced();
  const late = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => /extras\.mjs/.test(e.name))
      .map((e) => new URL(e.name).pathname),
  );
  await page.close();
  return { ...result, late };
}

// The bare page: xterm.js and podterm's terminal options, the bytes already in memory,
// written in 64 KiB pieces (podterm's largest message) as fast as xterm.js takes them.
const BARE = "http://bare.invalid";
async function bare(context, data, { webgl, cols, rows }) {
  const page = await context.newPage();
  const files = {
    "/": ["text/html", "<!doctype html><link rel=stylesheet href=/xterm.css><body style='margin:0'><div id=t style='width:100vw;height:100vh'></div>"],
    "/xterm.css": ["text/css", readFileSync(join(publicDir, "vendor/xterm/xterm.css"))],
    "/xterm-bundle.mjs": ["text/javascript", readFileSync(join(publicDir, "vendor/xterm/xterm-bundle.mjs"))],
    "/xterm-extras.mjs": ["text/javascript", readFileSync(join(publicDir, "vendor/xterm/xterm-extras.mjs"))],
    "/terminal-settings.mjs": ["text/javascript", readFileSync(join(publicDir, "js/terminal-settings.mjs"))],
    "/data": ["application/octet-stream", data],
  };
  await page.route(`${BARE}/**`, (route) => {
    const file = files[new URL(route.request().url()).pathname];
    if (!file) return route.fulfill({ status: 404 });
    return route.fulfill({ contentType: file[0], body: file[1] });
  });
  await page.goto(`${BARE}/`);
  await page.evaluate(`globalThis.watchForMark = ${watchForMark}`);
  await traced(page, `bare-${webgl ? "webgl" : "dom"}`);
  const ms = await page.evaluate(
    async ([webgl, cols, rows, mark]) => {
      const { Terminal, Unicode11Addon } = await import("/xterm-bundle.mjs");
      const { terminalOptions } = await import("/terminal-settings.mjs");
      const terminal = new Terminal({ allowProposedApi: true, cursorBlink: true, ...terminalOptions(), minimumContrastRatio: 4.5 });
      terminal.loadAddon(new Unicode11Addon());
      terminal.unicode.activeVersion = "11";
      terminal.open(document.getElementById("t"));
      if (webgl) {
        const { WebglAddon } = await import("/xterm-extras.mjs");
        terminal.loadAddon(new WebglAddon());
      }
      terminal.resize(cols, rows);
      const bytes = new Uint8Array(await (await fetch("/data")).arrayBuffer());
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 100)));
      const shown = globalThis.watchForMark(terminal, mark);
      const started = performance.now();
      // xterm.js drops writes beyond 50 MB pending: at most 4 MB are, 2 MB at least.
      let pending = 0;
      let wake = null;
      for (let at = 0; at < bytes.length; at += 65536) {
        const chunk = bytes.subarray(at, at + 65536);
        pending += chunk.length;
        terminal.write(chunk, () => {
          pending -= chunk.length;
          if (pending < 2_000_000) wake?.();
        });
        if (pending > 4_000_000) await new Promise((resolve) => (wake = resolve));
        wake = null;
      }
      return (await shown) - started;
    },
    [webgl, cols, rows, MARK],
  );
  await untraced();
  await page.close();
  return ms;
}

const data = generate(bytes);
// What xterm.js gets through the PTY: "\r\n" line ends, then the end mark's line.
const asShown = Buffer.from(data.toString("latin1").replaceAll("\n", "\r\n") + `${MARK}\r\n`, "latin1");
await upload(data);

const browser = await chromium.launch(chromiumWithWebgl);
try {
  const context = await browser.newContext();
  const login = await context.newPage();
  await logIn(login, url, token);
  await login.close();
  const result = { bytes: data.length, podterm_dom: [], bare_dom: [], podterm_webgl: [], bare_webgl: [], late: [] };
  for (let i = 0; i < runs; i++) {
    for (const renderer of renderers) {
      const through = await throughPodterm(context, renderer === "dom" ? "dom" : "webgl");
      result[`podterm_${renderer}`].push(through.ms);
      result.late = through.late;
      const size = { webgl: renderer === "webgl", cols: through.cols, rows: through.rows };
      result[`bare_${renderer}`].push(await bare(context, asShown, size));
      result.cols = through.cols;
      result.rows = through.rows;
    }
  }
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
