import { describeFailure } from "../failure";
import { ConfigError, SparkPayError, SparkPayRateLimitError } from "../sparkpay/errors";
import { isRetryable } from "../sparkpay/retry-policy";
import type { ConfirmedBy, ErrorCode } from "./job";

/** What one close round ended with: saved by Workflows, so a replay takes the same path. Times are Unix seconds. */
export type RoundOutcome =
  | { kind: "closed"; at: number; confirmed_by: ConfirmedBy }
  | { kind: "definitive" | "transient"; at: number; give_up_at: number; code: ErrorCode; message: string };

/** When a job stops trying: its close_at plus CLOSE_GIVE_UP_AFTER_S. */
export interface RoundClock {
  at: number;
  giveUpAt: number;
}

/**
 * What a failed round means for the job: definitive (SparkPay refused the order for good: the job fails now) or
 * transient (another round later). A setting can be fixed and SparkPay's limit lifts: both are worth another round,
 * as outages are. The code and message are the gateway's words for the failure, as the close route answers them.
 * Anything else (a bug) is thrown.
 */
export function failedRound(error: unknown, { at, giveUpAt }: RoundClock): RoundOutcome {
  if (!(error instanceof SparkPayError) && !(error instanceof ConfigError)) throw error;
  const transient = isRetryable(error) || error instanceof SparkPayRateLimitError || error instanceof ConfigError;
  const { code, message } = describeFailure(error);
  return { kind: transient ? "transient" : "definitive", at, give_up_at: giveUpAt, code, message };
}

/**
 * A round whose step threw after all its retries (a bug: SparkPay's failures are outcomes, not throws): transient,
 * with the code a bug gets (INTERNAL_ERROR), so the job goes on in rounds instead of sitting `closing`.
 */
export function stoppedRound(error: unknown, { at, giveUpAt }: RoundClock): RoundOutcome {
  const { code, message } = describeFailure(error);
  return { kind: "transient", at, give_up_at: giveUpAt, code, message };
}
