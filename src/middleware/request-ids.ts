import type { MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import { requestId } from "hono/request-id";

declare module "hono" {
  interface ContextVariableMap {
    /** The caller's own X-Request-Id, when short and plain; logged beside the gateway's id. */
    callerRequestId: string | undefined;
  }
}

export const REQUEST_ID_HEADER = "X-Request-Id";
/** Inbound ids are kept only when short and plain, so they are safe in logs. */
const CALLER_REQUEST_ID = /^[\w\-=]{1,128}$/;

/**
 * Every request gets the gateway's own unique id (Hono's requestId, never reading the inbound
 * header): it is answered in X-Request-Id and the error envelope, and sent to SparkPay, so two
 * callers can never make SparkPay see one id for different requests. The caller's inbound id is
 * kept for the log line only.
 */
export function requestIds(): MiddlewareHandler {
  return every(requestId({ headerName: "" }), async (c, next) => {
    const inbound = c.req.header(REQUEST_ID_HEADER);
    c.set("callerRequestId", inbound && CALLER_REQUEST_ID.test(inbound) ? inbound : undefined);
    c.header(REQUEST_ID_HEADER, c.get("requestId"));
    await next();
  });
}
