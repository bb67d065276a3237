/**
 * `npm start [-- <wrangler dev options>]`: the gateway (wrangler dev) and the local SparkPay sandbox,
 * both on 127.0.0.1. Creates development keys on first run (.dev.vars, which points the gateway at
 * the sandbox), waits until GET /healthz answers, prints a curl that closes a sandbox order, and
 * stops both on Ctrl-C, SIGINT or SIGTERM. Extra arguments go to wrangler dev as they are, e.g.
 * `npm start -- --var LOG_LEVEL:debug`.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";
import { SANDBOX_MERCHANTS } from "../sandbox/sparkpay-sandbox.mjs";
import { WRANGLER_ENV } from "./build-bundle";
import { DEV_VARS, GATEWAY_PORT, HOST } from "./dev-setup";
import { onStopSignals, startLocalSandbox } from "./lib/local-sandbox";

const READY_TIMEOUT_MS = 60_000;

const { setup, server, url: sandboxUrl } = await startLocalSandbox();

// What wrangler dev will see: wrangler.toml's vars with .dev.vars on top.
process.env.WRANGLER_LOG ??= "error";
const config = unstable_readConfig({ config: "wrangler.toml" });
const baseUrl = unstable_getVarsForDev("wrangler.toml", undefined, config.vars, undefined, true).SPARKPAY_BASE_URL;
const target = String(baseUrl && "value" in baseUrl ? baseUrl.value : "");
if (target.replace(/\/$/, "") !== sandboxUrl) {
  console.warn(
    `Note: ${DEV_VARS} sets SPARKPAY_BASE_URL to ${target || "nothing"}, not this sandbox (${sandboxUrl}); ` +
      `the gateway will talk to ${target || "wrangler.toml's SparkPay"}. Move ${DEV_VARS} aside to start fresh.`,
  );
}

// The durable closes' tables in the local D1 (.wrangler/state), as `wrangler d1 migrations apply` does remotely;
// already-applied migrations are skipped, so every start runs it.
try {
  execFileSync("node_modules/.bin/wrangler", ["d1", "migrations", "apply", "CLOSE_JOBS_DB", "--local"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...WRANGLER_ENV, CI: "1" },
  });
} catch (error) {
  const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
  console.error(`Could not apply the D1 migrations locally; /v1/closes will fail until they are.\n${stderr}`);
}

/**
 * The caller's extra arguments for wrangler dev, and the gateway's port: `--port N` among them moves the gateway
 * (as GATEWAY_PORT does) instead of reaching wrangler twice, which it refuses.
 */
function wranglerArguments(args: string[]): { port: number; rest: string[] } {
  const at = args.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
  if (at === -1) return { port: GATEWAY_PORT, rest: args };
  const inline = args[at]?.startsWith("--port=");
  const value = inline ? args[at]?.slice("--port=".length) : args[at + 1];
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: --port needs a port number (1-65535); got ${value ?? "nothing"}.`);
    process.exit(2);
  }
  return { port, rest: [...args.slice(0, at), ...args.slice(at + (inline ? 1 : 2))] };
}
const { port: gatewayPort, rest: extraArguments } = wranglerArguments(process.argv.slice(2));

const wrangler = spawn(
  "node_modules/.bin/wrangler",
  // Every setting comes from wrangler.toml and .dev.vars; extra arguments are the caller's.
  ["dev", "--ip", HOST, "--port", String(gatewayPort), "--show-interactive-dev-session=false", ...extraArguments],
  // Its own process group: node_modules/.bin/wrangler starts the real CLI as a child, which starts
  // workerd; stopping the group stops all of them, whoever signalled npm start.
  { stdio: ["ignore", "inherit", "inherit"], env: WRANGLER_ENV, detached: true },
);

let stopping = false;
/** Signals wrangler's whole process group; false once no process of it is left. */
function signalGroup(signal: NodeJS.Signals | 0): boolean {
  if (wrangler.pid === undefined) return false; // never started: and kill(-0) would signal our own group
  try {
    process.kill(-wrangler.pid, signal);
    return true;
  } catch {
    return false;
  }
}
/**
 * Stops the sandbox and every process of wrangler dev (its launcher, the CLI, workerd), then exits
 * with `code`: SIGTERM first, SIGKILL for whatever is left after 5 s.
 */
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  server.close();
  signalGroup("SIGTERM");
  const deadline = Date.now() + 5_000;
  while (signalGroup(0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  signalGroup("SIGKILL");
  process.exit(code);
}
onStopSignals(() => stop(0));
wrangler.on("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the sandbox.`);
    stop(code ?? 1);
  }
});

const gatewayUrl = `http://${HOST}:${gatewayPort}`;
/** GET /healthz until the gateway answers at all; its report, or undefined if it never did. */
async function waitForHealth() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping && Date.now() < deadline) {
    const report = await fetch(`${gatewayUrl}/healthz`).then(
      async (response) => (await response.json()) as { status: string; checks: Record<string, string> },
      () => undefined,
    );
    if (report) return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

const health = await waitForHealth();
if (!stopping && !health) {
  console.error(`The gateway did not answer on ${gatewayUrl}/healthz within ${READY_TIMEOUT_MS / 1000} s.`);
  stop(1);
} else if (health && health.status !== "ready") {
  const problems = Object.entries(health.checks).filter(([, result]) => !result.startsWith("ok"));
  console.error(`The gateway is up on ${gatewayUrl} but not ready:`);
  for (const [name, problem] of problems) console.error(`  ${name}: ${problem}`);
  console.error(`Fix ${DEV_VARS} (it overrides wrangler.toml) and wrangler dev reloads it.`);
} else if (health) {
  const body = JSON.stringify({
    request_no: `DEMO_${randomBytes(6).toString("hex").toUpperCase()}`,
    merchant_no: SANDBOX_MERCHANTS[0],
  });
  const later = `DEMO_${randomBytes(6).toString("hex").toUpperCase()}`;
  console.log(`
Gateway ready on ${gatewayUrl}, talking to the sandbox on ${sandboxUrl}.
Close a sandbox order:

  curl -sS -X POST ${gatewayUrl}/v4/pay/orders/close \\
    -H 'Authorization: Bearer ${setup.callerKey}' \\
    -H 'Content-Type: application/json' \\
    -d '${body}'

Schedule a durable close of another order 10 s ahead, then watch its status and history:

  curl -sS -X PUT ${gatewayUrl}/v1/closes/${SANDBOX_MERCHANTS[0]}/${later} \\
    -H 'Authorization: Bearer ${setup.callerKey}' \\
    -H 'Content-Type: application/json' -d '{"close_at": '$(($(date +%s) + 10))'}'
  curl -sS ${gatewayUrl}/v1/closes/${SANDBOX_MERCHANTS[0]}/${later} -H 'Authorization: Bearer ${setup.callerKey}'

Run the first again: SparkPay refuses a repeat close, the gateway confirms by Payment Order Query, and
the answer is still 200 (with X-Close-Confirmed-By: order-query). A request_no starting with
FAULT_SLOW_, FAULT_HTTP500_, FAULT_BADSIG_ … makes the sandbox misbehave (see docs/sandbox.md).
The API reference: ${gatewayUrl}/docs (with ${gatewayUrl}/healthz and /openapi.json, no key needed).
Press Ctrl-C to stop both.
`);
}
