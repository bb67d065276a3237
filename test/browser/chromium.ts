/**
 * Where the browser check finds Chromium: CHROMIUM_PATH, else the first of the usual binaries (Debian's `chromium`
 * package, Ubuntu's, Google's). Run as a script it prints the path, or exits 1 when there is none (.ci/run asks it).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = findChromium();
  if (!found) process.exit(1);
  console.log(found);
}
