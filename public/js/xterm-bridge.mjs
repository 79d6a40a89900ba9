// Bridge between podterm's Rust (wasm-bindgen) code and xterm.js.
//
// Used as a wasm-bindgen snippet: `#[wasm_bindgen(module = "/src/app/xterm_bridge.js")]`.
// It must not import bare module names: xterm.js and its addons are loaded at
// run time with dynamic `import()` from the directory the server serves them at
// (public/vendor/xterm/, filled by scripts/vendor-xterm.mjs), because the site
// may be served under a path prefix.

// Loaded modules, one promise per resolved asset base URL.
const moduleCache = new Map();

// Resolves `assetBase` ("/vendor/xterm", "vendor/xterm", "https://host/p/vendor/xterm")
// against the document, not against this snippet's own URL, and drops trailing slashes.
function resolveBase(assetBase) {
  const base = String(assetBase ?? "").replace(/\/+$/, "");
  return new URL(`${base}/`, document.baseURI).href;
}

// Adds xterm.css to the document once per URL and waits until it has loaded,
// because xterm measures the DOM it creates and needs its styles for that.
function loadStylesheet(href) {
  for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
    if (link.href === href) {
      if (link.sheet || link.dataset.podtermLoaded === "true") return Promise.resolve();
      return new Promise((resolve, reject) => {
        link.addEventListener("load", () => resolve(), { once: true });
        link.addEventListener("error", () => reject(new Error(`could not load ${href}`)), { once: true });
      });
    }
  }
  return new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.addEventListener(
      "load",
      () => {
        link.dataset.podtermLoaded = "true";
        resolve();
      },
      { once: true },
    );
    link.addEventListener(
      "error",
      () => {
        link.remove();
        reject(new Error(`could not load ${href}`));
      },
      { once: true },
    );
    document.head.appendChild(link);
  });
}

function loadModules(assetBase) {
  const base = resolveBase(assetBase);
  let loading = moduleCache.get(base);
  if (!loading) {
    loading = Promise.all([
      import(`${base}xterm.mjs`),
      import(`${base}addon-fit.mjs`),
      import(`${base}addon-web-links.mjs`),
      import(`${base}addon-unicode11.mjs`),
      loadStylesheet(`${base}xterm.css`),
    ]).then(([xterm, fit, webLinks, unicode11]) => ({
      Terminal: xterm.Terminal,
      FitAddon: fit.FitAddon,
      WebLinksAddon: webLinks.WebLinksAddon,
      Unicode11Addon: unicode11.Unicode11Addon,
    }));
    // Let a later call try again after a failure (e.g. a network error).
    loading.catch(() => moduleCache.delete(base));
    moduleCache.set(base, loading);
  }
  return loading;
}

const FONT_FAMILY = [
  '"DejaVu Sans Mono"',
  '"Noto Sans Mono"',
  '"Liberation Mono"',
  '"Ubuntu Mono"',
  "Menlo",
  "Consolas",
  '"Noto Sans Mono CJK SC"',
  '"Noto Sans CJK SC"',
  '"WenQuanYi Zen Hei Mono"',
  '"Source Han Mono SC"',
  "monospace",
].join(", ");

// Dark theme; the 16 ANSI colours are chosen to stay readable on the
// background, and xterm's default 6x6x6 cube + grey ramp cover 16-255.
const THEME = {
  background: "#1e1e1e",
  foreground: "#d4d4d4",
  cursor: "#f0f0f0",
  cursorAccent: "#1e1e1e",
  selectionBackground: "#264f78",
  selectionForeground: "#ffffff",
  selectionInactiveBackground: "#3a3d41",
  black: "#000000",
  red: "#f14c4c",
  green: "#23d18b",
  yellow: "#e5e510",
  blue: "#3b8eea",
  magenta: "#d670d6",
  cyan: "#29b8db",
  white: "#cccccc",
  brightBlack: "#767676",
  brightRed: "#ff6b6b",
  brightGreen: "#5af78e",
  brightYellow: "#f4f99d",
  brightBlue: "#6cb6ff",
  brightMagenta: "#ff92df",
  brightCyan: "#9aedfe",
  brightWhite: "#ffffff",
};

