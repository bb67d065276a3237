/**
 * `node --import tsx scripts/deploy/gradual.ts -- --env staging|production --url https://…
 *    [--steps 10,100] [--tag TAG] [--message TEXT]`
 *
 * Deploys the code as a Worker version, step by step. Notes the version serving now
 * (`wrangler deployments status`), uploads the new one (`wrangler versions upload`: it serves no
 * traffic yet and keeps the Worker's secrets), applies wrangler.toml's triggers (`wrangler triggers
 * deploy`: the workers.dev URL, as `wrangler deploy` does), then for each percentage in --steps runs
 * `wrangler versions deploy <new>@<p>% <previous>@<100-p>%` and GETs <url>/healthz on the new
 * version (the Cloudflare-Workers-Version-Overrides header picks it) until it answers 200
 * `"status":"ready"`. When it does not, when a deploy fails, or on any surprise once traffic has
 * moved, it rolls back to the version that served before (`wrangler rollback <id>`) and exits 1.
 * Needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID. Exit 0 rolled out, 1 not (rolled back),
 * 2 usage mistake (found before anything is uploaded).
 */
import { isMain, readOptions, runCli, UsageError } from "../lib/cli";
import { parseJsonAfterNotices, runWrangler, targetWorker, type Wrangler } from "./common";

const USAGE =
  "Usage: node --import tsx scripts/deploy/gradual.ts -- --env staging|production --url https://… " +
  "[--steps 10,100] [--tag TAG] [--message TEXT]";

/**
 * Lengths kept to (characters): a version's tag, a version's or deployment's message (Cloudflare
 * limits both; 25 and 100 are assumed, not confirmed), a rollback's message (wrangler says 120).
 */
const TAG_MAX = 25;
const MESSAGE_MAX = 100;
const ROLLBACK_MESSAGE_MAX = 120;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * The uploaded version's id: from the entries wrangler writes to WRANGLER_OUTPUT_FILE_PATH (the
 * last `{"type":"version-upload","version_id":…}` line), or from its log ("Worker Version ID: …").
 */
export function versionIdFromUpload(output: string): string | undefined {
  let found: string | undefined;
  for (const line of output.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { type?: unknown; version_id?: unknown };
      if (entry.type === "version-upload" && typeof entry.version_id === "string" && UUID.test(entry.version_id))
        found = entry.version_id;
    } catch {
      // not one of wrangler's output entries
    }
  }
  return found ?? new RegExp(`Worker Version ID:\\s*(${UUID.source})`, "i").exec(output)?.[1];
}

/**
 * The version serving now, from `wrangler deployments status --json` (`{"versions":[{"version_id",
 * "percentage"}, …]}`): the one with the largest share. undefined when it names none.
 */
export function currentVersionId(stdout: string): string | undefined {
  const deployment = parseJsonAfterNotices(stdout, "{") as { versions?: unknown } | undefined;
  if (!Array.isArray(deployment?.versions)) return undefined;
  const versions = (deployment.versions as Array<{ version_id?: unknown; percentage?: unknown }>)
    .filter((v) => typeof v.version_id === "string" && typeof v.percentage === "number")
    .sort((a, b) => (b.percentage as number) - (a.percentage as number));
  return versions[0]?.version_id as string | undefined;
}

/** --steps: rising percentages, each above 0, the last one 100. */
export function parseSteps(text: string): number[] {
  const steps = text.split(",").map((part) => Number(part.trim()));
  const valid =
    steps.every((step) => Number.isInteger(step) && step > 0 && step <= 100) &&
    steps.every((step, i) => i === 0 || step > steps[i - 1]!) &&
    steps.at(-1) === 100;
  if (!valid)
    throw new UsageError(`--steps must be rising whole percentages ending with 100, e.g. 10,100; got ${text}.`);
  return steps;
}

/** `wrangler versions upload`, with the tag and message cut to what Cloudflare takes. */
export function versionsUploadArgs(options: { env: string; tag?: string; message?: string }): string[] {
  const { env, tag, message } = options;
  return [
    "versions",
    "upload",
    "--env",
    env,
    ...(tag ? ["--tag", tag.slice(0, TAG_MAX)] : []),
    ...(message ? ["--message", message.slice(0, MESSAGE_MAX)] : []),
  ];
}

