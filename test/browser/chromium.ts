/**
 * Where the browser check finds Chromium: CHROMIUM_PATH, else the first of the usual binaries (Debian's `chromium`
 * package, Ubuntu's, Google's). Run as a script it prints the path, or exits 1 when there is none (.ci/run asks it).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

export function findChromium(): string | undefined {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) return existsSync(chosen) ? chosen : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * The flags that work on a machine with no network but loopback and no GPU (and as root: no sandbox): without the
 * background-networking ones, Chromium keeps trying Google's hosts. A fresh profile is passed as userDataDir.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Chromium's path, or the error that says how to get one (asked before anything else starts). */
export function requireChromium(): string {
  const found = findChromium();
  if (!found) throw new Error("No Chromium: `apt-get install -y chromium`, or set CHROMIUM_PATH.");
  return found;
}

/** Headless Chromium with CHROMIUM_ARGS on a fresh profile; `close` stops it and removes the profile. */
export async function launchChromium(executablePath: string): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "gw-chromium-"));
  const browser = await puppeteer.launch({ executablePath, args: CHROMIUM_ARGS, userDataDir: profile, headless: true });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = findChromium();
  if (!found) process.exit(1);
  console.log(found);
}
