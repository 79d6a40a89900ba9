// Moving files between the browser and a container: a drop onto a terminal, a folder
// uploaded through the Files tab, downloads of a file and of a folder compared byte for
// byte, names with spaces and Unicode, a file that exists, a cancelled upload that leaves
// nothing behind, the tab's designed states, and containers without tar or a shell.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { BOTH, hydrated, openPod, pane, run, screen, token, watch } from "./support";

const violations: string[] = [];

test.beforeEach(async ({ page }) => {
  watch(page, violations);
  await page.goto(`/login?token=${token}`);
});

test.afterEach(() => {
  expect(violations).toEqual([]);
});

// Local folders the tests write (one holds a 48 MB file), removed when the worker is done.
const scratchDirs: string[] = [];
const scratch = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
};
test.afterAll(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
// A name no earlier run used: the demo cluster keeps its containers' files.
const fresh = (what: string) => `${what}-${Date.now().toString(36)}`;

async function visit(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

// The Files tab on show, and its parts.
const files = (page: Page) => page.locator(".tab-panel:not(.hidden) .files-pane");
const entry = (page: Page, name: string) => files(page).locator(`tr[data-name="${name}"]`);
const transfer = (scope: Locator, name: string) => scope.locator(`.transfer[data-name="${name}"]`);

async function openFiles(page: Page, pod: string, container: string) {
  await page.locator(`tr[data-pod="${pod}"] [data-files="${container}"]`).click();
  await expect(page.locator(".tab.active")).toContainText(`${pod}/${container} · files`);
  await expect(files(page).getByTestId("files-status")).not.toHaveText("Loading…");
}

async function goTo(page: Page, path: string) {
  await files(page).getByLabel("Folder path").fill(path);
  await files(page).getByLabel("Folder path").press("Enter");
  await expect(files(page).getByLabel("Folder path")).toHaveValue(path);
  await expect(files(page).getByTestId("files-status")).not.toHaveText("Loading…");
}

// A drop of files made in the page, as a person's drag from the desktop would bring them.
async function drop(target: Locator, made: { name: string; text: string; modified?: number }[]) {
  const transferred = await target.page().evaluateHandle((made) => {
    const data = new DataTransfer();
    for (const f of made) data.items.add(new File([f.text], f.name, { lastModified: f.modified ?? Date.now() }));
    return data;
  }, made);
  await target.dispatchEvent("dragenter", { dataTransfer: transferred });
  await target.dispatchEvent("dragover", { dataTransfer: transferred });
  await expect(target.page().getByTestId("drop-overlay")).toBeVisible();
  await target.dispatchEvent("drop", { dataTransfer: transferred });
  await expect(target.page().getByTestId("drop-overlay")).toHaveCount(0);
}

async function saved(page: Page, click: () => Promise<void>) {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return { name: download.suggestedFilename(), path: (await download.path())! };
}

test("files dropped onto a terminal land in the shell's directory, checked", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=default");
  await openPod(page, "busybox");
  const dir = `/tmp/${fresh("drop")}`;
  await run(page, "busybox", `mkdir -p ${dir} && cd ${dir}`);

  const name = "notes from the café ☕.txt";
  const text = "podterm was here\n";
  await drop(pane(page, "busybox").locator(".terminal-host"), [
    { name, text, modified: Date.UTC(2026, 0, 2, 12) },
  ]);
  // Where to? The shell's current directory, which the person may change.
  const asking = pane(page, "busybox").getByRole("dialog", { name: "Where should the files go?" });
  await expect(asking.getByLabel("Destination folder")).toHaveValue(dir);
  await expect(asking).toContainText("The shell's current directory.");
  await asking.getByRole("button", { name: "Upload" }).click();
  const row = transfer(pane(page, "busybox"), name);
  await expect(row).toHaveAttribute("data-stage", "done");
  await expect(row).toContainText(`verified (sha256 ${sha256(text).slice(0, 12)}…)`);

  await run(page, "busybox", "sha256sum *.txt; date -u -r *.txt '+modified %F %T'");
  await expect(screen(page, "busybox")).toContainText(sha256(text));
  // Its modification time came along.
  await expect(screen(page, "busybox")).toContainText("modified 2026-01-02 12:00:00");

  // A script, made executable on the way.
  await drop(pane(page, "busybox").locator(".terminal-host"), [
    { name: "hello.sh", text: "#!/bin/sh\necho hello from the browser\n" },
  ]);
  await asking.getByLabel("Make executable").check();
  await asking.getByRole("button", { name: "Upload" }).click();
  await expect(transfer(pane(page, "busybox"), "hello.sh")).toHaveAttribute("data-stage", "done");
  await run(page, "busybox", "./hello.sh");
  await expect(screen(page, "busybox")).toContainText("hello from the browser");
});

test("a folder uploaded keeps its structure; a file and the folder download byte for byte", BOTH, async ({ page }) => {
  // On the disk: a folder with a subfolder, names with spaces, Unicode and a leading dash.
  const local = scratch("podterm-files-");
  const top = fresh("tree");
  const made: Record<string, Buffer> = {
    "a.txt": Buffer.from("alpha\n"),
    "sub dir/-rf ünï.txt": Buffer.from("not an option\n"),
    "sub dir/b.bin": Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256)),
  };
  for (const [path, data] of Object.entries(made)) {
    mkdirSync(join(local, top, path, ".."), { recursive: true });
    writeFileSync(join(local, top, path), data);
  }

  await visit(page, "/?namespace=default");
  await openFiles(page, "busybox", "busybox");
  await goTo(page, "/tmp");
  await expect(files(page).getByTestId("files-via")).toHaveText("podterm reaches these files through the container's shell.");
  await files(page).getByLabel("Folder to upload").setInputFiles(join(local, top));
  await expect(files(page).locator(".transfers-summary")).toHaveText("Uploaded 3 files");
  for (const path of Object.keys(made)) {
    await expect(transfer(files(page), `${top}/${path}`)).toContainText("verified (sha256");
  }

  // The listing shows what landed; folders open with a click.
  await entry(page, top).getByRole("button").click();
  await expect(files(page).getByLabel("Folder path")).toHaveValue(`/tmp/${top}`);
  await expect(entry(page, "a.txt")).toContainText("6 B");
  await entry(page, "sub dir").getByRole("button").click();
  await expect(entry(page, "-rf ünï.txt")).toBeVisible();
  await expect(entry(page, "b.bin")).toContainText("293 KiB");

  // A file's name downloads it, streamed by the browser.
  const file = await saved(page, () => entry(page, "b.bin").getByRole("link", { name: "b.bin", exact: true }).click());
  expect(file.name).toBe("b.bin");
  expect(sha256(readFileSync(file.path))).toBe(sha256(made["sub dir/b.bin"]));
  const odd = await saved(page, () => entry(page, "-rf ünï.txt").getByRole("link", { name: "Download -rf ünï.txt" }).click());
  expect(readFileSync(odd.path, "utf8")).toBe("not an option\n");

  // Up, then the whole folder as .tar.gz.
  await files(page).getByRole("button", { name: "Up: the folder above" }).click();
  await expect(files(page).getByLabel("Folder path")).toHaveValue(`/tmp/${top}`);
  const folder = await saved(page, () => files(page).getByRole("link", { name: "Download folder (.tar.gz)" }).click());
  expect(folder.name).toBe(`${top}.tar.gz`);
  const out = scratch("podterm-unpacked-");
  execFileSync("tar", ["-xzf", folder.path, "-C", out]);
  for (const [path, data] of Object.entries(made)) {
    expect(sha256(readFileSync(join(out, top, path))), path).toBe(sha256(data));
  }

  // The tab comes back after a reload.
  await page.reload();
  await hydrated(page);
  await expect(page.locator(".tab.active")).toContainText("busybox/busybox · files");
  await expect(files(page).getByTestId("files-via")).toBeVisible();
});

