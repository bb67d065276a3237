/**
 * The deploy bundle served by Miniflare (workerd) on loopback. With `upstream`, every outbound fetch
 * goes to that in-process SparkPay (the sandbox), wired exactly as in the tests; without it, the
 * Worker fetches SPARKPAY_BASE_URL over the network. Used by the tests, `npm run soak` and
 * `npm run bench`.
 */
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare, type MiniflareOptions, type WorkerOptions } from "miniflare";
import { freeLoopbackPort } from "./lib/ports.ts";

/** The workerd processes this Node process has started. */
function workerdPids(): Set<number> {
  try {
    return new Set(
      execFileSync("pgrep", ["-P", String(process.pid), "-f", "workerd"], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map(Number),
    );
  } catch {
    return new Set(); // pgrep exits 1 when there are none
  }
}

/** The Worker every fetch of the gateway goes to in tests, soak and bench: see sandbox/workerd-outbound.js. */
export const SANDBOX_OUTBOUND_WORKER = "sparkpay-sandbox";

/** A Node-side function that answers the gateway's outbound requests (e.g. the sandbox's handle). */
export type Upstream = (request: Request) => Promise<Response>;
type ServiceBinding = Extract<NonNullable<WorkerOptions["serviceBindings"]>, Record<string, unknown>>[string];

/**
 * Miniflare options for that Worker, handing each request to `upstream` and routing unreachable hosts to a closed
 * port.
 */
export function sandboxOutboundWorker(upstream: Upstream): WorkerOptions {
  return {
    name: SANDBOX_OUTBOUND_WORKER,
    modules: true,
    scriptPath: new URL("../sandbox/workerd-outbound.js", import.meta.url).pathname,
    compatibilityDate: COMPATIBILITY_DATE,
    serviceBindings: {
      // Miniflare types the function with its own (undici) Request and Response; the Fetch API ones are what it gets.
      SANDBOX: upstream as unknown as ServiceBinding,
      // Port 1 on loopback: connection refused, a genuine network error.
      UNREACHABLE: { external: { address: "127.0.0.1:1", http: {} } },
    },
  };
}

/** A running Miniflare, its URL and its workerd process id (for memory and CPU readings from /proc). */
export interface StartedMiniflare {
  mf: Miniflare;
  url: string;
  pid: number;
}

/** Starts a Miniflare: see StartedMiniflare. */
export async function startMiniflare(options: MiniflareOptions): Promise<StartedMiniflare> {
  const before = workerdPids();
  const mf = new Miniflare(options);
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pid = [...workerdPids()].find((candidate) => !before.has(candidate)) ?? 0;
  return { mf, url, pid };
}

export const COMPATIBILITY_DATE = "2026-05-03";
/** The gateway Worker's name; its V8 inspector target is `core:user:<name>`. */
export const GATEWAY_WORKER = "gateway";
/** Our limits are not what these runs measure: give them room. */
const UNLIMITED = { simple: { limit: 100_000_000, period: 60 as const } };

/** Reads (or drains) workerd's stdout and stderr. */
export type OnStdio = (stdout: Readable, stderr: Readable) => void;

/**
 * With `inspector`, workerd also serves the V8 inspector on a free loopback port, returned as
 * `inspectorPort`: GET /json there lists one target per Worker ("core:user:gateway" for this one).
 * `worker`: more options for the gateway Worker, e.g. `d1Databases` and `workflows` (the soak's durable phase) or
 * `assets` (the API reference's files: test/browser).
 */
export async function startLocalGateway(options: {
  scriptPath: string;
  upstream?: Upstream;
  bindings?: Record<string, string>;
  onStdio?: OnStdio;
  inspector?: boolean;
  worker?: Pick<WorkerOptions, "d1Databases" | "workflows" | "durableObjects" | "assets">;
}): Promise<StartedMiniflare & { inspectorPort: number | undefined }> {
  const { scriptPath, upstream, bindings = {}, onStdio, inspector = false, worker } = options;
  const gateway: WorkerOptions = {
    name: GATEWAY_WORKER,
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    ratelimits: {
      CALLER_RATE_LIMITER: UNLIMITED,
      MERCHANT_RATE_LIMITER: UNLIMITED,
      READ_RATE_LIMITER: UNLIMITED,
      NOTIFY_RATE_LIMITER: UNLIMITED,
    },
    ...worker,
  };
  const sandboxRouter = upstream && sandboxOutboundWorker(upstream);
  const inspectorPort = inspector ? await freeLoopbackPort() : undefined;
  const started = await startMiniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    inspectorPort,
    handleRuntimeStdio: onStdio,
    workers: sandboxRouter ? [{ ...gateway, outboundService: SANDBOX_OUTBOUND_WORKER }, sandboxRouter] : [gateway],
  });
  return { ...started, inspectorPort };
}

/**
 * The durable closes' bindings, named as in wrangler.toml: D1 (`database`, empty until migrated), the close and
 * notification Workflows and the round gate's Durable Object.
 */
export function durableClosesBindings(
  database: string,
): NonNullable<Parameters<typeof startLocalGateway>[0]["worker"]> {
  return {
    d1Databases: { CLOSE_JOBS_DB: database },
    workflows: {
      CLOSE_WORKFLOW: { name: "sparkpay-close-jobs", className: "CloseWorkflow" },
      NOTIFY_WORKFLOW: { name: "sparkpay-notifications", className: "NotificationWorkflow" },
    },
    durableObjects: { CLOSE_ROUND_GATE: "CloseRoundGate" },
  };
}

/**
 * The gateway's settings for the sandbox as SparkPay: its AppID, the merchant key whose public half the sandbox
 * holds, the platform key it signs with, and one caller key.
 */
export function sandboxSettings(keys: {
  appId: string;
  merchantPrivateKeyPem: string;
  platformPublicKeyPem: string;
  callerKey: string;
}): Record<string, string> {
  return {
    SPARKPAY_APP_ID: keys.appId,
    SPARKPAY_PRIVATE_KEY: keys.merchantPrivateKeyPem,
    SPARKPAY_PLATFORM_PUBLIC_KEY: keys.platformPublicKeyPem,
    GATEWAY_API_KEYS: keys.callerKey,
  };
}