export class TerminalHandle {
  #terminal;
  #fitAddon;
  #element;
  #disposables = [];
  #resizeObserver = null;
  #frame = 0;
  #onWindowResize;
  #disposed = false;

  constructor(modules, element) {
    const { Terminal, FitAddon, WebLinksAddon, Unicode11Addon } = modules;
    this.#element = element;
    const terminal = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      scrollback: 10000,
      fontFamily: FONT_FAMILY,
      fontSize: 14,
      // Room below the baseline, so underscores are not clipped.
      lineHeight: 1.15,
      theme: THEME,
      // Keeps dark colours from programs (e.g. blue 256-colour shades) readable.
      minimumContrastRatio: 4.5,
    });
    this.#terminal = terminal;
    this.#fitAddon = new FitAddon();
    terminal.loadAddon(this.#fitAddon);
    terminal.loadAddon(new WebLinksAddon());
    terminal.loadAddon(new Unicode11Addon());
    terminal.unicode.activeVersion = "11";
    terminal.open(element);

    this.fit();
    this.#onWindowResize = () => this.#scheduleFit();
    window.addEventListener("resize", this.#onWindowResize);
    if (typeof ResizeObserver === "function") {
      this.#resizeObserver = new ResizeObserver(() => this.#scheduleFit());
      this.#resizeObserver.observe(element);
    }
    // Fonts may finish loading after the first measurement.
    document.fonts?.ready?.then(() => this.#scheduleFit());
  }

  // The xterm.js Terminal, for tests and debugging. Read-only.
  get terminal() {
    return this.#terminal;
  }

  // Output from the pod. Copied first: a wasm-bindgen `&[u8]` is a view into
  // wasm memory, and xterm parses written data later, asynchronously.
  write(bytes) {
    if (this.#disposed) return;
    this.#terminal.write(new Uint8Array(bytes));
  }

  // Calls `callback` once xterm has processed the bytes; never after dispose(),
  // when the Rust side may have dropped the callback.
  writeWithCallback(bytes, callback) {
    if (this.#disposed) return;
    this.#terminal.write(new Uint8Array(bytes), () => {
      if (!this.#disposed) callback();
    });
  }

  writeText(text) {
    if (this.#disposed) return;
    this.#terminal.write(String(text));
  }

  onData(callback) {
    if (this.#disposed) return;
    this.#disposables.push(this.#terminal.onData((data) => callback(data)));
  }

  onBinary(callback) {
    if (this.#disposed) return;
    this.#disposables.push(this.#terminal.onBinary((data) => callback(data)));
  }

  onResize(callback) {
    if (this.#disposed) return;
    this.#disposables.push(this.#terminal.onResize(({ cols, rows }) => callback(cols, rows)));
  }

  // Fits the terminal to the element now. Does nothing while the element is
  // hidden or has no size (fitting then would shrink the terminal to 2x1).
  fit() {
    if (this.#disposed) return;
    const element = this.#element;
    if (!element.isConnected || element.clientWidth === 0 || element.clientHeight === 0) return;
    try {
      this.#fitAddon.fit();
    } catch (error) {
      console.warn("podterm: could not fit the terminal", error);
    }
  }

  cols() {
    return this.#terminal.cols;
  }

  rows() {
    return this.#terminal.rows;
  }

  focus() {
    if (this.#disposed) return;
    this.#terminal.focus();
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#resizeObserver?.disconnect();
    this.#resizeObserver = null;
    window.removeEventListener("resize", this.#onWindowResize);
    for (const disposable of this.#disposables) disposable.dispose();
    this.#disposables = [];
    // Also disposes the addons and removes the terminal's DOM from the element.
    this.#terminal.dispose();
  }

  // Coalesces resize notifications into one fit per animation frame.
  #scheduleFit() {
    if (this.#disposed || this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.fit();
    });
  }
}

// Loads the modules from `assetBase` (e.g. "/vendor/xterm", no trailing slash) once, then
// creates a terminal inside `element` and returns a TerminalHandle.
export async function createTerminal(element, assetBase) {
  const modules = await loadModules(assetBase);
  return new TerminalHandle(modules, element);
}
