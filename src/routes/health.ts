import { Hono } from "hono/tiny";
import { loadConfig } from "../config";
import type { AppEnv } from "../env";
import type { HealthReport } from "../schemas";
import { GATEWAY_VERSION } from "../version";

/**
 * GET /healthz, without authentication: whether every setting is usable (present, keys parse,
 * RSA ≥ 2048 bits, limiters bound). Problems are named, values never shown. 200 ready, 503 not.
 */
export const health = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { report } = await loadConfig(c.env);
  const body: HealthReport = {
    status: report.ready ? "ready" : "not_ready",
    version: GATEWAY_VERSION,
    checks: report.checks,
  };
  return c.json(body, report.ready ? 200 : 503);
});
