// The terminal settings a person chooses (font, theme, cursor, scrollback, clipboard,
// renderer), kept in the browser's local storage and applied to every open terminal.
// Imported by the bridge: a terminal starts with them, so a reload shows the chosen font at
// once.

const KEY = "podterm.terminal-settings";

const FONT_STACK = [
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

// The font choices; each falls back to the full stack (CJK included).
const FONTS = {
  default: FONT_STACK,
  "dejavu-sans-mono": `"DejaVu Sans Mono", ${FONT_STACK}`,
  "noto-sans-mono": `"Noto Sans Mono", ${FONT_STACK}`,
  "liberation-mono": `"Liberation Mono", ${FONT_STACK}`,
  monospace: "monospace",
};

// The 16 ANSI colours of each theme are chosen to stay readable on its background; xterm's
// default 6x6x6 cube and grey ramp cover 16-255.
const THEMES = {
  dark: {
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
  },
  light: {
    background: "#fbfbfb",
    foreground: "#1f1f1f",
    cursor: "#1f1f1f",
    cursorAccent: "#fbfbfb",
    selectionBackground: "#add6ff",
    selectionForeground: "#000000",
    selectionInactiveBackground: "#e5ebf1",
    black: "#000000",
    red: "#c72e2e",
    green: "#107c10",
    yellow: "#8a6d00",
    blue: "#0451a5",
    magenta: "#a626a4",
    cyan: "#0e7490",
    white: "#6e6e6e",
    brightBlack: "#5a5a5a",
    brightRed: "#cd3131",
    brightGreen: "#14ce14",
    brightYellow: "#b5ba00",
    brightBlue: "#0451a5",
    brightMagenta: "#bc05bc",
    brightCyan: "#0598bc",
    brightWhite: "#a5a5a5",
  },
  "high-contrast": {
    background: "#000000",
    foreground: "#ffffff",
    cursor: "#ffff00",
    cursorAccent: "#000000",
    selectionBackground: "#ffff00",
    selectionForeground: "#000000",
    selectionInactiveBackground: "#808000",
    black: "#000000",
    red: "#ff5f5f",
    green: "#5fff5f",
    yellow: "#ffff00",
    blue: "#87afff",
    magenta: "#ff87ff",
    cyan: "#5fffff",
    white: "#ffffff",
    brightBlack: "#bcbcbc",
    brightRed: "#ff8787",
    brightGreen: "#87ff87",
    brightYellow: "#ffff87",
    brightBlue: "#afd7ff",
    brightMagenta: "#ffafff",
    brightCyan: "#afffff",
    brightWhite: "#ffffff",
  },
};

export const FONT_SIZE = { min: 8, max: 32, default: 14 };

export const DEFAULTS = Object.freeze({
  fontSize: FONT_SIZE.default,
  fontFamily: "default",
  // Room below the baseline, so underscores are not clipped.
  lineHeight: 1.15,
  theme: "dark",
  cursorStyle: "block",
  scrollback: 10000,
  copyOnSelect: false,
  osc52: true,
  confirmPaste: true,
  // WebGL where a GPU draws it, "webgl" (WebGL even drawn by the CPU), or "dom" (xterm.js's
  // DOM renderer only).
  renderer: "automatic",
});

// Each setting's check: a stored value that fails it (an older or hand-edited one) is
// replaced by the default.
const VALID = {
  fontSize: (v) => Number.isInteger(v) && v >= FONT_SIZE.min && v <= FONT_SIZE.max,
  fontFamily: (v) => Object.hasOwn(FONTS, v),
  lineHeight: (v) => typeof v === "number" && v >= 1 && v <= 2,
  theme: (v) => v === "system" || Object.hasOwn(THEMES, v),
  cursorStyle: (v) => ["block", "underline", "bar"].includes(v),
  scrollback: (v) => Number.isInteger(v) && v >= 0 && v <= 100000,
  copyOnSelect: (v) => typeof v === "boolean",
  osc52: (v) => typeof v === "boolean",
  confirmPaste: (v) => typeof v === "boolean",
  renderer: (v) => v === "automatic" || v === "webgl" || v === "dom",
};

function read() {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(KEY) ?? "{}") ?? {};
  } catch {
    // Storage blocked or unreadable: the defaults.
  }
  const settings = { ...DEFAULTS };
  for (const [name, valid] of Object.entries(VALID)) {
    if (valid(stored[name])) settings[name] = stored[name];
  }
  return settings;
}

let current = read();
const listeners = new Set();

export function settings() {
  return current;
}

// Calls `listener(settings)` after every change; returns a function that stops it.
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch (error) {
    console.warn("podterm: could not keep the terminal settings", error);
  }
  for (const listener of listeners) listener(current);
}

// Sets one setting from the settings panel, where every value is a string; returns whether
// it was taken.
export function set(name, text) {
  if (!Object.hasOwn(VALID, name)) return false;
  const typed = typeof DEFAULTS[name];
  const value =
    typed === "number" ? Number(text) : typed === "boolean" ? text === "true" : String(text);
  if (!VALID[name](value)) return false;
  current = { ...current, [name]: value };
  changed();
  return true;
}

// One step bigger or smaller, or back to the default (0).
export function stepFontSize(step) {
  const size = step === 0 ? FONT_SIZE.default : current.fontSize + step;
  return set("fontSize", String(Math.min(FONT_SIZE.max, Math.max(FONT_SIZE.min, size))));
}

export function reset() {
  current = { ...DEFAULTS };
  changed();
}

const lightScheme = globalThis.matchMedia?.("(prefers-color-scheme: light)");
// "Follow the system" follows it while the page is open.
lightScheme?.addEventListener?.("change", () => {
  if (current.theme === "system") for (const listener of listeners) listener(current);
});

export function theme(chosen = current) {
  if (chosen.theme !== "system") return THEMES[chosen.theme];
  return lightScheme?.matches ? THEMES.light : THEMES.dark;
}

// The xterm.js options for these settings.
export function terminalOptions(chosen = current) {
  return {
    fontSize: chosen.fontSize,
    fontFamily: FONTS[chosen.fontFamily],
    lineHeight: chosen.lineHeight,
    theme: theme(chosen),
    cursorStyle: chosen.cursorStyle,
    scrollback: chosen.scrollback,
  };
}
