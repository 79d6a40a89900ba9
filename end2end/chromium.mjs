// How the browser suites and the navigation benchmark start Chromium: Debian's chromium,
// never Playwright's own download. Plain JavaScript so that both the TypeScript config and
// plain Node scripts can import it.
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};
