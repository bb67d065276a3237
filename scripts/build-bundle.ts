import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Quiet, offline wrangler runs (no metrics, no banner, no cf fetch, debug log out of $HOME). */
export const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG_PATH: process.env.WRANGLER_LOG_PATH ?? join(tmpdir(), "wrangler-logs"),
};

/**
 * Bundles the Worker exactly as `wrangler deploy` would (dry run, offline) and returns the path
 * of the bundled module.
 */
export function buildDeployBundle() {
  const outdir = mkdtempSync(join(tmpdir(), "gw-bundle-"));
  execFileSync("node_modules/.bin/wrangler", ["deploy", "--dry-run", "--outdir", outdir], {
    env: WRANGLER_ENV,
    stdio: "pipe",
  });
  return join(outdir, "index.js");
}
