import { Hono } from "hono/tiny";
import { loadConfig } from "../config";
import type { AppEnv } from "../env";
import type { HealthReport } from "../schemas";
import { clientFor } from "../sparkpay-client";
import { GATEWAY_VERSION } from "../version";

/**
 * GET /healthz, without authentication: whether every setting is usable (present, not a
 * placeholder, keys parse and are not swapped, RSA ≥ 2048 bits, limiters, D1 and the Workflow bound,
 * webhook URL and secret valid when set), and which merchant key SparkPay last accepted. Problems are
 * named, values never shown. 200 ready (every route works), 503 not.
 */
export const health = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { report, settings } = await loadConfig(c.env);
  const body: HealthReport = {
    status: report.ready ? "ready" : "not_ready",
    version: GATEWAY_VERSION,
    checks: report.checks,
  };
  if (settings) {
    // The index only (1 = the first key in SPARKPAY_PRIVATE_KEY), never the key.
    body.merchant_keys = {
      configured: settings.privateKeys.length,
      last_accepted: clientFor(settings).acceptedKey ?? null,
    };
  }
  return c.json(body, report.ready ? 200 : 503);
});
