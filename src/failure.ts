import { CloseJobsUnavailableError, D1_RETRY_AFTER_S } from "./closes/d1";
import { GatewayError } from "./errors";
import {
  ConfigError,
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayCreationLostError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayOrderNotClosableError,
  SparkPayRateLimitError,
  SparkPayServerError,
  SparkPaySignatureError,
  SparkPayTimeoutError,
} from "./sparkpay/errors";
import type { OrderState } from "./sparkpay/schemas";

/**
 * What went wrong, in the gateway's words, for anyone who reports it: the HTTP answer (error-response.ts) and the
 * close jobs' history and webhooks (closes/outcomes.ts). Nothing here is HTTP. Unknown errors never reveal their text.
 */
export interface Failure {
  /** SparkPay's own code, unchanged, when SparkPay refused; else a gateway code (src/errors.ts). */
  code: string | number;
  message: string;
  /**
   * `gateway`: the gateway's own code. `sparkpay-refusal`: SparkPay refused with its own code. `sparkpay-limit`:
   * SparkPay's call limit, with its own code.
   */
  source: "gateway" | "sparkpay-refusal" | "sparkpay-limit";
  /** SparkPay's HTTP status, when SparkPay answered. */
  upstreamStatus?: number;
  /** Requests sent to SparkPay, when any were. */
  attempts?: number;
  /** SparkPay's Retry-After, when it sent one. */
  retryAfterSeconds?: number;
  /** The one input at fault, when there is one. */
  param?: string;
  /** The order as a verified Payment Order Query showed it (its data verbatim), whenever the gateway holds one. */
  order?: OrderState;
  /** What SparkPay said when it refused a close that then turned out not closable. */
  refusal?: { http_status: number; code: string | number; message: string };
}

/** For bugs: the error's own text could hold anything, so callers get only this and the request id. */
export const INTERNAL_ERROR_MESSAGE = "The gateway failed unexpectedly; quote the request id when reporting it.";

const gateway = (code: string, message: string, extra: Partial<Failure> = {}): Failure => ({
  code,
  message,
  source: "gateway",
  ...extra,
});

/** What the failure says, with the order's verified state whenever the error carries one (it is never dropped). */
export function describeFailure(error: unknown): Failure {
  const failure = describeError(error);
  return error instanceof SparkPayError && error.order && !failure.order ? { ...failure, order: error.order } : failure;
}

/** The order is not closed, and a verified query says what it is: the caller acts on its state, not on a retry. */
function notClosable(error: SparkPayOrderNotClosableError): Failure {
  const { order, refusal, attempts } = error;
  const refused = refusal ? ` SparkPay refused the close (code ${refusal.code}).` : "";
  const message =
    `The order is ${order.pay_status.slice(0, 64)}, not closed.${refused} Do not close it again: act on its state in ` +
    "`order` (paid: fulfil it, or refund it).";
  return gateway("ORDER_NOT_CLOSABLE", message, {
    attempts,
    order,
    ...(refusal
      ? { refusal: { http_status: refusal.httpStatus, code: refusal.code, message: refusal.sparkpayMessage } }
      : {}),
  });
}

/** What a creation whose answer was lost turned out to be, by what the verified query showed. */
function creationLost(error: SparkPayCreationLostError): Failure {
  const code = {
    created: "ORDER_CREATED_ANSWER_LOST",
    not_created: "ORDER_NOT_CREATED",
    unknown: "ORDER_CREATION_UNKNOWN",
  }[error.outcome];
  const next = {
    created: " It was created; its cashier_url could not be read. Do not create it again.",
    not_created: " It was not created: send the same request again.",
    unknown: " Send the same request again: the gateway asks SparkPay before it creates anything.",
  }[error.outcome];
  return gateway(code, `${error.message}${next}`, {
    attempts: error.attempts,
    ...(error.order ? { order: error.order } : {}),
  });
}

function describeError(error: unknown): Failure {
  if (error instanceof GatewayError) {
    return gateway(error.code, error.message, error.param === undefined ? {} : { param: error.param });
  }
  if (error instanceof ConfigError) return gateway("GATEWAY_MISCONFIGURED", error.message);
  if (error instanceof CloseJobsUnavailableError) {
    return gateway("CLOSE_JOBS_UNAVAILABLE", error.message, { retryAfterSeconds: D1_RETRY_AFTER_S });
  }
  if (!(error instanceof SparkPayError)) return gateway("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);

  const { attempts } = error;
  if (error instanceof SparkPayOrderNotClosableError) return notClosable(error);
  if (error instanceof SparkPayCreationLostError) return creationLost(error);
  const withAttempts = (message: string) =>
    `${message.replace(/\.$/, "")} (${attempts} ${attempts === 1 ? "attempt" : "attempts"}).`;
  if (error instanceof SparkPayRateLimitError) {
    const upstream = {
      upstreamStatus: error.httpStatus,
      attempts,
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
    if (error.code === undefined) return gateway("UPSTREAM_RATE_LIMITED", error.message, upstream);
    return { code: error.code, message: error.sparkpayMessage ?? error.message, source: "sparkpay-limit", ...upstream };
  }
  if (error instanceof SparkPayApiError) {
    const { httpStatus, code, sparkpayMessage } = error;
    return { code, message: sparkpayMessage, source: "sparkpay-refusal", upstreamStatus: httpStatus, attempts };
  }
  if (error instanceof SparkPayServerError) {
    return gateway("UPSTREAM_SERVER_ERROR", withAttempts(error.message), {
      upstreamStatus: error.httpStatus,
      attempts,
    });
  }
  if (error instanceof SparkPayTimeoutError)
    return gateway("UPSTREAM_TIMEOUT", withAttempts(error.message), { attempts });
  if (error instanceof SparkPayConnectionError) {
    return gateway("UPSTREAM_UNREACHABLE", withAttempts("SparkPay could not be reached."), { attempts });
  }
  if (error instanceof SparkPaySignatureError)
    return gateway("UPSTREAM_SIGNATURE_INVALID", error.message, { attempts });
  if (error instanceof SparkPayInvalidResponseError) {
    return gateway("UPSTREAM_INVALID_RESPONSE", error.message, { attempts });
  }
  return gateway("INTERNAL_ERROR", INTERNAL_ERROR_MESSAGE);
}
