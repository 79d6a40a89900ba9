// Bridge between podterm's Rust (wasm-bindgen) code and xterm.js.
//
// A plain module the page loads before its wasm (a script tag in the document's head), so a
// terminal can show and connect while the wasm still loads: on a terminal's own page it
// opens the terminal and its WebSocket at once, shows output as it arrives, and hands both
// to the wasm when it takes over (`takeEarly`). The wasm reaches these functions through
// `globalThis.podtermXterm`. xterm.js and its addons are served from ../vendor/xterm/
// (filled by scripts/vendor-xterm.mjs); relative imports keep the site's path prefix.
import { FitAddon, Terminal, Unicode11Addon, WebLinksAddon } from "../vendor/xterm/xterm-bundle.mjs";
import * as earlyScreen from "./early-screen.mjs";
import * as chosen from "./terminal-settings.mjs";

// The open terminals, for settings to reach them all.
const live = new Set();
chosen.onChange(() => {
  for (const handle of live) handle.applySettings();
});

// How long after the first prompt the part loaded later (search, OSC 52, WebGL) is
// imported: the page's first load is over by then.
const EXTRAS_AFTER_MS = 1000;
// That part, imported once.
let extrasModule = null;
function loadExtras() {
  // A failed import (the network down) is tried again at the next use.
  extrasModule ??= import("./terminal-extras.mjs").catch((error) => {
    extrasModule = null;
    throw error;
  });
  return extrasModule;
}

// Whether pasting `text` runs more than one line (or a line at once): worth a question.
const manyLines = (text) => /[\r\n]/.test(text);

// A Mac's keys: Cmd+C copies, Cmd+V pastes, Cmd+F searches, and Ctrl+C stays the
// interrupt. The same test as xterm.js's (navigator.platform), so both agree.
const MAC = /^(Mac|iPhone|iPad|iPod)/.test(globalThis.navigator?.platform ?? "");
const cmdOnly = (event) => MAC && event.metaKey && !event.ctrlKey && !event.altKey && !event.shiftKey;

const encoder = new TextEncoder();

// In a flood (a write of FLOOD_BYTES or more), output goes to xterm.js at most once per
// FLOOD_GAP_MS, in one write: fewer frames, more time to parse (BENCHMARKS.md, "Output in
// the browser"). Other output (an echo) is written at once.
const FLOOD_BYTES = 32 * 1024;
const FLOOD_GAP_MS = 80;
class Batched {
  #terminal;
  #disposed;
  #handed = -Infinity;
  #handedBytes = 0;
  #timer = 0;
  #waiting = [];
  #waitingBytes = 0;
  #callbacks = [];

  constructor(terminal, disposed) {
    this.#terminal = terminal;
    this.#disposed = disposed;
  }

