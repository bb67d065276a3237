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
  CLOSE_CONFLICT: 409,
  ORDER_NOT_CLOSABLE: 409,
  REQUEST_NO_REUSED: 409,
  CREATION_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UPSTREAM_RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_SERVER_ERROR: 502,
  UPSTREAM_INVALID_RESPONSE: 502,
  UPSTREAM_SIGNATURE_INVALID: 502,
  ORDER_CREATED_ANSWER_LOST: 502,
  ORDER_NOT_CREATED: 502,
  ORDER_CREATION_UNKNOWN: 502,
  GATEWAY_MISCONFIGURED: 503,
  CLOSE_JOBS_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
} as const satisfies Record<string, number>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export interface GatewayErrorOptions {
  /** Headers the answer must carry, e.g. Allow on a 405 or WWW-Authenticate on a 401. */
  headers?: Record<string, string>;
  /** The one input at fault, when there is one: a body or path field (`request_no`) or a header (`Authorization`). */
  param?: string;
}

/** A refusal the gateway makes itself, with its code, message, the input at fault and any headers the answer needs. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly headers: Record<string, string>;
  readonly param: string | undefined;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message);
    this.headers = options.headers ?? {};
    this.param = options.param;
  }
  get status(): number {
    return GATEWAY_ERRORS[this.code];
  }
}

/** The 405 for a method a route does not serve: the message and the Allow header name the methods it does. */
export function methodNotAllowed(method: string, allowed: readonly [string, ...string[]]): GatewayError {
  const named = allowed.length === 1 ? allowed[0] : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
  return new GatewayError("METHOD_NOT_ALLOWED", `${method} is not allowed here; use ${named}.`, {
    headers: { Allow: allowed.join(", ") },
  });
}

export { ConfigError } from "./sparkpay/errors";