test("a file that exists is replaced only when the person says so", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=default");
  await openFiles(page, "busybox", "busybox");
  await goTo(page, "/tmp");
  const folder = fresh("again");
  await files(page).getByLabel("Folder to upload").setInputFiles(writeTree(folder, { "same.txt": "first\n", "other.txt": "1\n" }));
  await expect(files(page).locator(".transfers-summary")).toHaveText("Uploaded 2 files");
  await entry(page, folder).getByRole("button").click();
  await expect(entry(page, "same.txt")).toBeVisible();
  await files(page).getByRole("button", { name: "Clear finished" }).click();

  // Dropped onto the tab, it goes into the folder shown; the file is there: Skip keeps it.
  await drop(files(page).locator(".files-body"), [{ name: "same.txt", text: "second\n" }]);
  const asking = files(page).getByRole("group", { name: "same.txt already exists" });
  await expect(asking).toContainText(`same.txt is already in /tmp/${folder}. Replace it?`);
  await asking.getByRole("button", { name: "Skip" }).click();
  await expect(files(page).locator('.transfer[data-stage="skipped"]')).toContainText("the file that was there is kept");

  // Replace replaces this one.
  const input = files(page).getByLabel("Files to upload");
  await input.setInputFiles({ name: "same.txt", mimeType: "text/plain", buffer: Buffer.from("third\n") });
  await asking.getByRole("button", { name: "Replace", exact: true }).click();
  await expect(files(page).locator('.transfer[data-stage="done"]')).toHaveCount(1);
  const back = await saved(page, () => entry(page, "same.txt").getByRole("link", { name: "same.txt", exact: true }).click());
  expect(readFileSync(back.path, "utf8")).toBe("third\n");

  // Replace all: the next one that exists is replaced without asking.
  await input.setInputFiles([
    { name: "same.txt", mimeType: "text/plain", buffer: Buffer.from("fourth\n") },
    { name: "other.txt", mimeType: "text/plain", buffer: Buffer.from("2\n") },
  ]);
  await asking.getByRole("button", { name: "Replace all" }).click();
  await expect(files(page).locator('.transfer[data-stage="done"]')).toHaveCount(3);
  await expect(files(page).locator('.transfer[data-stage="asking"]')).toHaveCount(0);
  const other = await saved(page, () => entry(page, "other.txt").getByRole("link", { name: "other.txt", exact: true }).click());
  expect(readFileSync(other.path, "utf8")).toBe("2\n");
});

