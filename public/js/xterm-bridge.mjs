// Bridge between podterm's Rust (wasm-bindgen) code and xterm.js.
//
// A plain module the page loads before its wasm (a script tag in the document's head), so a
// terminal can show and connect while the wasm still loads: on a terminal's own page it
// opens the terminal and its WebSocket at once, shows output as it arrives, and hands both
// to the wasm when it takes over (`takeEarly`). The wasm reaches these functions through
// `globalThis.podtermXterm`. xterm.js and its addons are served from ../vendor/xterm/
// (filled by scripts/vendor-xterm.mjs); relative imports keep the site's path prefix.
import { FitAddon, Terminal, Unicode11Addon, WebLinksAddon } from "../vendor/xterm/xterm-bundle.mjs";

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

// A terminal inside `element`.
export class TerminalHandle {
  #terminal;
  #fitAddon;
  #element;
  #disposables = [];
  #resizeObserver = null;
  #frame = 0;
  #onWindowResize;
  #disposed = false;
  // Keys typed before the wasm listens (a terminal opened early): sent by `earlyInput` when
  // it takes them, else handed to the first onData.
  #typed = [];
  #typing;
  earlyInput = null;
  // The person is typing (a key, a paste, the on-screen keyboard): what xterm.js hands over
  // now is theirs, not the terminal's answer to a program's query.
  #byPerson = false;
  #byPersonTimer = 0;

