import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../types";

export interface AccessLogOptions {
  /** Where each JSON line goes; console.log reaches `wrangler tail` and Workers Logs. */
  write?: (line: string) => void;
}

/**
 * One JSON line per request. Only the fields listed here are logged: never headers, bodies,
 * keys or signatures.
 */
export function accessLog({ write = (line) => console.log(line) }: AccessLogOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    c.set("logFields", {});
    await next();
    write(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : c.res.status >= 400 ? "warn" : "info",
        msg: "request",
        request_id: c.var.requestId,
        method: c.req.method,
        // The last matched route is the handler's pattern ("/*" when nothing matched).
        route: routePath(c, -1),
        status: c.res.status,
        duration_ms: Date.now() - started,
        ...c.var.logFields,
      }),
    );
  };
}