test("the Files tab says where it stands: empty, not there, not writable", BOTH, async ({ page }) => {
  await visit(page, "/?namespace=default");
  await openFiles(page, "toolbox", "shell");
  // A folder the image leaves empty.
  await goTo(page, "/mnt");
  await expect(files(page).locator(".files-note")).toHaveText("/mnt is empty. Drop files here, or use Upload files.");

  // A path that is not there: said, with the ways out.
  await goTo(page, "/no/such/folder");
  const failure = files(page).getByRole("alert");
  await expect(failure).toContainText("This folder, pod or container is not there.");
  await expect(failure).toContainText("Go up, or back to the working directory.");
  await failure.getByRole("button", { name: "Working directory" }).click();
  await expect(failure).toHaveCount(0);
  await expect(files(page).getByTestId("files-status")).toHaveText(/entries?$/);

  // A relative path is caught before it is sent.
  await files(page).getByLabel("Folder path").fill("etc");
  await files(page).getByLabel("Folder path").press("Enter");
  await expect(files(page).getByRole("alert")).toContainText("is not an absolute path: start it with /");

  // The image's own folders are read-only: the upload fails in words, with what to do.
  await goTo(page, "/etc");
  await files(page).getByLabel("Files to upload").setInputFiles({ name: "podterm.conf", mimeType: "text/plain", buffer: Buffer.from("x\n") });
  const row = transfer(files(page), "podterm.conf");
  await expect(row).toHaveAttribute("data-stage", "failed");
  await expect(row.locator(".transfer-words")).toHaveText("/etc is on a read-only file system in the container; choose another folder.");
  await expect(entry(page, "podterm.conf")).toHaveCount(0);
});

test("a cancelled upload leaves nothing behind", BOTH, async ({ page, baseURL }) => {
  test.setTimeout(60_000);
  // Uploads through a proxy that passes 2 MiB/s from the browser: time to cancel halfway.
  const proxy = await SlowProxy.start(baseURL!, 2 * 1024 * 1024);
  const local = scratch("podterm-big-");
  const name = `${fresh("big")}.bin`;
  writeFileSync(join(local, name), Buffer.alloc(48 * 1024 * 1024, "podterm "));
  try {
    await page.goto(`${proxy.url}/login?token=${token}`);
    await visit(page, `${proxy.url}/?namespace=default`);
    await openFiles(page, "busybox", "busybox");
    await goTo(page, "/tmp");
    await files(page).getByLabel("Files to upload").setInputFiles(join(local, name));
    const row = transfer(files(page), name);
    await expect(row).toHaveAttribute("data-stage", "sending");
    // Progress in bytes, speed and time left.
    await expect(row.locator(".transfer-words")).toHaveText(/ of 48 MiB · [\d.]+ [KM]iB\/s · .+ left$/, { timeout: 10_000 });
    await expect(row.locator("progress")).toHaveAttribute("max", String(48 * 1024 * 1024));
    // Closing the tab now would stop it: asked first.
    await page.locator(".tab.active .tab-close").click();
    const closing = page.getByRole("alertdialog");
    await expect(closing).toContainText("stops its uploads");
    await closing.getByRole("button", { name: "Keep it" }).click();
    await expect(row).toHaveAttribute("data-stage", "sending");
    await row.getByRole("button", { name: `Cancel the upload of ${name}` }).click();
    await expect(row).toHaveAttribute("data-stage", "cancelled");
    // podterm removes what it had written, under its own name or a hidden one.
    await expect
      .poll(async () => {
        await files(page).getByRole("button", { name: "Reload" }).click();
        await expect(files(page).getByTestId("files-status")).not.toHaveText("Loading…");
        return files(page).locator(`tr[data-name*="${name}"]`).count();
      }, { timeout: 15_000 })
      .toBe(0);
  } finally {
    await proxy.close();
  }
});