  constructor(element) {
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
    terminal.attachCustomKeyEventHandler((event) => this.#clipboardKey(event));
    // Before xterm.js's own listeners (capturing); until the events' task is over.
    for (const type of ["keydown", "keypress", "paste", "input", "compositionend"]) {
      element.addEventListener(type, () => this.#personTyping(), true);
    }
    this.#typing = terminal.onData((data) => {
      if (!this.earlyInput?.(data)) this.#typed.push(data);
    });

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

  get element() {
    return this.#element;
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
    if (this.#typing) {
      this.#typing.dispose();
      this.#typing = null;
      for (const data of this.#typed.splice(0)) callback(data);
    }
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

  // xterm's screen-reader mode: the rows mirrored as text a screen reader reads, new output
  // announced.
  setScreenReaderMode(on) {
    if (this.#disposed) return;
    this.#terminal.options.screenReaderMode = Boolean(on);
  }

  // Whether the data xterm.js hands over right now was typed or pasted by the person.
  byPerson() {
    return this.#byPerson;
  }

  #personTyping() {
    this.#byPerson = true;
    clearTimeout(this.#byPersonTimer);
    this.#byPersonTimer = setTimeout(() => {
      this.#byPerson = false;
    }, 0);
  }

  // Whether the program asked for the arrows' application mode (ESC O A rather than ESC [ A).
  applicationCursor() {
    return Boolean(this.#terminal.modes?.applicationCursorKeysMode);
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#resizeObserver?.disconnect();
    this.#resizeObserver = null;
    window.removeEventListener("resize", this.#onWindowResize);
    this.#typing?.dispose();
    for (const disposable of this.#disposables) disposable.dispose();
    this.#disposables = [];
    // Also disposes the addons and removes the terminal's DOM from the element.
    this.#terminal.dispose();
  }

  // Ctrl+Shift+C and Ctrl+Insert copy the selection, Ctrl+Shift+V and Shift+Insert paste,
  // as in other terminals; Ctrl+C and Ctrl+V go to the shell (interrupt, quoted insert).
  // Returns false for the keys it handles, so xterm.js does not send them.
  #clipboardKey(event) {
    const key = event.key.toLowerCase();
    const ctrlShift = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
    const copy = (ctrlShift && key === "c") || (event.ctrlKey && !event.shiftKey && key === "insert");
    const paste = (ctrlShift && key === "v") || (event.shiftKey && !event.ctrlKey && key === "insert");
    if (!copy && !paste) return true;
    if (event.type !== "keydown") return false;
    const clipboard = navigator.clipboard;
    if (copy) {
      const text = this.#terminal.getSelection();
      if (!text) return false;
      event.preventDefault();
      if (clipboard?.writeText) {
        clipboard.writeText(text).catch((error) => console.warn("podterm: could not copy", error));
      } else {
        // Not a secure context: xterm.js answers the copy event with its selection.
        document.execCommand("copy");
      }
      return false;
    }
    if (clipboard?.readText) {
      // The browser's own paste would come on top of this one.
      event.preventDefault();
      clipboard
        .readText()
        .then((text) => {
          if (text && !this.#disposed) this.#terminal.paste(text);
        })
        .catch((error) => console.warn("podterm: could not paste", error));
    }
    return false;
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

// A terminal and its WebSocket, started before the wasm has loaded: the page's inline script
// (early-socket.js) opened the socket (`globalThis.podtermEarlySocket`) and kept its events. Until the wasm
// adopts them this is a minimal client of podterm's protocol (README, "The wire protocol"):
// output is shown, keys and the terminal's size are sent. Every socket event is kept, in
// order, for the wasm to go through when it adopts them; it knows how many output bytes are
// already shown.
export class EarlyStart {
  #events = [];
  #shown = 0;
  #adopted = false;

  constructor(started, host) {
    this.socket = started.socket;
    // The session the socket resumes, when it resumes one (see early-socket.js).
    this.resume = started.resume ?? null;
    this.terminal = new TerminalHandle(host);
    // The page's only terminal: typing can start at once.
    this.terminal.focus();
    // Line breaks before a new session's first output are not shown (as in the wasm).
    let leading = !this.resume;
    const keep = (event) => {
      this.#events.push(event);
      if (event.type === "open") this.#sendSize();
      if (event.data instanceof ArrayBuffer) {
        let bytes = new Uint8Array(event.data);
        if (leading) {
          let blank = 0;
          while (blank < bytes.length && (bytes[blank] === 13 || bytes[blank] === 10)) blank++;
          if (blank < bytes.length) leading = false;
          bytes = bytes.subarray(blank);
        }
        if (bytes.length > 0) this.terminal.write(bytes);
        this.#shown += event.data.byteLength;
      }
    };
    for (const event of started.events.splice(0)) keep(event);
    this.socket.onopen = keep;
    this.socket.onclose = keep;
    this.socket.onmessage = keep;
    const encoder = new TextEncoder();
    // Keys (and the terminal's answers to the shell's queries) go out while the socket is
    // open; otherwise they wait for the wasm, which sends them once the session attaches.
    this.terminal.earlyInput = (data) => {
      if (this.socket.readyState !== WebSocket.OPEN) return false;
      this.socket.send(encoder.encode(data));
      return true;
    };
    this.terminal.onResize(() => this.#sendSize());
  }

  #sendSize() {
    if (this.#adopted || this.socket.readyState !== WebSocket.OPEN) return;
    const cols = this.terminal.cols();
    const rows = this.terminal.rows();
    this.socket.send(JSON.stringify({ type: "resize", cols, rows }));
  }

  // Output bytes already written to the terminal.
  get shown() {
    return this.#shown;
  }

  // Stops listening and returns the events so far; the caller listens from now on.
  adopt() {
    this.#adopted = true;
    this.terminal.earlyInput = null;
    this.socket.onopen = null;
    this.socket.onclose = null;
    this.socket.onmessage = null;
    return this.#events.splice(0);
  }
}

let early = null;

function startEarly() {
  const started = globalThis.podtermEarlySocket;
  if (!started) return;
  delete globalThis.podtermEarlySocket;
  // The terminal the server rendered for that socket (this module runs once the page is
  // parsed).
  const host = document.querySelector(".terminal-host[data-socket]");
  if (host?.dataset.socket !== started.path) {
    started.socket.close();
    return;
  }
  try {
    early = new EarlyStart(started, host);
  } catch (error) {
    // The wasm starts the terminal as on any other page.
    started.socket.close();
    console.warn("podterm: could not start the terminal early", error);
  }
}

// The early start for `element`, once; undefined when there is none.
export function takeEarly(element) {
  if (!early || early.terminal.element !== element) return undefined;
  const taken = early;
  early = null;
  return taken;
}

// Creates a terminal inside `element`.
export function createTerminal(element) {
  return new TerminalHandle(element);
}

globalThis.podtermXterm = { createTerminal, takeEarly };
startEarly();
