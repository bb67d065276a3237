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
import { KeyFormatError } from "./sparkpay/keys";

/**
 * Every code the gateway itself answers with, and its HTTP status; SparkPay's own codes pass
 * through untouched. What each means is in error-descriptions.ts (docs and OpenAPI only, so the
 * prose stays out of the Worker bundle).
 */
export const GATEWAY_ERRORS = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UPSTREAM_RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_SERVER_ERROR: 502,
  UPSTREAM_INVALID_RESPONSE: 502,
  UPSTREAM_SIGNATURE_INVALID: 502,
  GATEWAY_MISCONFIGURED: 503,
  UPSTREAM_TIMEOUT: 504,
} as const satisfies Record<string, number>;

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
    return GATEWAY_ERRORS[this.code];
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

/** For bugs: the error's own text could hold anything, so callers get only this and the request id. */
const INTERNAL_ERROR_MESSAGE = "The gateway failed unexpectedly; quote the request id when reporting it.";

/** Maps anything thrown while serving a request to what the caller sees. Unknown errors never reveal their text. */
export function describeError(error: unknown): ErrorOutcome {
  const gateway = (code: GatewayErrorCode, message: string, extra: Partial<ErrorOutcome> = {}): ErrorOutcome => ({
    status: GATEWAY_ERRORS[code],
    code,
    message,
    ...extra,
  });
  if (error instanceof GatewayError) return gateway(error.code, error.message, { headers: error.headers });
  if (error instanceof KeyFormatError || error instanceof ConfigError)
    return gateway("GATEWAY_MISCONFIGURED", error.message);
  if (!(error instanceof SparkPayError)) return gateway("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);

  const { attempts } = error;
  const withAttempts = (message: string) =>
    `${message.replace(/\.$/, "")} (${attempts} ${attempts === 1 ? "attempt" : "attempts"}).`;
  if (error instanceof SparkPayRateLimitError) {
    const headers: Record<string, string> =
      error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(error.retryAfterSeconds) };
    if (error.code === undefined)
      return gateway("UPSTREAM_RATE_LIMITED", error.message, { headers, upstreamStatus: error.httpStatus, attempts });
    return {
      status: 429,
      code: error.code,
      message: error.sparkpayMessage ?? error.message,
      headers,
      upstreamStatus: error.httpStatus,
      attempts,
    };
  }
  if (error instanceof SparkPayApiError) {
    return {
      status: error.httpStatus,
      code: error.code,
      message: error.sparkpayMessage,
      upstreamStatus: error.httpStatus,
      attempts,
    };
  }
  if (error instanceof SparkPayServerError)
    return gateway("UPSTREAM_SERVER_ERROR", withAttempts(error.message), {
      upstreamStatus: error.httpStatus,
      attempts,
    });
  if (error instanceof SparkPayTimeoutError)
    return gateway("UPSTREAM_TIMEOUT", withAttempts(error.message), { attempts });
  if (error instanceof SparkPayConnectionError)
    return gateway("UPSTREAM_UNREACHABLE", withAttempts("SparkPay could not be reached."), { attempts });
  if (error instanceof SparkPaySignatureError)
    return gateway("UPSTREAM_SIGNATURE_INVALID", error.message, { attempts });
  if (error instanceof SparkPayInvalidResponseError)
    return gateway("UPSTREAM_INVALID_RESPONSE", error.message, { attempts });
  return gateway("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);
}
