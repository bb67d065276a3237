/** What every `npm run keys` command does with files: refuse to replace them, read a key, list what it wrote. */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { shown, type Target } from "./target";

/** Refuses (one line, exit 1, nothing written) when any of `paths` exists, unless --force. */
export function refuseExisting(paths: string[], force: boolean, why: string): void {
  const existing = paths.filter((path) => existsSync(path)).map(shown);
  if (existing.length === 0 || force) return;
  const others = existing.length > 1 ? ` (so do ${existing.slice(1).join(", ")})` : "";
  throw new Error(`${existing[0]} already exists${others}. ${why}`);
}

/** Reads a PEM private key file, or refuses naming it. */
export function readPrivateKey(path: string): { pem: string; key: KeyObject } {
  const pem = readFileSync(path, "utf8");
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch {
    throw new Error(`${shown(path)} is not a private key node:crypto can read (PEM, unencrypted).`);
  }
}

/** "Wrote …" and one aligned line per file: its path, then what it is. */
export function wrote(target: Target, rows: Array<[path: string, what: string] | false>): string {
  const present = rows.filter((row) => row !== false);
  const width = Math.max(...present.map(([path]) => path.length));
  return [
    `Wrote, for ${target.title} only:`,
    ...present.map(([path, what]) => `  ${path.padEnd(width)}  ${what}`),
  ].join("\n");
}
