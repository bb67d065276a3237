import { KeyFormatError } from "./sparkpay/keys";
import {
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayInvalidResponseError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "./sparkpay/errors";

/** Every code the gateway itself answers with; SparkPay's own codes pass through untouched. */
export const GATEWAY_ERRORS = {
  INVALID_JSON: { status: 400, description: "The body is not valid JSON, or not a JSON object." },
  INVALID_REQUEST: { status: 400, description: "A field is missing or breaks its rule; the message names the field." },
  UNAUTHORIZED: { status: 401, description: "No Authorization: Bearer header, or the key is not one of GATEWAY_API_KEYS." },
  NOT_FOUND: { status: 404, description: "No such route." },
  METHOD_NOT_ALLOWED: { status: 405, description: "The route exists but not for this method; see the Allow header." },
  PAYLOAD_TOO_LARGE: { status: 413, description: "The body is over 8 KiB." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: "Content-Type is not application/json." },
  INTERNAL_ERROR: { status: 500, description: "A bug in the gateway; the request id finds it in the logs." },
  UPSTREAM_UNREACHABLE: { status: 502, description: "SparkPay could not be reached (DNS, connect, TLS or reset)." },
  UPSTREAM_SERVER_ERROR: { status: 502, description: "SparkPay answered HTTP 5xx." },
  UPSTREAM_INVALID_RESPONSE: { status: 502, description: "SparkPay's answer was not JSON, had the wrong shape, or was for another order." },
  UPSTREAM_SIGNATURE_INVALID: { status: 502, description: "SparkPay's answer had a missing or wrong signature, or a timestamp more than 300 s off." },
  GATEWAY_MISCONFIGURED: { status: 503, description: "A setting is missing or malformed; the message names it (never its value)." },
  UPSTREAM_TIMEOUT: { status: 504, description: "SparkPay did not answer within SPARKPAY_TIMEOUT_MS." },
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
  headers?: Record<string, string>;
}

/** Maps anything thrown while serving a request to what the caller sees. Unknown errors never reveal their text. */
export function describeError(error: unknown): ErrorOutcome {
  const gateway = (code: GatewayErrorCode, message: string, upstreamStatus?: number): ErrorOutcome => ({
    status: GATEWAY_ERRORS[code].status,
    code,
    message,
    upstreamStatus,
  });
  if (error instanceof GatewayError) return { ...gateway(error.code, error.message), headers: error.headers };
  if (error instanceof SparkPayApiError) {
    return { status: error.httpStatus, code: error.code, message: error.sparkpayMessage, upstreamStatus: error.httpStatus };
  }
  if (error instanceof SparkPayServerError) return gateway("UPSTREAM_SERVER_ERROR", error.message, error.httpStatus);
  if (error instanceof SparkPayTimeoutError) return gateway("UPSTREAM_TIMEOUT", error.message);
  if (error instanceof SparkPayConnectionError) return gateway("UPSTREAM_UNREACHABLE", "SparkPay could not be reached.");
  if (error instanceof SparkPaySignatureError) return gateway("UPSTREAM_SIGNATURE_INVALID", error.message);
  if (error instanceof SparkPayInvalidResponseError) return gateway("UPSTREAM_INVALID_RESPONSE", error.message);
  if (error instanceof KeyFormatError || error instanceof ConfigError) return gateway("GATEWAY_MISCONFIGURED", error.message);
  return gateway("INTERNAL_ERROR", "The gateway failed unexpectedly; quote the request id when reporting it.");
}