/** `wrangler versions deploy` for one step: the new version at `percentage`, the previous one at the rest. */
export function versionsDeployArgs(options: {
  env: string;
  versionId: string;
  percentage: number;
  previousVersionId?: string;
  message?: string;
}): string[] {
  const { env, versionId, percentage, previousVersionId, message } = options;
  if (percentage < 100 && !previousVersionId) throw new Error(`${percentage}% needs a previous version for the rest.`);
  const specs =
    percentage < 100
      ? [`${versionId}@${percentage}%`, `${previousVersionId}@${100 - percentage}%`]
      : [`${versionId}@100%`];
  const note = message ? `${message} (${percentage}%)` : `${percentage}%`;
  return ["versions", "deploy", ...specs, "--env", env, "--yes", "--message", note.slice(0, MESSAGE_MAX)];
}

/** `wrangler rollback` to the version that served before, with the reason as its message. */
export function rollbackArgs(options: { env: string; previousVersionId: string; reason: string }): string[] {
  const message = `CI rollback: ${options.reason}`.slice(0, ROLLBACK_MESSAGE_MAX);
  return ["rollback", options.previousVersionId, "--env", options.env, "--yes", "--message", message];
}

/** <url>/healthz; the Worker's URL must be https. */
export function healthzUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(
      `--url must be the Worker's https URL (GitHub environment variable GATEWAY_URL); got "${base}".`,
    );
  }
  if (url.protocol !== "https:") throw new UsageError(`--url (GATEWAY_URL) must be https; got "${base}".`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}/healthz`;
}

/** Sends a request to `versionId` whatever the traffic split (the version must be in the deployment). */
export const versionOverrideHeader = (workerName: string, versionId: string) => ({
  "Cloudflare-Workers-Version-Overrides": `${workerName}="${versionId}"`,
});

/** Whether a /healthz answer says ready: HTTP 200 with `"status":"ready"`. The reason names what is not. */
export function judgeHealth(status: number, body: string): { ready: boolean; reason: string } {
  let report: { status?: unknown; checks?: Record<string, { status?: unknown; message?: unknown }> } | undefined;
  try {
    report = JSON.parse(body);
  } catch {
    return { ready: false, reason: `HTTP ${status}, not JSON: ${JSON.stringify(body.slice(0, 100))}` };
  }
  if (status === 200 && report?.status === "ready") return { ready: true, reason: "HTTP 200, ready" };
  // Only problems stop readiness (a warning, e.g. an unknown LOG_LEVEL, never does); they are what to fix.
  const problems = Object.entries(report?.checks ?? {})
    .filter(([, check]) => check?.status === "problem")
    .map(([name, check]) => `${name}: ${String(check.message)}`);
  const said = typeof report?.status === "string" ? report.status : "no status";
  return { ready: false, reason: [`HTTP ${status}, ${said}`, ...problems].join("; ").slice(0, 500) };
}

export interface HealthAnswer {
  status: number;
  body: string;
}
export interface RollOutDeps {
  wrangler: Wrangler;
  /** GET `url` with `headers`; throws on a network error. */
  get: (url: string, headers: Record<string, string>) => Promise<HealthAnswer>;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  /** Health checks after each step before giving up, and the wait before each (propagation). */
  attempts?: number;
  intervalMs?: number;
}

const getHealth: RollOutDeps["get"] = async (url, headers) => {
  const response = await fetch(url, {
    headers: { "User-Agent": "sparkpay-gateway-deploy", ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
};

/** What to do when Cloudflare refuses an uploaded version for the Durable Object migration it brings. */
export function migrationAdvice(env: string): string {
  return (
    "This version brings a Durable Object migration (wrangler.toml [[migrations]]), which Cloudflare applies only " +
    `in a deploy of the whole Worker: deploy it once with \`npx wrangler deploy --env ${env}\` ` +
    '(docs/operations.md, "Upgrading"), then let this job deploy as before.'
  );
}

