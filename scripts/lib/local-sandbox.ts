/**
 * The SparkPay sandbox on 127.0.0.1 with the development keys, for `npm run sandbox` and `npm start`.
 */
import type { Server } from "node:http";
import { serveSandbox } from "../../sandbox/server.mjs";
import { createSandbox } from "../../sandbox/sparkpay-sandbox.mjs";
import { DEV_VARS, ensureDevSetup, HOST, pointAtThisSandbox, SANDBOX_PORT, SANDBOX_URL } from "../dev-setup";
import { freeLoopbackPort } from "./ports";

/** What to do about a taken port, for the line that says so: `how` is the command with another port, e.g. npm start. */
export async function portTakenMessage(port: number, what: string, how: (port: number) => string): Promise<string> {
  return (
    `port ${port} on ${HOST} (${what}) is already taken, perhaps by another npm start, npm run sandbox or ` +
    `wrangler dev. Stop that, or use another port: \`${how(await freeLoopbackPort())}\`.`
  );
}

/**
 * Creates the development keys if needed, points .dev.vars at this sandbox, and serves it. Throws a one-line reason
 * when it cannot; `command` (npm start, npm run sandbox) is what the reason tells the user to run again.
 */
export async function startLocalSandbox(command: string) {
  const setup = ensureDevSetup();
  if (setup.created) console.log(`Created development keys in ${DEV_VARS} and .dev.sandbox.json (both git-ignored).`);
  const sandbox = createSandbox({
    appId: setup.sandbox.appId,
    merchantPublicKey: setup.sandbox.merchantPublicKey,
    platformPrivateKey: setup.sandbox.platformPrivateKey,
  });
  let server: Server;
  try {
    server = await serveSandbox(sandbox, { host: HOST, port: SANDBOX_PORT });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== "EADDRINUSE") throw new Error(`The sandbox could not listen on ${HOST}:${SANDBOX_PORT}: ${message}`);
    throw new Error(await portTakenMessage(SANDBOX_PORT, "the sandbox", (port) => `SANDBOX_PORT=${port} ${command}`));
  }
  // After an earlier run on another SANDBOX_PORT, .dev.vars still names that one: the gateway would get 502s.
  const replaced = pointAtThisSandbox();
  if (replaced) console.log(`Pointed SPARKPAY_BASE_URL in ${DEV_VARS} at this sandbox (it was ${replaced}).`);
  console.log(`SparkPay sandbox listening on ${SANDBOX_URL}`);
  return { setup, server, sandbox, url: SANDBOX_URL };
}

/**
 * Runs `stop` once on SIGINT or SIGTERM, and nothing else: importing wrangler's API installs
 * listeners that exit the process at once, which would orphan wrangler dev and workerd.
 */
export function onStopSignals(stop: () => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.once(signal, stop);
  }
}
