import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../env";
import type { LogLevel } from "../log";

/** Fields the request's single log line carries, filled in as the request goes. */
export interface LogFields {
  caller?: string;
  merchant_no?: string;
  upstream_status?: number;
  sparkpay_code?: string | number;
  attempts?: number;
  /** Time spent waiting on SparkPay, summed over attempts and the confirming query. */
  upstream_ms?: number;
  /** SparkPay's own request id, when its answer carried one. */
  sparkpay_request_id?: string;
  /** What settled a successful close: close, close-and-query or order-query (src/sparkpay/client.ts). */
  confirmed_by?: string;
  /** A creation answered from the gateway's record (a repeat of the same body). */
  replayed?: boolean;
  /** A close job's status after the request (PUT /v1/closes, a creation with close_at). */
  close_status?: string;
  error_code?: string | number;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Filled in by later middleware and handlers; written as one line when the request ends. */
    logFields: LogFields;
  }
}

/**
 * One JSON line per request, at a level set by the status (5xx error, 4xx warn, else info) and
 * kept when at or above LOG_LEVEL (the services' logger, so services() runs first). Only the fields listed here
 * and in LogFields are logged.
 */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    c.set("logFields", {});
    await next();
    const status = c.res.status;
    const level: LogLevel = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
    c.get("services").logger.write(level, {
      msg: "request",
      request_id: c.get("requestId"),
      caller_request_id: c.get("callerRequestId"),
      method: c.req.method,
      // The last matched route is the handler's pattern ("/*" when nothing matched).
      route: routePath(c, -1),
      status,
      duration_ms: Date.now() - started,
      ...c.get("logFields"),
    });
  };
}
