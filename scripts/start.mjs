// @ts-check
/**
 * `npm start`: the gateway (wrangler dev) wired to the local SparkPay sandbox, both on 127.0.0.1.
 * Creates development keys on first run, prints a curl that closes a sandbox order, and stops
 * both on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { serveSandbox } from "../sandbox/server.mjs";
import { createSandbox, SANDBOX_MERCHANTS } from "../sandbox/sparkpay-sandbox.mjs";
import { WRANGLER_ENV } from "./build-bundle.mjs";
import { DEV_VARS, ensureDevSetup } from "./dev-setup.mjs";

const HOST = "127.0.0.1";
const GATEWAY_PORT = Number(process.env.GATEWAY_PORT ?? 8787);
const SANDBOX_PORT = Number(process.env.SANDBOX_PORT ?? 8788);
const READY_TIMEOUT_MS = 60_000;

let setup;
try {
  setup = ensureDevSetup();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
if (setup.created) console.log(`Created development keys in ${DEV_VARS} and .dev.sandbox.json (both git-ignored).`);

const sandbox = createSandbox({
  appId: setup.sandbox.appId,
  merchantPublicKey: setup.sandbox.merchantPublicKey,
  platformPrivateKey: setup.sandbox.platformPrivateKey,
});
const server = await serveSandbox(sandbox, { host: HOST, port: SANDBOX_PORT }).catch((error) => {
  console.error(
    `The sandbox could not listen on ${HOST}:${SANDBOX_PORT} (${error.code ?? error.message}). ` +
      "Set SANDBOX_PORT to a free port.",
  );
  process.exit(1);
});
console.log(`SparkPay sandbox listening on http://${HOST}:${SANDBOX_PORT}`);

const wrangler = spawn(
  "node_modules/.bin/wrangler",
  // Plain settings come from wrangler.toml; these two point the gateway at the sandbox.
  [
    "dev",
    "--ip",
    HOST,
    "--port",
    String(GATEWAY_PORT),
    "--var",
    `SPARKPAY_BASE_URL:http://${HOST}:${SANDBOX_PORT}`,
    "--var",
    `SPARKPAY_APP_ID:${setup.sandbox.appId}`,
    "--show-interactive-dev-session=false",
  ],
  {
    stdio: ["ignore", "inherit", "inherit"],
    env: WRANGLER_ENV,
  },
);

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  server.close();
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
wrangler.on("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the sandbox.`);
    stop(code ?? 1);
  }
});

const gatewayUrl = `http://${HOST}:${GATEWAY_PORT}`;
const deadline = Date.now() + READY_TIMEOUT_MS;
while (!stopping) {
  const ready = await fetch(`${gatewayUrl}/`).then(
    () => true,
    () => false,
  );
  if (ready) break;
  if (Date.now() > deadline) {
    console.error(`The gateway did not start on ${gatewayUrl} within ${READY_TIMEOUT_MS / 1000} s.`);
    stop(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}

if (!stopping) {
  const body = JSON.stringify({
    request_no: `DEMO_${randomBytes(6).toString("hex").toUpperCase()}`,
    merchant_no: SANDBOX_MERCHANTS[0],
  });
  console.log(`
Gateway ready on ${gatewayUrl}, talking to the sandbox on http://${HOST}:${SANDBOX_PORT}.
Close a sandbox order:

  curl -sS -X POST ${gatewayUrl}/v4/pay/orders/close \\
    -H 'Authorization: Bearer ${setup.callerKey}' \\
    -H 'Content-Type: application/json' \\
    -d '${body}'

Run it again: SparkPay refuses a repeat close, the gateway confirms by Payment Order Query, and
the answer is still 200 (with X-Close-Confirmed-By: order-query). A request_no starting with
FAULT_SLOW_, FAULT_HTTP500_, FAULT_BADSIG_ … makes the sandbox misbehave (see docs/sandbox.md).
GET ${gatewayUrl}/healthz and ${gatewayUrl}/openapi.json need no key.
Press Ctrl-C to stop both.
`);
}