// Containers whose files podterm reaches otherwise: a busybox without tar, one without a
// shell (its own programs), a distroless one (a debug container beside it).
for (const [namespace, pod, container, via] of [
  ["tools", "config-reloader-5b7f9d6c8-r2t9w", "reloader", "through the container's shell"],
  ["tools", "metrics-exporter-6d8c7b9f5-m3x8v", "exporter", "through the container's own tools (it has no shell)"],
  ["shop", "payments-6c9f7b8d4-k2m4x", "payments", "through a debug container (this container has no shell or tools)"],
]) {
  test(`${container}: files go in and out ${via}`, BOTH, async ({ page }) => {
    test.setTimeout(90_000);
    await visit(page, `/?namespace=${namespace}`);
    await openFiles(page, pod, container);
    await goTo(page, "/tmp");
    await expect(files(page).getByTestId("files-via")).toHaveText(`podterm reaches these files ${via}.`);
    const folder = fresh("in");
    const text = `${container} ✓\n`;
    await files(page).getByLabel("Folder to upload").setInputFiles(writeTree(folder, { "x y.txt": text }));
    const row = transfer(files(page), `${folder}/x y.txt`);
    await expect(row).toHaveAttribute("data-stage", "done", { timeout: 60_000 });

    await entry(page, folder).getByRole("button").click();
    const file = await saved(page, () => entry(page, "x y.txt").getByRole("link", { name: "x y.txt", exact: true }).click());
    expect(readFileSync(file.path, "utf8")).toBe(text);
    const tarball = await saved(page, () => files(page).getByRole("link", { name: "Download folder (.tar.gz)" }).click());
    const out = scratch("podterm-unpacked-");
    execFileSync("tar", ["-xzf", tarball.path, "-C", out]);
    expect(readFileSync(join(out, folder, "x y.txt"), "utf8")).toBe(text);
  });
}

test("where shells may not be opened, files may not be reached, and the button says why", BOTH, async ({ page }) => {
  await visit(page, "/?context=bob%40demo");
  const button = page.locator('tr[data-pod="web-7d4b9c6f5-abcde"] [data-files="web"]');
  await expect(button).toBeDisabled();
  await expect(button).toHaveAttribute("title", "You may not open shells in this namespace, and podterm reaches files through exec");
});

// A folder on the disk holding `made` (relative path → text); its path.
function writeTree(name: string, made: Record<string, string>) {
  const root = join(scratch("podterm-tree-"), name);
  for (const [path, text] of Object.entries(made)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

// A TCP proxy to podterm that passes at most `rate` bytes a second from the browser.
class SlowProxy {
  readonly url: string;
  #server: net.Server;
  #sockets = new Set<net.Socket>();

  private constructor(server: net.Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(target: string, rate: number): Promise<SlowProxy> {
    const upstream = new URL(target);
    let proxy: SlowProxy | undefined;
    const server = net.createServer((client) => proxy!.#accept(client, upstream.hostname, Number(upstream.port), rate));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    proxy = new SlowProxy(server, `${upstream.protocol}//127.0.0.1:${port}`);
    return proxy;
  }

  #accept(client: net.Socket, host: string, port: number, rate: number) {
    const server = net.connect(port, host);
    for (const socket of [client, server]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    server.pipe(client);
    // The browser's bytes, a tenth of `rate` every 100 ms.
    let passed = 0;
    client.on("data", (chunk) => {
      server.write(chunk);
      passed += chunk.length;
      if (passed >= rate / 10) {
        client.pause();
        setTimeout(() => {
          passed = 0;
          client.resume();
        }, 100);
      }
    });
  }

  async close() {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
