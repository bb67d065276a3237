import type { Context } from "hono";
import { CloseJobsUnavailableError } from "./closes/d1";
import type { AppEnv } from "./env";
import { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from "./errors";
import { describeFailure, type Failure } from "./failure";
import { Logger } from "./log";
import type { ErrorEnvelope } from "./schemas";
import { CREDENTIALS_REFUSED_STATUSES } from "./sparkpay/constants";

export interface ErrorOutcome {
  status: number;
  code: string | number;
  message: string;
  /** SparkPay's HTTP status, when SparkPay answered. */
  upstreamStatus?: number;
  /** Requests sent to SparkPay, when any were. */
  attempts?: number;
  headers?: Record<string, string>;
  /** The one input at fault, when there is one. */
  param?: string;
  order?: Failure["order"];
  refusal?: Failure["refusal"];
}

/** Maps anything thrown while serving a request to what the caller sees (the failure, plus its HTTP status). */
export function describeError(error: unknown): ErrorOutcome {
  const { source, code, retryAfterSeconds, ...failure } = describeFailure(error);
  const headers: Record<string, string> = error instanceof GatewayError ? { ...error.headers } : {};
  if (retryAfterSeconds !== undefined) headers["Retry-After"] = String(retryAfterSeconds);
  let status: number;
  if (source === "sparkpay-limit") status = 429;
  else if (source === "sparkpay-refusal") {
    // SparkPay refusing the gateway's own credentials is a gateway-side failure, never a 401/403 that a caller
    // would read as "my key is wrong".
    const upstream = failure.upstreamStatus ?? 502;
    status = CREDENTIALS_REFUSED_STATUSES.has(upstream) ? 502 : upstream;
  } else status = GATEWAY_ERRORS[code as GatewayErrorCode];
  return { status, code, ...failure, headers };
}

/** Where the error-code reference lives: the gateway's own /docs/errors, anchored at the code. */
export const ERROR_DOCS_PATH = "/docs/errors";
/** The anchor of SparkPay's codes (numbers, or text SparkPay sent), which pass through unchanged. */
export const SPARKPAY_CODES_ANCHOR = "sparkpay-codes";

/** The doc_url of an error code; none while API_DOCS is off, so it never points at a 404. */
function docUrl(c: Context<AppEnv>, code: string | number): string | undefined {
  if (!c.get("services")?.docsEnabled) return undefined;
  const anchor = typeof code === "string" && Object.hasOwn(GATEWAY_ERRORS, code) ? code : SPARKPAY_CODES_ANCHOR;
  return `${new URL(c.req.url).origin}${ERROR_DOCS_PATH}#${anchor}`;
}

/** The one error envelope, for onError and notFound; the request's log line gets the code too. */
export function errorResponse(c: Context<AppEnv>, error: unknown): Response {
  const { status, code, message, upstreamStatus, attempts, headers, param, order, refusal } = describeError(error);
  // logFields is missing only if the error came before the access log started.
  if (c.get("logFields"))
    Object.assign(c.get("logFields"), { error_code: code, upstream_status: upstreamStatus, attempts });
  if (error instanceof CloseJobsUnavailableError) {
    // D1's own words go to the log only: they may name tables and columns.
    c.get("services")?.logger.warn({ msg: "close jobs unavailable", request_id: c.get("requestId"), d1: error.detail });
  }
  if (code === "INTERNAL_ERROR") {
    // The error's name only: its message could hold anything, and stacks stay out of responses.
    (c.get("services")?.logger ?? new Logger()).error({
      msg: "unhandled error",
      request_id: c.get("requestId"),
      error: error instanceof Error ? error.name : typeof error,
    });
  }
  const body: ErrorEnvelope = { code, message, request_id: c.get("requestId") };
  if (param !== undefined) body.param = param;
  if (order !== undefined) body.order = order;
  if (refusal !== undefined) body.refusal = refusal;
  const doc = docUrl(c, code);
  if (doc !== undefined) body.doc_url = doc;
  return c.json(body, status as 400, headers);
}
