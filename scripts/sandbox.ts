/**
 * `npm run sandbox`: the SparkPay sandbox alone on 127.0.0.1:$SANDBOX_PORT (default 8788), with the
 * development keys in .dev.vars, for `npm run dev` (wrangler dev) against it. Ctrl-C stops it.
 */
import { isMain, runCli } from "./lib/cli";
import { onStopSignals, startLocalSandbox } from "./lib/local-sandbox";

async function main(): Promise<void> {
  const { server, url } = await startLocalSandbox("npm run sandbox");
  console.log(`
.dev.vars points the gateway here (SPARKPAY_BASE_URL=${url}); run the gateway in another terminal:

  npm run dev

Press Ctrl-C to stop the sandbox.`);
  onStopSignals(() => server.close(() => process.exit(0)));
}

if (isMain(import.meta.url)) runCli("npm run sandbox", "Usage: [SANDBOX_PORT=N] npm run sandbox", main);
