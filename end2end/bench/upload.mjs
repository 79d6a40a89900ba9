// One file uploaded through the Files tab in Chromium, as a person would: picked in the
// file input, sent by the page, checked by the container. Run by the benchmark
// (podterm-bench); prints one JSON object with the seconds from the pick to the result
// and the result's words.
//
//   PODTERM_URL=http://127.0.0.1:3000 PODTERM_TOKEN=... UPLOAD_FILE=/path/to/file \
//     POD=busybox CONTAINER=busybox FOLDER=/tmp node end2end/bench/upload.mjs
import { basename } from "node:path";
import { chromium } from "@playwright/test";
import { chromiumLaunch } from "../chromium.mjs";
import { logIn } from "./login.mjs";

const url = process.env.PODTERM_URL;
const token = process.env.PODTERM_TOKEN;
const file = process.env.UPLOAD_FILE;
const pod = process.env.POD ?? "busybox";
const container = process.env.CONTAINER ?? "busybox";
const folder = process.env.FOLDER ?? "/tmp";
const patience = Number(process.env.PATIENCE_MS ?? 600_000);
if (!url || !token || !file) {
  console.error("PODTERM_URL, PODTERM_TOKEN and UPLOAD_FILE are needed");
  process.exit(2);
}

const browser = await chromium.launch(chromiumLaunch);
try {
  const page = await browser.newPage();
  await logIn(page, url, token);
  await page.goto(`${url}/?namespace=default`);
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 30_000 });
  await page.locator(`tr[data-pod="${pod}"] [data-files="${container}"]`).click();
  const files = page.locator(".tab-panel:not(.hidden) .files-pane");
  const path = files.getByLabel("Folder path");
  await path.fill(folder);
  await path.press("Enter");
  await files.getByTestId("files-status").filter({ hasNotText: "Loading…" }).waitFor({ timeout: 30_000 });

  const row = files.locator(`.transfer[data-name="${basename(file)}"]`);
  const started = performance.now();
  await files.getByLabel("Files to upload").setInputFiles(file);
  await row.and(page.locator('[data-stage="done"], [data-stage="failed"], [data-stage="asking"]')).waitFor({ timeout: patience });
  const seconds = (performance.now() - started) / 1000;
  const stage = await row.getAttribute("data-stage");
  const words = await row.locator(".transfer-words").textContent();
  if (stage !== "done") {
    console.error(`the upload ended ${stage}: ${words}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ seconds, words }));
} finally {
  await browser.close();
}
