import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { AttemptReport, RequestContext } from "../sparkpay/client";
import { SparkPayError } from "../sparkpay/errors";

/** SparkPay's own request id of its last answer (already bounded by the transport), for the caller to quote. */
export const SPARKPAY_REQUEST_ID = "X-SparkPay-Request-Id";

/** What every request to SparkPay carries from this request: its id, and a debug line per attempt for the log. */
export function requestContext(c: Context<AppEnv>): RequestContext {
  const logFields = c.get("logFields");
  const requestId = c.get("requestId");
  const services = c.get("services");
  return {
    requestId,
    onAttempt: (attempt: AttemptReport) => {
      logFields.upstream_ms = (logFields.upstream_ms ?? 0) + attempt.durationMs;
      services.logger.debug({
        msg: "sparkpay attempt",
        request_id: requestId,
        operation: attempt.operation,
        attempt: attempt.attempt,
        key: attempt.key,
        status: attempt.status,
        error: attempt.error,
        duration_ms: attempt.durationMs,
        sparkpay_request_id: attempt.sparkpayRequestId,
      });
    },
  };
}

/**
 * Runs a SparkPay operation and puts SparkPay's request id of its last answer on the response, whatever the outcome
 * (the error envelope carries it too), and in the request's log line.
 */
export async function withSparkPayRequestId<T extends { sparkpayRequestId: string | undefined }>(
  c: Context<AppEnv>,
  operation: () => Promise<T>,
): Promise<T> {
  const passOn = (id: string | undefined) => {
    if (id === undefined) return;
    c.header(SPARKPAY_REQUEST_ID, id);
    c.get("logFields").sparkpay_request_id = id;
  };
  try {
    const result = await operation();
    passOn(result.sparkpayRequestId);
    return result;
  } catch (error) {
    if (error instanceof SparkPayError) passOn(error.sparkpayRequestId);
    throw error;
  }
}
