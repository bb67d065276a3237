import { KeyFormatError } from "./sparkpay/keys";
import {
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "./sparkpay/errors";

/** Every code the gateway itself answers with; SparkPay's own codes pass through untouched. */
export const GATEWAY_ERRORS = {
  INVALID_JSON: { status: 400, description: "The body is not valid JSON, or not a JSON object." },
  INVALID_REQUEST: { status: 400, description: "A field is missing or breaks its rule; the message names the field." },
  UNAUTHORIZED: { status: 401, description: "No Authorization: Bearer header, or the key is not one of GATEWAY_API_KEYS." },
  FORBIDDEN: { status: 403, description: "The caller key is scoped to other merchants than this merchant_no." },
  NOT_FOUND: { status: 404, description: "No such route." },
  METHOD_NOT_ALLOWED: { status: 405, description: "The route exists but not for this method; see the Allow header." },
  PAYLOAD_TOO_LARGE: { status: 413, description: "The body is over 8 KiB." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: "Content-Type is not application/json." },
  RATE_LIMITED: { status: 429, description: "Over the gateway's own limit for this caller key or merchant_no; see Retry-After." },
  UPSTREAM_RATE_LIMITED: { status: 429, description: "SparkPay answered HTTP 429 without its own code; Retry-After is SparkPay's when it sent one." },
  INTERNAL_ERROR: { status: 500, description: "A bug in the gateway; the request id finds it in the logs." },
  UPSTREAM_UNREACHABLE: { status: 502, description: "SparkPay could not be reached (DNS, connect, TLS or reset)." },
  UPSTREAM_SERVER_ERROR: { status: 502, description: "SparkPay answered HTTP 5xx." },
  UPSTREAM_INVALID_RESPONSE: { status: 502, description: "SparkPay's answer was not JSON, had the wrong shape, or was for another order." },
  UPSTREAM_SIGNATURE_INVALID: { status: 502, description: "SparkPay's answer had a missing or wrong signature, or a timestamp more than 300 s off." },
  GATEWAY_MISCONFIGURED: { status: 503, description: "A setting is missing or malformed; the message names it (never its value)." },
  UPSTREAM_TIMEOUT: { status: 504, description: "SparkPay did not answer within SPARKPAY_TIMEOUT_MS (on the last attempt)." },
} as const satisfies Record<string, { status: number; description: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    /** Headers the answer must carry, e.g. Allow on a 405 or WWW-Authenticate on a 401. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }
}

/** A setting that is missing or malformed. The message names the setting, never its value. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface ErrorOutcome {
  status: number;
  code: string | number;
  message: string;
  /** SparkPay's HTTP status, when SparkPay answered. */
  upstreamStatus?: number;
  /** Requests sent to SparkPay, when any were. */
  attempts?: number;
  headers?: Record<string, string>;
}

/** Maps anything thrown while serving a request to what the caller sees. Unknown errors never reveal their text. */
export function describeError(error: unknown): ErrorOutcome {
  const gateway = (code: GatewayErrorCode, message: string, extra: Partial<ErrorOutcome> = {}): ErrorOutcome => ({
    status: GATEWAY_ERRORS[code].status,
    code,
    message,
    ...extra,
  });
  if (error instanceof GatewayError) return gateway(error.code, error.message, { headers: error.headers });
  if (error instanceof KeyFormatError || error instanceof ConfigError) return gateway("GATEWAY_MISCONFIGURED", error.message);
  if (!(error instanceof SparkPayError)) return gateway("INTERNAL_ERROR", "The gateway failed unexpectedly; quote the request id when reporting it.");

  const { attempts } = error;
  const withAttempts = (message: string) => `${message.replace(/\.$/, "")} (${attempts} ${attempts === 1 ? "attempt" : "attempts"}).`;
  if (error instanceof SparkPayRateLimitError) {
    const headers: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(error.retryAfterSeconds) };
    if (error.code === undefined) return gateway("UPSTREAM_RATE_LIMITED", error.message, { headers, upstreamStatus: error.httpStatus, attempts });
    return { status: 429, code: error.code, message: error.sparkpayMessage ?? error.message, headers, upstreamStatus: error.httpStatus, attempts };
  }
  if (error instanceof SparkPayApiError) {
    return { status: error.httpStatus, code: error.code, message: error.sparkpayMessage, upstreamStatus: error.httpStatus, attempts };
  }
  if (error instanceof SparkPayServerError) return gateway("UPSTREAM_SERVER_ERROR", withAttempts(error.message), { upstreamStatus: error.httpStatus, attempts });
  if (error instanceof SparkPayTimeoutError) return gateway("UPSTREAM_TIMEOUT", withAttempts(error.message), { attempts });
  if (error instanceof SparkPayConnectionError) return gateway("UPSTREAM_UNREACHABLE", withAttempts("SparkPay could not be reached."), { attempts });
  if (error instanceof SparkPaySignatureError) return gateway("UPSTREAM_SIGNATURE_INVALID", error.message, { attempts });
  if (error instanceof SparkPayInvalidResponseError) return gateway("UPSTREAM_INVALID_RESPONSE", error.message, { attempts });
  return gateway("INTERNAL_ERROR", "The gateway failed unexpectedly; quote the request id when reporting it.");
}
