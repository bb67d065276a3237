import { Hono } from "hono";
import type { Context } from "hono";
import { requestId } from "hono/request-id";
import { GatewayError, describeError } from "./errors";
import { accessLog } from "./middleware/access-log";
import { orders } from "./routes/orders";
import type { AppEnv } from "./types";

/** Inbound ids are reused only when short and plain, so they are safe in logs and headers. */
const MAX_REQUEST_ID_LENGTH = 128;

function errorResponse(c: Context<AppEnv>, error: unknown): Response {
  const { status, code, message, upstreamStatus, headers } = describeError(error);
  if (c.var.logFields) {
    c.var.logFields.error_code = code;
    if (upstreamStatus !== undefined) c.var.logFields.upstream_status = upstreamStatus;
  }
  if (code === "INTERNAL_ERROR") {
    // The error's name only: its message could hold anything, and stacks stay out of responses.
    console.error(JSON.stringify({ level: "error", msg: "unhandled error", request_id: c.var.requestId, error: error instanceof Error ? error.name : typeof error }));
  }
  return c.json({ code, message, request_id: c.var.requestId }, status as 400, headers);
}

const app = new Hono<AppEnv>()
  .use(requestId({ limitLength: MAX_REQUEST_ID_LENGTH }))
  .use(accessLog())
  .route("/", orders);

app.notFound((c) => errorResponse(c, new GatewayError("NOT_FOUND", "No such route. The gateway serves POST /v4/pay/orders/close.")));
app.onError((error, c) => errorResponse(c, error));

export type AppType = typeof app;
export default app;