/** The whole rollout; returns the exit code. Every Cloudflare call goes through `deps`. */
export async function rollOut(
  options: { env: string; workerName: string; url: string; steps: number[]; tag?: string; message?: string },
  deps: RollOutDeps,
): Promise<number> {
  const { env, workerName, steps, tag, message } = options;
  const { wrangler, log, attempts = 12, intervalMs = 5_000 } = deps;
  const url = healthzUrl(options.url);
  parseSteps(steps.join(","));

  const status = await wrangler(["deployments", "status", "--env", env, "--json"]);
  const previousVersionId = status.code === 0 ? currentVersionId(status.stdout) : undefined;
  if (status.code !== 0 && !/has no deployments/.test(status.stderr)) {
    log(`Could not read the current deployment of ${workerName} (above); nothing was uploaded.`);
    return 1;
  }

  const upload = await wrangler(versionsUploadArgs({ env, tag, message }));
  const versionId = upload.code === 0 ? versionIdFromUpload(`${upload.output ?? ""}\n${upload.stdout}`) : undefined;
  if (!versionId) {
    log(
      upload.code === 0
        ? "wrangler versions upload named no version id (above); nothing was deployed."
        : `wrangler versions upload exited ${upload.code} (above); nothing was deployed.`,
    );
    // Cloudflare takes a Durable Object migration only in a deploy of the whole Worker, never in an uploaded version.
    if (upload.code !== 0 && /migration/i.test(`${upload.stdout}\n${upload.stderr}`)) log(migrationAdvice(env));
    return 1;
  }
  const triggers = await wrangler(["triggers", "deploy", "--env", env]);
  if (triggers.code !== 0) {
    log(`wrangler triggers deploy exited ${triggers.code} (above); ${versionId} was uploaded, not deployed.`);
    return 1;
  }
  log(`Rolling out ${versionId} to ${workerName} in steps ${steps.join("% → ")}%.`);
  log(
    previousVersionId ? `Serving before: ${previousVersionId}.` : "No earlier version serves: nothing to fall back to.",
  );

  let moved = false;
  const rollBack = async (reason: string): Promise<number> => {
    log(`Not rolled out: ${reason}`);
    if (!moved) return 1;
    if (!previousVersionId) {
      log(`No earlier version to roll back to: ${versionId} stays deployed. Fix it and deploy again.`);
      return 1;
    }
    log(`Rolling back ${workerName} to ${previousVersionId}.`);
    const back = await wrangler(rollbackArgs({ env, previousVersionId, reason }));
    log(
      back.code === 0
        ? `Rolled back: ${previousVersionId} serves 100%.`
        : `ROLLBACK FAILED (wrangler exited ${back.code}): run \`npx wrangler rollback ${previousVersionId} ` +
            `--env ${env}\` now.`,
    );
    return 1;
  };

  try {
    for (const percentage of steps) {
      if (percentage < 100 && !previousVersionId) {
        log(`Skipping ${percentage}%: no earlier version to share the traffic with.`);
        continue;
      }
      const deployed = await wrangler(versionsDeployArgs({ env, versionId, percentage, previousVersionId, message }));
      moved = true; // even a failed deploy may have moved traffic: roll back to be sure
      if (deployed.code !== 0)
        return await rollBack(`wrangler versions deploy at ${percentage}% exited ${deployed.code}.`);

      let verdict = { ready: false, reason: "not checked" };
      for (let attempt = 1; attempt <= attempts && !verdict.ready; attempt++) {
        await deps.sleep(intervalMs);
        try {
          const answer = await deps.get(url, versionOverrideHeader(workerName, versionId));
          verdict = judgeHealth(answer.status, answer.body);
        } catch (error) {
          verdict = { ready: false, reason: `GET ${url} failed: ${(error as Error).message}` };
        }
        log(`${percentage}%: GET ${url} (attempt ${attempt}/${attempts}): ${verdict.reason}`);
      }
      if (!verdict.ready) return await rollBack(`/healthz at ${percentage}% is not ready: ${verdict.reason}`);
    }
  } catch (error) {
    return await rollBack(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
  log(`Rolled out: ${versionId} serves 100% of ${workerName} and /healthz is ready.`);
  return 0;
}

if (isMain(import.meta.url)) {
  runCli("gradual", USAGE, async () => {
    const values = readOptions(process.argv.slice(2), {
      env: { type: "string" },
      url: { type: "string" },
      steps: { type: "string", default: "100" },
      tag: { type: "string" },
      message: { type: "string" },
    });
    const { env, workerName } = targetWorker(values.env);
    const steps = parseSteps(values.steps);
    const url = values.url ?? "";
    healthzUrl(url); // a missing or http URL stops here, before anything is uploaded
    return rollOut(
      { env, workerName, url, steps, tag: values.tag, message: values.message },
      { wrangler: runWrangler, get: getHealth, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), log: console.log },
    );
  });
}
