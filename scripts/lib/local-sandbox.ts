/**
 * The SparkPay sandbox on 127.0.0.1 with the development keys, for `npm run sandbox` and `npm start`.
 */
import { serveSandbox } from "../../sandbox/server.mjs";
import { createSandbox } from "../../sandbox/sparkpay-sandbox.mjs";
import { DEV_VARS, ensureDevSetup, HOST, SANDBOX_PORT } from "../dev-setup";

/** Creates the development keys if needed and serves the sandbox; exits 1 with the reason if it cannot. */
export async function startLocalSandbox() {
  let setup: ReturnType<typeof ensureDevSetup>;
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
  const server = await serveSandbox(sandbox, { host: HOST, port: SANDBOX_PORT }).catch(
    (error: NodeJS.ErrnoException) => {
      console.error(
        `The sandbox could not listen on ${HOST}:${SANDBOX_PORT} (${error.code ?? error.message}). ` +
          "Set SANDBOX_PORT to a free port.",
      );
      process.exit(1);
    },
  );
  const url = `http://${HOST}:${SANDBOX_PORT}`;
  console.log(`SparkPay sandbox listening on ${url}`);
  return { setup, server, url };
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
