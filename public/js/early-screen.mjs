// The early screen: a terminal's own page shows the shell's first output (its prompt) as
// text in the terminal's place while xterm.js is still to be made, which takes the main
// thread for about 80 ms on a fresh page. xterm.js then draws the same output and the
// screen goes (see `startEarly` in xterm-bridge.mjs). Only output that just prints is
// shown this way; anything else waits for xterm.js.

// The theme's colours by SGR number: 30–37 normal, 90–97 bright.
const PALETTE = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
const BRIGHT = PALETTE.map((name) => `bright${name[0].toUpperCase()}${name.slice(1)}`);

// The output as lines of runs of text with their colour, or null when it does more than
// print: moves the cursor, clears, switches screens, or uses colours beyond the 16.
export function lines(bytes) {
  let text = new TextDecoder().decode(bytes);
  // Titles and other OSC strings go; so do modes (bracketed paste), queries (the cursor's
  // position, the terminal's kind: xterm.js answers them) and character sets.
  text = text.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "");
  if (/\x1b\[[0-?]*[ -/]*[^hlmnc\x00-\x3f]/.test(text)) return null;
  text = text.replace(/\x1b\[[0-?]*[ -/]*[hlnc]/g, "").replace(/\x1b[()*+][0-~]|\x1b[=>]/g, "");
  // What is left is text, line ends and colours; a carriage return within a line writes
  // over it, which only plain text can be shown doing.
  text = text.replace(/\r+\n/g, "\n");
  const colours = /\x1b\[/.test(text);
  if (
    /[\x00-\x09\x0b-\x0c\x0e-\x1a\x1c-\x1f\x7f]|\x1b(?!\[[0-9;]*m)/.test(text) ||
    (colours && text.includes("\r"))
  ) {
    return null;
  }
  const style = { colour: null, bold: false };
  const result = [];
  for (const line of text.split("\n")) {
    const runs = [];
    for (const [index, part] of line.split(/(\x1b\[[0-9;]*m)/).entries()) {
      if (index % 2 === 0) {
        if (part) runs.push({ text: overwritten(part), ...style });
      } else if (!applySgr(style, part.slice(2, -1))) {
        return null;
      }
    }
    result.push(runs);
  }
  return result;
}

// A line with carriage returns, as it ends up.
function overwritten(line) {
  let shown = "";
  for (const part of line.split("\r")) shown = part + shown.slice(part.length);
  return shown;
}

// Applies an SGR's parameters to `style`; false for one it does not draw.
function applySgr(style, parameters) {
  for (const value of parameters.split(";").map((p) => (p === "" ? 0 : Number(p)))) {
    if (value === 0) Object.assign(style, { colour: null, bold: false });
    else if (value === 1) style.bold = true;
    else if (value === 22) style.bold = false;
    else if (value === 39) style.colour = null;
    else if (value >= 30 && value <= 37) style.colour = value - 30;
    else if (value >= 90 && value <= 97) style.colour = value - 90 + 8;
    else return false;
  }
  return true;
}

// The height of xterm.js's rows for `options`, worked out as xterm.js does: the font's
// ascent and descent in device pixels, rounded up, times the line height, rounded down.
function rowHeight(options) {
  const ratio = window.devicePixelRatio || 1;
  let height = 1.17 * options.fontSize;
  try {
    const context = new OffscreenCanvas(1, 1).getContext("2d");
    context.font = `${options.fontSize}px ${options.fontFamily}`;
    const metrics = context.measureText("W");
    const measured = metrics.fontBoundingBoxAscent + metrics.fontBoundingBoxDescent;
    if (measured > 0) height = measured;
  } catch {
    // No OffscreenCanvas: the estimate above (most monospace fonts).
  }
  return Math.floor(Math.ceil(height * ratio) * options.lineHeight) / ratio;
}

// Draws `output` (the shell's first bytes) over `host` in the terminal's font and theme
// (`options`, xterm.js's), with a cursor after it; returns the screen, or null when the
// output is not one it draws.
export function draw(host, output, options) {
  const shown = lines(output);
  if (!shown) return null;
  // Line breaks before the first output are not shown (as in the terminal).
  while (shown.length > 0 && shown[0].every((run) => run.text === "")) shown.shift();
  if (shown.length === 0) return null;
  const theme = options.theme;
  const screen = document.createElement("pre");
  screen.className = "early-screen";
  screen.setAttribute("aria-hidden", "true");
  // Over the whole terminal (style/main.css), so xterm.js's first frames (before its
  // output) stay under it.
  Object.assign(screen.style, {
    font: `${options.fontSize}px ${options.fontFamily}`,
    lineHeight: `${rowHeight(options)}px`,
    color: theme.foreground,
    background: theme.background,
  });
  shown.forEach((runs, index) => {
    if (index > 0) screen.append("\n");
    for (const run of runs) {
      const span = document.createElement("span");
      span.textContent = run.text;
      // Bold text in the normal colours is drawn bright, as xterm.js does.
      const colour = run.bold && run.colour !== null && run.colour < 8 ? run.colour + 8 : run.colour;
      if (colour !== null) span.style.color = theme[colour < 8 ? PALETTE[colour] : BRIGHT[colour - 8]];
      if (run.bold) span.style.fontWeight = "bold";
      screen.append(span);
    }
  });
  const cursor = document.createElement("span");
  cursor.textContent = " ";
  cursor.style.background = theme.cursor;
  screen.append(cursor);
  host.prepend(screen);
  return screen;
}
