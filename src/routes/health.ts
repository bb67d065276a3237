import { Hono } from "hono/tiny";
import { storeAnswers } from "../closes/store";
import type { AppEnv } from "../env";
import type { HealthReport } from "../schemas";
import { type Check, problem } from "../settings/check";
import type { Settings } from "../settings/report";
import { notifyUrlFor } from "../settings/urls";
import { GATEWAY_VERSION } from "../version";

const MIGRATIONS_MISSING =
  "CLOSE_JOBS_DB does not answer for the close-job tables: apply the migrations " +
  "(`wrangler d1 migrations apply <database_name> --remote [--env <env>]`).";

/** What SparkPay's notifications need: both key settings in use, and their bindings. */
const NOTIFICATIONS_NEED = ["SPARKPAY_PLATFORM_PUBLIC_KEY", "NOTIFY_RATE_LIMITER", "NOTIFY_WORKFLOW", "CLOSE_JOBS_DB"];

function notificationsReport(settings: Settings, checks: Record<string, Check>): HealthReport["notifications"] {
  return {
    receivable:
      settings.platformKeys !== undefined && NOTIFICATIONS_NEED.every((name) => checks[name]?.status === "ok"),
    oaep_mgf1: settings.SPARKPAY_NOTIFY_OAEP_MGF1,
    notify_url: notifyUrlFor(settings.GATEWAY_PUBLIC_URL) ?? null,
  };
}

/**
 * GET /healthz, without authentication: whether every setting is usable (present, not a
 * placeholder, keys parse and are not swapped, RSA ≥ 2048 bits, limiters, D1 and the Workflow bound,
 * webhook URL and secret valid when set, D1's migrations applied), and which merchant key SparkPay
 * last accepted. Problems are named, values never shown. 200 ready (every route works), 503 not.
 */
export const health = new Hono<AppEnv>().get("/healthz", async (c) => {
  const services = c.get("services");
  const { report } = services;
  // Asked on every call (not cached with the settings): the migrations can be applied while the isolate lives.
  const checks = { ...report.checks };
  if (checks.CLOSE_JOBS_DB?.status === "ok" && !(await storeAnswers(services.closeJobsDb())))
    checks.CLOSE_JOBS_DB = problem(MIGRATIONS_MISSING);
  const ready = report.ready && checks.CLOSE_JOBS_DB?.status === "ok";
  const body: HealthReport = { status: ready ? "ready" : "not_ready", version: GATEWAY_VERSION, checks };
  try {
    const { privateKeys } = services.settings();
    // The index only (1 = the first key in SPARKPAY_PRIVATE_KEY), never the key.
    body.merchant_keys = { configured: privateKeys.length, last_accepted: services.sparkpay().acceptedKey ?? null };
    body.notifications = notificationsReport(services.settings(), checks);
  } catch {
    // Settings that stop closes: the checks above name them.
  }
  return c.json(body, ready ? 200 : 503);
});
