/**
 * `npm start [-- <wrangler dev options>]`: the gateway (wrangler dev) and the local SparkPay sandbox,
 * both on 127.0.0.1. Creates development keys on first run (.dev.vars, which points the gateway at
 * the sandbox), waits until GET /healthz answers, prints a curl that closes a sandbox order, and
 * stops both on Ctrl-C, SIGINT or SIGTERM. Extra arguments go to wrangler dev as they are, e.g.
 * `npm start -- --var LOG_LEVEL:debug`; `--port N` moves the gateway, SANDBOX_PORT the sandbox, WEBHOOK_PORT the
 * webhook receiver (scripts/lib/webhook-receiver.ts), which prints every durable close's event once verified.
 * A port already taken is one line saying so, before anything starts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";
import { CASHIER_PATH, SANDBOX_MERCHANTS } from "../sandbox/sparkpay-sandbox.mjs";
import { NOTIFICATIONS_PATH } from "../src/settings/urls";
import { WRANGLER_ENV } from "./build-bundle";
import {
  DEV_VARS,
  ensureWebhookReceiver,
  GATEWAY_PORT,
  HOST,
  SANDBOX_PORT,
  WEBHOOK_PORT,
  WEBHOOK_URL,
} from "./dev-setup";
import { isMain, runCli, UsageError } from "./lib/cli";
import { startCronTicker } from "./lib/cron-ticker";
import { onStopSignals, portTakenMessage, startLocalSandbox } from "./lib/local-sandbox";
import { portTaken } from "./lib/ports";
import { serveWebhookReceiver } from "./lib/webhook-receiver";
import { startWranglerDev } from "./lib/wrangler-dev";

const READY_TIMEOUT_MS = 60_000;
/** CLOSE_REPAIR_STALLED_S for npm start: its lowest. */
const LOCAL_REPAIR_STALLED_S = 60;
const USAGE = "Usage: [SANDBOX_PORT=N] npm start [-- --port N] [-- <wrangler dev options>]";

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
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--port needs a port number (1-65535); got ${value ?? "nothing"}.`);
  return { port, rest: [...args.slice(0, at), ...args.slice(at + (inline ? 1 : 2))] };
}

/** Says so when the gateway will not talk to this sandbox: .dev.vars (or wrangler.toml) names another SparkPay. */
function noteOtherSparkPay(sandboxUrl: string): void {
  // What wrangler dev will see: wrangler.toml's vars with .dev.vars on top.
  process.env.WRANGLER_LOG ??= "error";
  const config = unstable_readConfig({ config: "wrangler.toml" });
  const baseUrl = unstable_getVarsForDev("wrangler.toml", undefined, config.vars, undefined, true).SPARKPAY_BASE_URL;
  const target = String(baseUrl && "value" in baseUrl ? baseUrl.value : "");
  if (target.replace(/\/$/, "") === sandboxUrl) return;
  console.warn(
    `Note: ${DEV_VARS} sets SPARKPAY_BASE_URL to ${target || "nothing"}, not this sandbox (${sandboxUrl}); ` +
      `the gateway will talk to ${target || "wrangler.toml's SparkPay"}. Move ${DEV_VARS} aside to start fresh.`,
  );
}

/** The API reference's files (wrangler.toml [assets]), built fresh so /openapi.json is the current document. */
function buildAssets(): void {
  try {
    execFileSync("node_modules/.bin/tsx", ["scripts/build-assets.ts"], { stdio: ["ignore", "ignore", "inherit"] });
  } catch {
    if (!existsSync("assets"))
      throw new Error("Could not build assets/ (npm run build:assets, above), which wrangler dev needs.");
    console.warn("Could not rebuild assets/ (npm run build:assets, above): /docs serves the last build.");
  }
}

/**
 * The durable closes' tables in the local D1 (.wrangler/state), as `wrangler d1 migrations apply` does remotely;
 * already-applied migrations are skipped, so every start runs it.
 */
function applyMigrations(): void {
  try {
    execFileSync("node_modules/.bin/wrangler", ["d1", "migrations", "apply", "CLOSE_JOBS_DB", "--local"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...WRANGLER_ENV, CI: "1" },
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    console.error(`Could not apply the D1 migrations locally; /v1/closes will fail until they are.\n${stderr}`);
  }
}

type Health = { status: string; checks: Record<string, { status: string; message?: string }> };

/** GET /healthz until the gateway answers at all; its report, or undefined if it never did (or we are stopping). */
async function waitForHealth(gatewayUrl: string, stopping: () => boolean): Promise<Health | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping() && Date.now() < deadline) {
    const report = await fetch(`${gatewayUrl}/healthz`).then(
      async (response) => (await response.json()) as Health,
      () => undefined,
    );
    if (report) return report;
    await sleep(250);
  }
  return undefined;
}

/** What npm start prints once the gateway is ready: the curls to try, and what to look at in their answers. */
function readyText(gatewayUrl: string, sandboxUrl: string, callerKey: string, webhooks: boolean): string {
  const demo = () => `DEMO_${randomBytes(6).toString("hex").toUpperCase()}`;
  const merchant = SANDBOX_MERCHANTS[0];
  const body = JSON.stringify({ request_no: demo(), merchant_no: merchant });
  const [later, paid, paidLater, created] = [demo(), demo(), demo(), demo()];
  const auth = `-H 'Authorization: Bearer ${callerKey}'`;
  const order = JSON.stringify({
    merchant_no: merchant,
    request_no: created,
    total_amount: "25.00",
    merchant_order_currency: "USDT",
    merchant_order_desc: "Two concert tickets",
  }).replace(/}$/, ",\"close_at\":'$(($(date +%s) + 120))'}");
  return `
