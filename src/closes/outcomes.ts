import { describeFailure } from "../failure";
import {
  ConfigError,
  SparkPayApiError,
  SparkPayError,
  SparkPayInvalidResponseError,
  SparkPayOrderNotClosableError,
  SparkPayRateLimitError,
  SparkPaySignatureError,
} from "../sparkpay/errors";
import { isRetryable, needsConfirmingQuery } from "../sparkpay/retry-policy";
import type { ConfirmedBy, ErrorCode, OrderSnapshot } from "./job";

/**
 * What one close round ended with: saved by Workflows, so a replay takes the same path. Times are Unix seconds.
 * `order` is the verified Payment Order Query's data whenever one answered (a step result must be serializable:
 * null, not undefined).
 */
export type RoundOutcome =
  | { kind: "closed"; at: number; confirmed_by: ConfirmedBy; order: OrderSnapshot }
  | { kind: "not_closable"; at: number; code: ErrorCode; message: string; order: OrderSnapshot }
  | {
      kind: "definitive" | "transient";
      at: number;
      give_up_at: number;
      code: ErrorCode;
      message: string;
      order: OrderSnapshot | null;
    };

/** When a job stops trying: its close_at plus CLOSE_GIVE_UP_AFTER_S. */
export interface RoundClock {
  at: number;
  giveUpAt: number;
}

/**
 * Whether a failure is worth another round: outages and SparkPay's limit lift, a setting can be fixed, and an answer
 * that could not be verified or read (a platform key the operator has not caught up with, a clock off, an HTML page
 * from an intermediary) is the operator's to fix too. So is a refusal that a query would have settled but none
 * answered. Only SparkPay's definitive refusals of the request end the job at once.
 */
function isTransient(error: SparkPayError | ConfigError): boolean {
  return (
    isRetryable(error) ||
    error instanceof SparkPayRateLimitError ||
    error instanceof ConfigError ||
    error instanceof SparkPaySignatureError ||
    error instanceof SparkPayInvalidResponseError ||
    (error instanceof SparkPayApiError && needsConfirmingQuery(error))
  );
}

/**
 * What a failed round means for the job: not_closable (a verified query shows the order in another pay_status than
 * CLOSED after SparkPay answered the close: the job stops), definitive (SparkPay refused the request for good: the job
 * fails now) or transient (another round later). The code and message are the gateway's words for the failure, as the
 * close route answers them. Anything else (a bug) is thrown.
 */
export function failedRound(error: unknown, { at, giveUpAt }: RoundClock): RoundOutcome {
  if (!(error instanceof SparkPayError) && !(error instanceof ConfigError)) throw error;
  const { code, message } = describeFailure(error);
  if (error instanceof SparkPayOrderNotClosableError)
    return { kind: "not_closable", at, code, message, order: error.order };
  const order = error instanceof SparkPayError ? (error.order ?? null) : null;
  return { kind: isTransient(error) ? "transient" : "definitive", at, give_up_at: giveUpAt, code, message, order };
}

/**
 * A round whose step threw after all its retries (a bug: SparkPay's failures are outcomes, not throws): transient,
 * with the code a bug gets (INTERNAL_ERROR), so the job goes on in rounds instead of sitting `closing`.
 */
export function stoppedRound(error: unknown, { at, giveUpAt }: RoundClock): RoundOutcome {
  const { code, message } = describeFailure(error);
  return { kind: "transient", at, give_up_at: giveUpAt, code, message, order: null };
}
