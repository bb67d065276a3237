import { randomBytes } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { createSandbox, SANDBOX_APP_ID } from "./sandbox/sparkpay-sandbox.mjs";
import { COMPATIBILITY_DATE, SANDBOX_OUTBOUND_WORKER, sandboxOutboundWorker } from "./scripts/local-gateway.ts";
import { keepUnlessGatewayLogLine, quietDroppedConnectionLogs } from "./test/support/quiet-workerd.ts";
import { generateTestKeys } from "./test/support/test-keys.ts";
import { createWebhookReceiver, WEBHOOK_HOST, WEBHOOK_URL } from "./test/support/webhook-receiver.ts";

// Fresh keys for every run: nothing secret is committed, and a fresh clone needs no .dev.vars.
const keys = generateTestKeys();

const ROTATION_APP_ID = "sandbox_app_rotation";
/** Its own application for the test in which SparkPay rolls a merchant-key rotation back. */
const ROLLBACK_APP_ID = "sandbox_app_rollback";

// SparkPay's side in the tests: the node:crypto sandbox, never the gateway's own code.
const sandbox = createSandbox({
  merchantPublicKey: keys.merchant.publicKeyPem,
  platformPrivateKey: keys.platform.privateKeyPem,
  rotatedPlatformPrivateKey: keys.rotatedPlatform.privateKeyPem,
  // An application of its own for the merchant-key rotation test, which swaps its uploaded key.
  otherApps: { [ROTATION_APP_ID]: keys.merchant.publicKeyPem, [ROLLBACK_APP_ID]: keys.merchant.publicKeyPem },
  slowMs: 300,
});

// Where the durable closes' webhooks land (through the same router as SparkPay's requests).
const webhooks = createWebhookReceiver();
/** Fresh per run, as the keys are. */
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString("hex")}`;

quietDroppedConnectionLogs();

export default defineConfig({
  test: {
    onConsoleLog: keepUnlessGatewayLogLine,
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              compatibilityDate: COMPATIBILITY_DATE,
              bindings: {
                SPARKPAY_APP_ID: SANDBOX_APP_ID,
                SPARKPAY_PRIVATE_KEY: keys.merchant.privateKeyPem,
                // Two platform keys, as during a key switch.
                SPARKPAY_PLATFORM_PUBLIC_KEY: keys.platform.publicKeyPem + keys.rotatedPlatform.publicKeyPem,
                GATEWAY_API_KEYS: keys.callerKeys.join(","),
                TEST_KEYS: keys.variants,
                CLOSE_WEBHOOK_URL: WEBHOOK_URL,
                CLOSE_WEBHOOK_SECRET: WEBHOOK_SECRET,
                // Applied to CLOSE_JOBS_DB by test/worker/apply-migrations.ts, as `wrangler d1 migrations apply` would.
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
              // The suites send thousands of requests with one caller key, so the real limiters get
              // room to spare; the rate-limit tests use the tight one, as a stand-in binding.
              ratelimits: {
                CALLER_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
                MERCHANT_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
                READ_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
                NOTIFY_RATE_LIMITER: { simple: { limit: 1_000_000, period: 60 } },
                TEST_TIGHT_LIMITER: { simple: { limit: 3, period: 60 } },
                // The reads-budget test: 400 polls fit, the 401st is refused.
                TEST_READ_LIMITER: { simple: { limit: 400, period: 60 } },
              },
              // CLOSE_JOBS_DB as wrangler.toml declares it; one more for the migration test, which migrates it
              // step by step itself; and one that holds only the repair tests' jobs, so that their scans find
              // nothing another test left overdue.
              d1Databases: {
                CLOSE_JOBS_DB: "sparkpay-close-jobs",
                TEST_MIGRATION_DB: "test-migration-db",
                TEST_REPAIR_DB: "test-repair-db",
              },
              // Every fetch the Worker (and the tests) make goes through the sandbox router.
              outboundService: SANDBOX_OUTBOUND_WORKER,
              workers: [
                sandboxOutboundWorker((request) =>
                  new URL(request.url).hostname === WEBHOOK_HOST ? webhooks.handle(request) : sandbox.handle(request),
                ),
              ],
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/apply-migrations.ts"],
        },
      },
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
