// What a terminal needs after its first prompt, not for it: searching the scrollback, OSC 52
// (programs in the pod writing the clipboard) and the WebGL renderer. The bridge imports
// this module once the page has its prompt, so none of them weighs on the first load.
import { ClipboardAddon, SearchAddon, WebglAddon } from "../vendor/xterm/xterm-extras.mjs";

// Every match highlighted; the current one stands out. Colours in #RRGGBB (the addon's rule).
const DECORATIONS = {
  matchBackground: "#8a6d00",
  matchBorder: "#e5b546",
  matchOverviewRuler: "#e5b546",
  activeMatchBackground: "#d9480f",
  activeMatchBorder: "#ffffff",
  activeMatchColorOverviewRuler: "#ff8c00",
};

// OSC 52 may write the clipboard, never read it: a read would type the person's clipboard
// into the pod. (The guard in `Extras` keeps queries from reaching `readText` at all.)
const provider = {
  readText: () => "",
  writeText: (selection, text) => {
    if (selection !== "c" || !navigator.clipboard?.writeText) return undefined;
    return navigator.clipboard
      .writeText(text)
      .catch((error) => console.warn("podterm: a program's copy did not reach the clipboard", error));
  },
};

// Which renderer draws a terminal: WebGL where the browser has WebGL2 and the setting is
// "automatic", else xterm.js's DOM renderer, which it keeps for good once a WebGL context
// is lost (a GPU reset can repeat). `element.dataset.renderer` says which is active.
// Whether this browser's WebGL is drawn by the CPU (SwiftShader, llvmpipe: no GPU); there
// the DOM renderer is faster (BENCHMARKS.md, "Output in the browser"). Asked once.
let cpuDrawn;
function webglOnCpu() {
  if (cpuDrawn !== undefined) return cpuDrawn;
  cpuDrawn = false;
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (gl) {
      const info = gl.getExtension("WEBGL_debug_renderer_info");
      const name = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
      cpuDrawn = /swiftshader|llvmpipe|softpipe|software/i.test(String(name));
      gl.getExtension("WEBGL_lose_context")?.loseContext();
    }
  } catch {
    // No answer: as if drawn by a GPU; a failing WebGL falls back anyway.
  }
  return cpuDrawn;
}

export class Renderer {
  #terminal;
  #element;
  #webgl = null;
  // WebGL2 missing, or a context lost: the DOM renderer from now on.
  #givenUp = false;

  constructor(terminal, element) {
    this.#terminal = terminal;
    this.#element = element;
  }

  // `choice`: "automatic" (WebGL drawn by a GPU), "webgl" (even on the CPU) or "dom".
  use(choice) {
    const webgl = choice === "webgl" || (choice === "automatic" && !webglOnCpu());
    if (!webgl) this.#toDom();
    else if (!this.#webgl && !this.#givenUp) this.#toWebgl();
  }

  #toWebgl() {
    const webgl = new WebglAddon();
    try {
      this.#terminal.loadAddon(webgl);
    } catch (error) {
      webgl.dispose();
      this.#givenUp = true;
      console.info("podterm: no WebGL2, the DOM renderer draws the terminal", error);
      return;
    }
    webgl.onContextLoss(() => {
      this.#givenUp = true;
      console.warn("podterm: the WebGL context was lost; the DOM renderer takes over");
      this.#toDom();
    });
    this.#webgl = webgl;
    this.#element.dataset.renderer = "webgl";
  }

  // Disposing the addon gives xterm.js its DOM renderer back, with the buffer as it was.
  #toDom() {
    this.#webgl?.dispose();
    this.#webgl = null;
    this.#element.dataset.renderer = "dom";
  }
}

// The search and OSC 52 of one xterm.js terminal. `results(index, count)` hears the match
// count after every search and while output changes it (index -1: none current).
export class Extras {
  #search;

  constructor(terminal, { osc52Allowed, results }) {
    this.#search = new SearchAddon({ highlightLimit: 1000 });
    terminal.loadAddon(this.#search);
    this.#search.onDidChangeResults(({ resultIndex, resultCount }) => results(resultIndex, resultCount));
    terminal.loadAddon(new ClipboardAddon(undefined, provider));
    // Registered after the addon, so it is asked first: a query (`?`), or any OSC 52 while
    // the setting is off, ends here, unanswered. The addon would answer a query even with
    // an empty clipboard.
    terminal.parser.registerOscHandler(52, (data) => !osc52Allowed() || data.split(";")[1] === "?");
  }

  // Finds `term`: `how` is "typed" (the term changed: stay on the current match while it
  // still matches), "next" or "previous". Throws a SyntaxError for a bad regular expression.
  find(term, { caseSensitive, regex }, how) {
    if (regex) new RegExp(term); // Throws here rather than deep in the addon.
    const options = { caseSensitive, regex, incremental: how === "typed", decorations: DECORATIONS };
    // The addon compares the options with themselves (it keeps them before it compares), so
    // a changed toggle would keep the old highlights: a new term or toggle starts afresh.
    if (how === "typed") this.#search.clearDecorations();
    return how === "previous"
      ? this.#search.findPrevious(term, options)
      : this.#search.findNext(term, options);
  }

  clear() {
    this.#search.clearDecorations();
  }
}
