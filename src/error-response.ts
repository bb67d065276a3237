import type { Context } from "hono";
import { apiDocsEnabled } from "./config";
import { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from "./errors";
import { writeLog } from "./log";
import type { ErrorEnvelope } from "./schemas";
import { CREDENTIALS_REFUSED_STATUSES } from "./sparkpay/constants";
import {
  ConfigError,
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "./sparkpay/errors";

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
}

/** For bugs: the error's own text could hold anything, so callers get only this and the request id. */
const INTERNAL_ERROR_MESSAGE = "The gateway failed unexpectedly; quote the request id when reporting it.";

function gatewayOutcome(code: GatewayErrorCode, message: string, extra: Partial<ErrorOutcome> = {}): ErrorOutcome {
  return { status: GATEWAY_ERRORS[code], code, message, ...extra };
}

/** Maps anything thrown while serving a request to what the caller sees. Unknown errors never reveal their text. */
export function describeError(error: unknown): ErrorOutcome {
  if (error instanceof GatewayError) {
    const extra = { headers: error.headers, ...(error.param === undefined ? {} : { param: error.param }) };
    return gatewayOutcome(error.code, error.message, extra);
  }
  if (error instanceof ConfigError) return gatewayOutcome("GATEWAY_MISCONFIGURED", error.message);
  if (!(error instanceof SparkPayError)) return gatewayOutcome("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);

  const { attempts } = error;
  const withAttempts = (message: string) =>
    `${message.replace(/\.$/, "")} (${attempts} ${attempts === 1 ? "attempt" : "attempts"}).`;
  if (error instanceof SparkPayRateLimitError) {
    const headers: Record<string, string> =
      error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(error.retryAfterSeconds) };
    const upstream = { headers, upstreamStatus: error.httpStatus, attempts };
    if (error.code === undefined) return gatewayOutcome("UPSTREAM_RATE_LIMITED", error.message, upstream);
    return { status: 429, code: error.code, message: error.sparkpayMessage ?? error.message, ...upstream };
  }
  if (error instanceof SparkPayApiError) {
    const { httpStatus, code, sparkpayMessage } = error;
    // SparkPay refusing the gateway's own credentials is a gateway-side failure, never a 401/403
    // that a caller would read as "my key is wrong".
    const status = CREDENTIALS_REFUSED_STATUSES.has(httpStatus) ? 502 : httpStatus;
    return { status, code, message: sparkpayMessage, upstreamStatus: httpStatus, attempts };
  }
  if (error instanceof SparkPayServerError) {
    return gatewayOutcome("UPSTREAM_SERVER_ERROR", withAttempts(error.message), {
      upstreamStatus: error.httpStatus,
      attempts,
    });
  }
  if (error instanceof SparkPayTimeoutError) {
    return gatewayOutcome("UPSTREAM_TIMEOUT", withAttempts(error.message), { attempts });
  }
  if (error instanceof SparkPayConnectionError) {
    return gatewayOutcome("UPSTREAM_UNREACHABLE", withAttempts("SparkPay could not be reached."), { attempts });
  }
  if (error instanceof SparkPaySignatureError) {
    return gatewayOutcome("UPSTREAM_SIGNATURE_INVALID", error.message, { attempts });
  }
  if (error instanceof SparkPayInvalidResponseError) {
    return gatewayOutcome("UPSTREAM_INVALID_RESPONSE", error.message, { attempts });
  }
  return gatewayOutcome("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);
}

/** Where the error-code reference lives: the gateway's own /docs/errors, anchored at the code. */
export const ERROR_DOCS_PATH = "/docs/errors";
/** The anchor of SparkPay's codes (numbers, or text SparkPay sent), which pass through unchanged. */
export const SPARKPAY_CODES_ANCHOR = "sparkpay-codes";

/** The doc_url of an error code; none while API_DOCS is off, so it never points at a 404. */
function docUrl(c: Context, code: string | number): string | undefined {
  if (!apiDocsEnabled(c.env)) return undefined;
  const anchor = typeof code === "string" && Object.hasOwn(GATEWAY_ERRORS, code) ? code : SPARKPAY_CODES_ANCHOR;
  return `${new URL(c.req.url).origin}${ERROR_DOCS_PATH}#${anchor}`;
}

/** The one error envelope, for onError and notFound; the request's log line gets the code too. */
export function errorResponse(c: Context, error: unknown): Response {
  const { status, code, message, upstreamStatus, attempts, headers, param } = describeError(error);
  // logFields is missing only if the error came before the access log started.
  if (c.var.logFields) Object.assign(c.var.logFields, { error_code: code, upstream_status: upstreamStatus, attempts });
  if (code === "INTERNAL_ERROR") {
    // The error's name only: its message could hold anything, and stacks stay out of responses.
    writeLog("error", "error", {
      msg: "unhandled error",
      request_id: c.var.requestId,
      error: error instanceof Error ? error.name : typeof error,
    });
  }
  const body: ErrorEnvelope = { code, message, request_id: c.var.requestId };
  if (param !== undefined) body.param = param;
  const doc = docUrl(c, code);
  if (doc !== undefined) body.doc_url = doc;
  return c.json(body, status as 400, headers);
}
