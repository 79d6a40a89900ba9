// How the browser suites and the benchmarks start Chromium: Debian's chromium, never
// Playwright's own download. Plain JavaScript so that both the TypeScript config and plain
// Node scripts can import it.
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    // Headless Chromium would still offer WebGL through SwiftShader: without it the suites
    // see the DOM renderer, as a browser without WebGL would.
    "--disable-software-rasterizer",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

// WebGL2 through SwiftShader (on the CPU, no GPU): for the renderer's tests and the render
// benchmark.
export const chromiumWithWebgl = {
  ...chromiumLaunch,
  args: [
    ...chromiumLaunch.args.filter((arg) => arg !== "--disable-software-rasterizer"),
    "--enable-unsafe-swiftshader",
  ],
};