  write(bytes, callback) {
    this.#waiting.push(bytes);
    this.#waitingBytes += bytes.length;
    if (callback) this.#callbacks.push(callback);
    if (this.#timer) return;
    const wait = this.#handedBytes < FLOOD_BYTES ? 0 : this.#handed + FLOOD_GAP_MS - performance.now();
    if (wait <= 0) this.#hand();
    // Rounded up: setTimeout takes whole milliseconds, dropping the fraction.
    else this.#timer = setTimeout(() => this.#hand(), Math.ceil(wait));
  }

  #hand() {
    this.#timer = 0;
    if (this.#disposed()) return;
    this.#handed = performance.now();
    const parts = this.#waiting.splice(0);
    let bytes = parts[0];
    if (parts.length > 1) {
      bytes = new Uint8Array(this.#waitingBytes);
      let at = 0;
      for (const part of parts) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    this.#handedBytes = this.#waitingBytes;
    this.#waitingBytes = 0;
    const callbacks = this.#callbacks.splice(0);
    this.#terminal.write(bytes, () => {
      if (this.#disposed()) return;
      for (const callback of callbacks) callback();
    });
  }
}

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
  #output;
  // Keys typed before the wasm listens (a terminal opened early): sent by `earlyInput` when
  // it takes them, else handed to the first onData.
  #typed = [];
  #typing;
  earlyInput = null;
  // The person is typing (a key, a paste, the on-screen keyboard): what xterm.js hands over
  // now is theirs, not the terminal's answer to a program's query.
  #byPerson = false;
  #byPersonTimer = 0;
  // The page's wasm, told of what it shows: the search key, a paste to confirm, the match
  // count (`onAction`).
  #action = null;
  #wrote = false;
  #extras = null;
  // Picks WebGL or DOM, once the late part is in (xterm.js draws with DOM until then).
  #renderer = null;
  // Ends the wait before the late addons load (search wants them now).
  #extrasNow = null;
  // OSC 52 heard before the late part is in (a program that copies at its start): kept, and
  // written again once the part decides on it. Null from then on.
  #earlyCopies = [];

  constructor(element) {
    this.#element = element;
    const terminal = new Terminal({
      // The search addon's highlights are decorations.
      allowProposedApi: true,
      cursorBlink: true,
      ...chosen.terminalOptions(),
      // Keeps dark colours from programs (e.g. blue 256-colour shades) readable.
      minimumContrastRatio: 4.5,
    });
    this.#terminal = terminal;
    this.#output = new Batched(terminal, () => this.#disposed);
    this.#fitAddon = new FitAddon();
    terminal.loadAddon(this.#fitAddon);
    terminal.loadAddon(new WebLinksAddon());
    terminal.loadAddon(new Unicode11Addon());
    terminal.unicode.activeVersion = "11";
    terminal.open(element);
    element.dataset.renderer = "dom";
    terminal.attachCustomKeyEventHandler((event) => this.#clipboardKey(event) && this.#ownKey(event));
    // Before xterm.js's own listeners (capturing); until the events' task is over.
    for (const type of ["keydown", "keypress", "paste", "input", "compositionend"]) {
      element.addEventListener(type, () => this.#personTyping(), true);
    }
    this.#typing = terminal.onData((data) => this.typedEarly(data));
    this.#disposables.push(
      terminal.onSelectionChange(() => {
        if (chosen.settings().copyOnSelect && terminal.hasSelection()) this.copySelection();
      }),
    );
    this.#listenForPastes(element);
    this.#listenForEarlyCopies(terminal);
    this.#element.style.background = chosen.theme().background;
    live.add(this);

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
    this.#output.write(new Uint8Array(bytes), null);
    this.#wrote = true;
    this.#shown();
  }

  // Calls `callback` once xterm has processed the bytes; never after dispose(),
  // when the Rust side may have dropped the callback.
  writeWithCallback(bytes, callback) {
    if (this.#disposed) return;
    this.#wrote = true;
    this.#shown();
    this.#output.write(new Uint8Array(bytes), callback);
  }

  // Calls `callback` once everything written so far is parsed (rendered at the next
  // frame); at once when the terminal is gone.
  afterWritten(callback) {
    if (this.#disposed) callback();
    else this.#output.write(new Uint8Array(0), callback);
  }

  writeText(text) {
    if (this.#disposed) return;
    this.#output.write(encoder.encode(String(text)), null);
  }

  // Keys typed before the wasm listens: sent by `earlyInput` when it takes them, else kept
  // for the first onData. Also the keys typed before this terminal was made.
  typedEarly(data) {
    if (!this.earlyInput?.(data)) this.#typed.push(data);
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

  // The page's wasm hears `callback(name, detail)`: "search" (Ctrl+Shift+F), "paste" (a
  // paste of several lines, to confirm; then `pasteNow`), "results" ("index count", index
  // -1 for none current; "invalid" for a bad pattern). Output so far and a wasm that
  // listens mean the first prompt is in: the late addons load now.
  onAction(callback) {
    if (this.#disposed) return;
    this.#action = callback;
    this.#shown();
  }

  // Applies the current settings and refits: a new font size reaches the PTY as a resize.
  applySettings() {
    if (this.#disposed) return;
    Object.assign(this.#terminal.options, chosen.terminalOptions());
    this.#element.style.background = chosen.theme().background;
    this.#renderer?.use(chosen.settings().renderer);
    this.fit();
    // Again once the renderer has the new font's measure: the first fit after a font change
    // can come out a column short of what a reload gives (seen in Firefox).
    this.#scheduleFit();
  }

  // Finds `term` (see Extras.find), loading the search addon first if it is not yet in.
  find(term, caseSensitive, regex, how) {
    this.#withExtras((extras) => {
      try {
        extras.find(term, { caseSensitive, regex }, how);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        this.#tell("results", "invalid");
      }
    });
  }

  clearSearch() {
    this.#withExtras((extras) => extras.clear());
  }

  hasSelection() {
    return this.#terminal.hasSelection();
  }

  selectAll() {
    this.#terminal.selectAll();
  }

  // Clears the scrollback and the screen but the cursor's line, as `clear` would.
  clear() {
    this.#terminal.clear();
  }

  copySelection() {
    const text = this.#terminal.getSelection();
    if (!text) return;
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).catch((error) => console.warn("podterm: could not copy", error));
    } else {
      // Not a secure context: xterm.js answers the copy event with its selection.
      document.execCommand("copy");
    }
  }

  // Pastes what the clipboard holds, as typed keys (see `#paste`).
  pasteClipboard() {
    const clipboard = navigator.clipboard;
    if (!clipboard?.readText) return false;
    clipboard
      .readText()
      .then((text) => this.#paste(text))
      .catch((error) => console.warn("podterm: could not paste", error));
    return true;
  }

  // A paste the person confirmed. `term.paste` wraps it as a bracketed paste when the
  // program asked for that.
  pasteNow(text) {
    if (this.#disposed || !text) return;
    this.#personTyping();
    this.#terminal.paste(text);
    this.#terminal.focus();
  }

  dispose() {
    if (this.#disposed) return;
    live.delete(this);
    this.#action = null;
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
  // On a Mac Cmd+C copies too; Cmd+V is left to the browser's own paste (`#listenForPastes`),
  // which, unlike a read of the clipboard, asks Safari and Firefox for nothing.
  // Returns false for the keys it handles, so xterm.js does not send them.
  #clipboardKey(event) {
    const key = event.key.toLowerCase();
    const ctrlShift = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
    const copy =
      (ctrlShift && key === "c") ||
      (event.ctrlKey && !event.shiftKey && key === "insert") ||
      (cmdOnly(event) && key === "c");
    const paste = (ctrlShift && key === "v") || (event.shiftKey && !event.ctrlKey && key === "insert");
    if (!copy && !paste) return true;
    if (event.type !== "keydown") return false;
    if (copy) {
      if (!this.#terminal.hasSelection()) return false;
      event.preventDefault();
      this.copySelection();
      return false;
    }
    // The browser's own paste would come on top of this one.
    if (this.pasteClipboard()) event.preventDefault();
    return false;
  }

  // Ctrl+Shift+F (Cmd+F on a Mac) opens the search; Ctrl+= and Ctrl+- make the font bigger
  // and smaller, Ctrl+0 sets it back (rather than zooming the page). Keys a shell needs stay
  // its own: Ctrl+_ (undo) has Shift.
  #ownKey(event) {
    const key = event.key.toLowerCase();
    const search = cmdOnly(event) && key === "f";
    if (!search && (!event.ctrlKey || event.altKey || event.metaKey)) return true;
    let act = null;
    if (search || (event.shiftKey && key === "f")) {
      // Keys typed before the search field shows must not reach the shell.
      act = () => {
        this.#terminal.blur();
        this.#tell("search", "");
      };
    }
    else if (key === "=" || key === "+") act = () => chosen.stepFontSize(1);
    else if (!event.shiftKey && key === "-") act = () => chosen.stepFontSize(-1);
    else if (!event.shiftKey && key === "0") act = () => chosen.stepFontSize(0);
    if (!act) return true;
    event.preventDefault();
    if (event.type === "keydown") act();
    return false;
  }

  // Every paste goes through `#paste`: the browser's own (its menu, Cmd+V) is taken before
  // xterm.js sees it; a middle click pastes the clipboard, as on Linux desktops.
  #listenForPastes(element) {
    const onPaste = (event) => {
      const text = event.clipboardData?.getData("text/plain");
      event.preventDefault();
      event.stopImmediatePropagation();
      this.#paste(text ?? "");
    };
    const middle = (event) => {
      if (event.button !== 1) return;
      // No autoscroll, no paste of the primary selection on top of ours.
      event.preventDefault();
      if (event.type === "mouseup") {
        this.#terminal.focus();
        this.pasteClipboard();
      }
    };
    element.addEventListener("paste", onPaste, true);
    element.addEventListener("mousedown", middle, true);
    element.addEventListener("mouseup", middle, true);
    this.#disposables.push({
      dispose: () => {
        element.removeEventListener("paste", onPaste, true);
        element.removeEventListener("mousedown", middle, true);
        element.removeEventListener("mouseup", middle, true);
      },
    });
  }

  // Several lines ask first (a setting), in the page, where the wasm listens.
  #paste(text) {
    if (this.#disposed || !text) return;
    if (this.#action && chosen.settings().confirmPaste && manyLines(text)) this.#tell("paste", text);
    else this.pasteNow(text);
  }

  #tell(name, detail) {
    if (!this.#disposed) this.#action?.(name, detail);
  }

  // Output shown: once the wasm listens too, the late addons load, a moment later (after
  // the page's first load; at once when search asks for them).
  #shown(now = false) {
    if (now) this.#extrasNow?.();
    if (this.#extras || !this.#wrote || !this.#action) return;
    const later = new Promise((resolve) => {
      const timer = now ? 0 : setTimeout(resolve, EXTRAS_AFTER_MS);
      this.#extrasNow = () => {
        clearTimeout(timer);
        resolve();
      };
      if (now) resolve();
    });
    this.#extras = later
      .then(loadExtras)
      .then(({ Extras, Renderer }) => {
        if (this.#disposed) return null;
        this.#renderer = new Renderer(this.#terminal, this.#element);
        this.#renderer.use(chosen.settings().renderer);
        const extras = new Extras(this.#terminal, {
          osc52Allowed: () => chosen.settings().osc52,
          results: (index, count) => this.#tell("results", `${index} ${count}`),
        });
        // For tests and debugging: OSC 52 is heard from now on.
        this.#element.dataset.extras = "ready";
        const early = this.#earlyCopies;
        this.#earlyCopies = null;
        for (const data of early) this.#terminal.write(`\x1b]52;${data}\x07`);
        return extras;
      })
      .catch((error) => {
        console.warn("podterm: could not load search, OSC 52 and WebGL", error);
        this.#extras = null;
        return null;
      });
  }

  // Registered before the late part's own handlers, so asked only when they are not there
  // yet (or did not take a malformed one, which ends here). Asks for the part at once.
  #listenForEarlyCopies(terminal) {
    terminal.parser.registerOscHandler(52, (data) => {
      if (this.#earlyCopies && this.#earlyCopies.length < 8) {
        this.#earlyCopies.push(data);
        this.#wrote = true;
        this.#shown(true);
      }
      return true;
    });
  }

  #withExtras(act) {
    if (this.#disposed) return;
    this.#wrote = true;
    this.#shown(true);
    this.#extras?.then((extras) => {
      if (extras && !this.#disposed) act(extras);
    });
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
// Makes the early start's terminal at once, when it waits for the shell's first output.
let makeEarly = null;

// How long the early start waits for the shell's first output, to show it on the early
// screen before making xterm.js's terminal (which then takes the main thread a while).
const FIRST_OUTPUT_WAIT_MS = 150;

function startEarly() {
  const started = globalThis.podtermEarlySocket;
  if (!started) return;
  delete globalThis.podtermEarlySocket;
  // The terminal the server rendered for that socket (this module runs once the page is
  // parsed).
  const host = document.querySelector(".terminal-host[data-socket]");
  if (host?.dataset.socket !== started.path) {
    started.stopKeeping?.();
    started.socket.close();
    return;
  }
  let screen = null;
  let timer = 0;
  const make = () => {
    if (makeEarly !== make) return;
    makeEarly = null;
    stopWaiting();
    // Keys typed ahead, kept by the page's early script until now.
    started.stopKeeping?.();
    try {
      early = new EarlyStart(started, host);
      for (const data of started.typed ?? []) early.terminal.typedEarly(data);
    } catch (error) {
      // The wasm starts the terminal as on any other page.
      started.socket.close();
      console.warn("podterm: could not start the terminal early", error);
    }
    // Gone once xterm.js has the same output (it draws it in the next frame).
    if (screen && early) early.terminal.afterWritten(() => screen.remove());
    else screen?.remove();
  };
  makeEarly = make;
  // The shell's output: on the early screen, and xterm.js's terminal made after the frame
  // that paints it.
  const show = () => {
    stopWaiting();
    screen = drawScreen(host, started.events.filter((e) => e.data instanceof ArrayBuffer), chosen.terminalOptions());
    if (screen) requestAnimationFrame(() => setTimeout(make));
    else make();
  };
  const heard = (event) => {
    if (event.data instanceof ArrayBuffer) show();
  };
  const stopWaiting = () => {
    clearTimeout(timer);
    started.socket.removeEventListener("message", heard);
    started.socket.removeEventListener("close", make);
  };
  // A resumed session's output may be a whole screen: xterm.js draws it.
  if (started.resume) return make();
  if (started.events.some((e) => e.data instanceof ArrayBuffer)) return show();
  started.socket.addEventListener("message", heard);
  started.socket.addEventListener("close", make);
  timer = setTimeout(make, FIRST_OUTPUT_WAIT_MS);
}

// The early screen for the output of `events` over `host`, or null.
function drawScreen(host, events, options) {
  const bytes = new Uint8Array(events.reduce((n, e) => n + e.data.byteLength, 0));
  let at = 0;
  for (const event of events) {
    bytes.set(new Uint8Array(event.data), at);
    at += event.data.byteLength;
  }
  try {
    return earlyScreen.draw(host, bytes, options);
  } catch (error) {
    console.warn("podterm: could not show the early screen", error);
    return null;
  }
}

// The early start for `element`, once; undefined when there is none.
export function takeEarly(element) {
  makeEarly?.();
  if (!early || early.terminal.element !== element) return undefined;
  const taken = early;
  early = null;
  return taken;
}

// Creates a terminal inside `element`.
export function createTerminal(element) {
  return new TerminalHandle(element);
}

// For tests and benchmarks: the xterm.js Terminal inside `element`, if one is open there.
export function terminalOf(element) {
  for (const handle of live) if (handle.element === element) return handle.terminal;
  return undefined;
}

// The settings panel's view of the settings: all of them as JSON, one set from its text
// (false when the value is not one the setting takes), all back to their defaults.
const settingsJson = () => JSON.stringify(chosen.settings());

// The later parts' stylesheet at `href`, added once: settles when it has loaded (or is
// already in the page, as on the dashboard) or could not be (tried again at the next call).
let laterStyle = null;
function loadStyle(href) {
  return (laterStyle ??= new Promise((resolve, reject) => {
    for (const link of document.querySelectorAll("link[rel=stylesheet]")) {
      if (link.getAttribute("href") !== href) continue;
      if (link.sheet) return resolve();
      link.remove();
    }
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href, onload: resolve });
    link.onerror = () => {
      link.remove();
      laterStyle = null;
      reject(new Error(`${href} could not be loaded`));
    };
    document.head.append(link);
  }));
}

globalThis.podtermXterm = {
  // Whether the terminal takes a Mac's keys (Cmd+C, Cmd+V, Cmd+F), for the page's labels.
  mac: () => MAC,
  loadStyle,
  createTerminal,
  takeEarly,
  settingsJson,
  setSetting: chosen.set,
  resetSettings: chosen.reset,
  terminalOf,
};
startEarly();
