#!/usr/bin/env node
// Copies the xterm.js browser files that podterm serves itself (no CDN) from
// node_modules into public/vendor/xterm/. Runs as the npm postinstall script;
// safe to run again at any time (it overwrites the copies).
//
// Usage: node scripts/vendor-xterm.mjs

import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const dest = join(root, "public", "vendor", "xterm");

// [package, file inside the package, name in public/vendor/xterm]
const files = [
  ["@xterm/xterm", "lib/xterm.mjs", "xterm.mjs"],
  ["@xterm/xterm", "css/xterm.css", "xterm.css"],
  ["@xterm/addon-fit", "lib/addon-fit.mjs", "addon-fit.mjs"],
  ["@xterm/addon-web-links", "lib/addon-web-links.mjs", "addon-web-links.mjs"],
  ["@xterm/addon-unicode11", "lib/addon-unicode11.mjs", "addon-unicode11.mjs"],
];

// Each package's licence, copied as LICENSE-<short name>.txt.
const licences = [
  ["@xterm/xterm", "LICENSE-xterm.txt"],
  ["@xterm/addon-fit", "LICENSE-addon-fit.txt"],
  ["@xterm/addon-web-links", "LICENSE-addon-web-links.txt"],
  ["@xterm/addon-unicode11", "LICENSE-addon-unicode11.txt"],
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

const missing = [];
const copies = [];
for (const [pkg, file, name] of files) {
  const src = join(modules, pkg, file);
  if (existsSync(src)) copies.push([src, name]);
  else missing.push(relative(root, src));
}
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

mkdirSync(dest, { recursive: true });
for (const [src, name] of copies) copyFileSync(src, join(dest, name));
console.log(`vendor-xterm: copied ${copies.length} files to ${relative(root, dest)}/`);
