#!/usr/bin/env node
// Builds the xterm.js browser files that podterm serves itself (no CDN) from node_modules
// into public/vendor/xterm/: xterm.js and the addons the first prompt needs as one ES module
// (xterm-bundle.mjs, one request instead of four on a terminal's critical path), the addons
// loaded after the prompt as another (xterm-extras.mjs: search, OSC 52, WebGL), xterm.css
// (style/main.css imports it into podterm.css) and the licences. Runs as the npm postinstall
// script; safe to run again at any time (it replaces the directory).
//
// Usage: node scripts/vendor-xterm.mjs

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const dest = join(root, "public", "vendor", "xterm");

// What each bundle exports, from which package. The addons only import xterm.js's types,
// so the second bundle holds no second copy of it.
const bundles = {
  "xterm-bundle.mjs": [
    ["Terminal", "@xterm/xterm"],
    ["FitAddon", "@xterm/addon-fit"],
    ["WebLinksAddon", "@xterm/addon-web-links"],
    ["Unicode11Addon", "@xterm/addon-unicode11"],
  ],
  "xterm-extras.mjs": [
    ["SearchAddon", "@xterm/addon-search"],
    ["ClipboardAddon", "@xterm/addon-clipboard"],
    ["WebglAddon", "@xterm/addon-webgl"],
  ],
};

// Each package's licence, copied as LICENSE-<short name>.txt.
const licences = [
  ["@xterm/xterm", "LICENSE-xterm.txt"],
  ["@xterm/addon-fit", "LICENSE-addon-fit.txt"],
  ["@xterm/addon-web-links", "LICENSE-addon-web-links.txt"],
  ["@xterm/addon-unicode11", "LICENSE-addon-unicode11.txt"],
  ["@xterm/addon-search", "LICENSE-addon-search.txt"],
  ["@xterm/addon-clipboard", "LICENSE-addon-clipboard.txt"],
  ["@xterm/addon-webgl", "LICENSE-addon-webgl.txt"],
  // The clipboard addon's base64 decoder.
  ["js-base64", "LICENSE-js-base64.txt"],
];

function fail(message) {
  console.error(`vendor-xterm: ${message}`);
  process.exit(1);
}

function licenceFile(pkg) {
  const dir = join(modules, pkg);
  const name = readdirSync(dir).find((f) => /^(LICEN[CS]E|COPYING)(\..*)?$/i.test(f));
  return name ? join(dir, name) : null;
}

const css = join(modules, "@xterm/xterm/css/xterm.css");
const missing = [];
const copies = [];
if (existsSync(css)) copies.push([css, "xterm.css"]);
else missing.push(relative(root, css));
for (const [pkg, name] of licences) {
  const src = existsSync(join(modules, pkg)) ? licenceFile(pkg) : null;
  if (src) copies.push([src, name]);
  else missing.push(`${relative(root, join(modules, pkg))}/LICENSE`);
}
if (missing.length > 0) {
  fail(
    `missing file(s):\n  ${missing.join("\n  ")}\n` +
      "Run `npm ci` (or `npm install`) in the repository root first; " +
      "if the files are still missing, the pinned @xterm package versions changed their layout.",
  );
}

let esbuild;
try {
  esbuild = await import("esbuild");
} catch (error) {
  fail(`esbuild is not installed (run \`npm ci\` in the repository root): ${error.message}`);
}

rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
for (const [src, name] of copies) copyFileSync(src, join(dest, name));
// The packages' ES module builds (`module` field), minified again as one file per bundle;
// their licence headers stay in it.
for (const [file, exports] of Object.entries(bundles)) {
  await esbuild.build({
    stdin: {
      contents: exports.map(([name, pkg]) => `export { ${name} } from "${pkg}";`).join("\n"),
      resolveDir: root,
      sourcefile: file.replace(".mjs", "-entry.mjs"),
    },
    bundle: true,
    format: "esm",
    minify: true,
    legalComments: "inline",
    mainFields: ["module", "main"],
    // xterm.js itself is in the first bundle only.
    external: file === "xterm-bundle.mjs" ? [] : ["@xterm/xterm"],
    outfile: join(dest, file),
    logLevel: "warning",
  });
}
const bundled = Object.values(bundles).flat().length;
console.log(
  `vendor-xterm: bundled ${bundled} modules into ${Object.keys(bundles).length} files and copied ${copies.length} files to ${relative(root, dest)}/`,
);