Gateway ready on ${gatewayUrl}, talking to the sandbox on ${sandboxUrl}.
Create a sandbox order that the gateway closes two minutes from now unless it is paid first (close_at):

  curl -sS -X POST ${gatewayUrl}/v4/pay/cashier \
    ${auth} \
    -H 'Content-Type: application/json' \
    -d '${order}'

Its data.cashier_url is the sandbox's checkout page; open it in a browser and press Pay, or leave it:

  ${sandboxUrl}${CASHIER_PATH}${merchant}/${created}

Paid: the receiver below prints order.updated (pay_status SUCCESS) and close.not_closable (the job ends without a
close). Not paid: at close_at the gateway closes it and the receiver prints close.closed.

Close a sandbox order (-i: the answer's headers first, X-Request-Id among them):

  curl -sS -i -X POST ${gatewayUrl}/v4/pay/orders/close \
    ${auth} \
    -H 'Content-Type: application/json' \
    -d '${body}'

The customer pays another order first (a sandbox control; real SparkPay has none). The sandbox sends SparkPay's
encrypted notification to ${gatewayUrl}${NOTIFICATIONS_PATH}; the gateway decrypts and verifies it, confirms
with a verified query and sends order.updated (pay_status SUCCESS). Then the close: 409 ORDER_NOT_CLOSABLE, with
the order as the verified query shows it (fulfil or refund):

  curl -sS -X POST ${sandboxUrl}/__sandbox/orders/${merchant}/${paid}/pay
  curl -sS -X POST ${gatewayUrl}/v4/pay/orders/close ${auth} \
    -H 'Content-Type: application/json' -d '{"request_no":"${paid}","merchant_no":"${merchant}"}'

Schedule a durable close of another order 10 s ahead, then watch its status and history:

  curl -sS -X PUT ${gatewayUrl}/v1/closes/${merchant}/${later} ${auth} \
    -H 'Content-Type: application/json' -d '{"close_at": '$(($(date +%s) + 10))'}'
  curl -sS ${gatewayUrl}/v1/closes/${merchant}/${later} ${auth}

And one whose order is paid before its close_at: the job ends not_closable, with the order:

  curl -sS -X PUT ${gatewayUrl}/v1/closes/${merchant}/${paidLater} ${auth} \
    -H 'Content-Type: application/json' -d '{"close_at": '$(($(date +%s) + 10))'}'
  curl -sS -X POST ${sandboxUrl}/__sandbox/orders/${merchant}/${paidLater}/pay
${
  webhooks
    ? `
Each webhook (order.updated for each verified change of an order; close.closed, close.not_closable, and
close.late_payment when a payment follows a close) lands at ${WEBHOOK_URL}, which checks its signature and
prints it here.
`
    : `
.dev.vars sends the durable closes' webhooks elsewhere (CLOSE_WEBHOOK_URL), so none are printed here.
`
}
Run the first close again: SparkPay refuses a repeat close, the gateway confirms by Payment Order Query, and
the answer is still 200, with X-Close-Confirmed-By: order-query. A request_no starting with
FAULT_SLOW_, FAULT_HTTP500_, FAULT_BADSIG_ … makes the sandbox misbehave (see docs/sandbox.md).
The API reference: ${gatewayUrl}/docs (with ${gatewayUrl}/healthz and /openapi.json, no key needed).
Press Ctrl-C to stop both.
`;
}

async function main(): Promise<void> {
  const { port: gatewayPort, rest: extraArguments } = wranglerArguments(process.argv.slice(2));
  if (gatewayPort === SANDBOX_PORT)
    throw new UsageError(`the gateway and the sandbox need a port each; both would be ${gatewayPort}.`);
  // wrangler dev on a taken port fails with workerd's stack trace, after the sandbox has started: ask first.
  if (await portTaken(gatewayPort))
    throw new Error(await portTakenMessage(gatewayPort, "the gateway", (port) => `npm start -- --port ${port}`));
  if (await portTaken(WEBHOOK_PORT))
    throw new Error(
      await portTakenMessage(WEBHOOK_PORT, "the webhook receiver", (port) => `WEBHOOK_PORT=${port} npm start`),
    );
  const { setup, server, sandbox, url: sandboxUrl } = await startLocalSandbox("npm start");
  const gatewayUrl = `http://${HOST}:${gatewayPort}`;
  // The sandbox notifies the local gateway of each change of an order, as SparkPay would its notify_url.
  sandbox.notifier.settings.url = `${gatewayUrl}${NOTIFICATIONS_PATH}`;
  const webhookSecret = ensureWebhookReceiver(setup.sandbox);
  const receiver =
    webhookSecret === undefined
      ? undefined
      : await serveWebhookReceiver({ host: HOST, port: WEBHOOK_PORT, secret: webhookSecret, print: console.log });

  let stopping = false;
  let wrangler: ReturnType<typeof startWranglerDev> | undefined;
  let cron: ReturnType<typeof startCronTicker> | undefined;
  /** Stops the sandbox and every process of wrangler dev, then exits with `code`. */
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    server.close();
    receiver?.close();
    cron?.stop();
    await wrangler?.stop();
    process.exit(code);
  };
  try {
    noteOtherSparkPay(sandboxUrl);
    buildAssets();
    applyMigrations();
    // Every setting comes from wrangler.toml and .dev.vars; extra arguments are the caller's.
    wrangler = startWranglerDev([
      ...["--ip", HOST, "--port", String(gatewayPort), "--show-interactive-dev-session=false"],
      // The Cron Trigger, fired by startCronTicker; and the repair's patience for an instance that says it runs cut
      // to a minute: locally, every instance that slept through a restart of wrangler dev says so (scripts/lib/cron-ticker.ts).
      ...["--test-scheduled", "--var", `CLOSE_REPAIR_STALLED_S:${LOCAL_REPAIR_STALLED_S}`],
      ...["--var", `GATEWAY_PUBLIC_URL:${gatewayUrl}`],
      ...extraArguments,
    ]);
  } catch (error) {
    server.close();
    receiver?.close();
    throw error;
  }
  onStopSignals(() => stop(0));
  wrangler.child.on("exit", (code) => {
    if (stopping) return;
    console.error(`wrangler dev exited (${code}); stopping the sandbox.`);
    stop(code ?? 1);
  });

  const health = await waitForHealth(gatewayUrl, () => stopping);
  if (stopping) return;
  if (health) cron = startCronTicker(gatewayUrl);
  if (!health) {
    console.error(`The gateway did not answer on ${gatewayUrl}/healthz within ${READY_TIMEOUT_MS / 1000} s.`);
    await stop(1);
  } else if (health.status !== "ready") {
    const problems = Object.entries(health.checks).filter(([, check]) => check.status === "problem");
    console.error(`The gateway is up on ${gatewayUrl} but not ready:`);
    for (const [name, check] of problems) console.error(`  ${name}: ${check.message}`);
    console.error(`Fix ${DEV_VARS} (it overrides wrangler.toml) and wrangler dev reloads it.`);
  } else {
    console.log(readyText(gatewayUrl, sandboxUrl, setup.callerKey, receiver !== undefined));
  }
}

if (isMain(import.meta.url)) runCli("npm start", USAGE, main);
