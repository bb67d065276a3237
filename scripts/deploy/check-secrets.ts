/**
 * `node --import tsx scripts/deploy/check-secrets.ts -- --env staging|production`
 *
 * CI deploys code, never secrets: they are set in Cloudflare with `wrangler secret put`. Before a
 * deploy job uploads anything, this checks that every secret the gateway needs (SECRET_NAMES in
 * src/settings/report.ts, and CLOSE_WEBHOOK_SECRET when the environment's CLOSE_WEBHOOK_URL is set) exists on
 * the environment's Worker, from `wrangler secret list` (names only; a value never leaves
 * Cloudflare), and stops with the missing names.
 * Needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID. Exit 0 all set, 1 missing or not
 * listable, 2 usage mistake.
 */
import { SECRET_NAMES } from "../../src/settings/report";
import { webhooksWanted } from "../../src/settings/webhooks";
import { isMain, readOptions, runCli } from "../lib/cli";
import { parseJsonAfterNotices, runWrangler, targetWorker, type Wrangler, type WranglerResult } from "./common";

const USAGE = "Usage: node --import tsx scripts/deploy/check-secrets.ts -- --env staging|production";

/**
 * The secret names in `wrangler secret list --format json` output: a JSON array of
 * `{ "name": "…", "type": "secret_text" }`. Lines before the array (a wrangler notice) are skipped.
 */
export function parseSecretList(stdout: string): string[] {
  const list = parseJsonAfterNotices(stdout, "[");
  if (!Array.isArray(list)) throw new Error("wrangler printed no JSON list of secrets.");
  return list.map((entry) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== "string") throw new Error("an entry in wrangler's list of secrets has no name.");
    return name;
  });
}

/** The secrets an environment needs: SECRET_NAMES, and CLOSE_WEBHOOK_SECRET when its CLOSE_WEBHOOK_URL is set. */
export function requiredSecrets(vars: Record<string, unknown>): string[] {
  return [...SECRET_NAMES, ...(webhooksWanted(vars) ? ["CLOSE_WEBHOOK_SECRET"] : [])];
}

/** The required names absent from `present`, in the order they are required. */
export function missingSecrets(required: readonly string[], present: readonly string[]): string[] {
  return required.filter((name) => !present.includes(name));
}

/** wrangler's answer when the Worker does not exist yet (then it has no secrets either). */
export const workerNotFound = (result: WranglerResult) => /Worker "[^"]+".* not found/.test(result.stderr);

/** The verdict line, and the exit code that goes with it. */
export function secretsVerdict(options: {
  workerName: string;
  env: string;
  required: readonly string[];
  missing: readonly string[];
}): { code: 0 | 1; message: string } {
  const { workerName, env, required, missing } = options;
  if (missing.length === 0) return { code: 0, message: `All ${required.length} secrets are set on ${workerName}.` };
  return {
    code: 1,
    message:
      `Missing secrets on ${workerName}: ${missing.join(", ")}. ` +
      `Set each with \`npx wrangler secret put NAME --env ${env}\` (docs/operations.md).`,
  };
}

/** The whole check, with wrangler as a parameter; returns the exit code. */
export async function checkSecrets(
  options: { env: string; workerName: string; required?: readonly string[] },
  wrangler: Wrangler,
  log: (line: string) => void = console.log,
): Promise<number> {
  const { env, workerName, required = SECRET_NAMES } = options;
  const result = await wrangler(["secret", "list", "--env", env, "--format", "json"]);
  let present: string[];
  if (result.code !== 0 && workerNotFound(result)) {
    log(`${workerName} does not exist yet; \`wrangler secret put\` creates it.`);
    present = [];
  } else if (result.code !== 0) {
    log(
      `Could not list the secrets of ${workerName}: wrangler exited ${result.code} (above). ` +
        "Check the repository secrets CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.",
    );
    return 1;
  } else {
    try {
      present = parseSecretList(result.stdout);
    } catch (error) {
      log(`Could not read the secrets of ${workerName}: ${(error as Error).message}`);
      return 1;
    }
  }
  const verdict = secretsVerdict({ workerName, env, required, missing: missingSecrets(required, present) });
  log(verdict.message);
  return verdict.code;
}

if (isMain(import.meta.url)) {
  runCli("check-secrets", USAGE, async () => {
    const values = readOptions(process.argv.slice(2), { env: { type: "string" } });
    const target = targetWorker(values.env);
    return checkSecrets({ ...target, required: requiredSecrets(target.vars) }, runWrangler);
  });
}
