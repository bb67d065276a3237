import { Hono } from "hono/tiny";
import { storeAnswers } from "../closes/store";
import { loadConfig, requireCloseJobsDb } from "../config";
import type { AppEnv } from "../env";
import type { HealthReport } from "../schemas";
import { clientFor } from "../sparkpay-client";
import { GATEWAY_VERSION } from "../version";

const MIGRATIONS_MISSING =
  "CLOSE_JOBS_DB does not answer for the close-job tables: apply the migrations " +
  "(`wrangler d1 migrations apply <database_name> --remote [--env <env>]`).";

/**
 * GET /healthz, without authentication: whether every setting is usable (present, not a
 * placeholder, keys parse and are not swapped, RSA ≥ 2048 bits, limiters, D1 and the Workflow bound,
 * webhook URL and secret valid when set, D1's migrations applied), and which merchant key SparkPay
 * last accepted. Problems are named, values never shown. 200 ready (every route works), 503 not.
 */
export const health = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { report, settings } = await loadConfig(c.env);
  // Asked on every call (not cached with the settings): the migrations can be applied while the isolate lives.
  const checks = { ...report.checks };
  if (checks.CLOSE_JOBS_DB === "ok" && !(await storeAnswers(requireCloseJobsDb(c.env))))
    checks.CLOSE_JOBS_DB = MIGRATIONS_MISSING;
  const ready = report.ready && checks.CLOSE_JOBS_DB === "ok";
  const body: HealthReport = {
    status: ready ? "ready" : "not_ready",
    version: GATEWAY_VERSION,
    checks,
  };
  if (settings) {
    // The index only (1 = the first key in SPARKPAY_PRIVATE_KEY), never the key.
    body.merchant_keys = {
      configured: settings.privateKeys.length,
      last_accepted: clientFor(settings).acceptedKey ?? null,
    };
  }
  return c.json(body, ready ? 200 : 503);
});
