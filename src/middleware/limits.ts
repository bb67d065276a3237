import { callerLimitKey } from "../caller-keys";
import { rateLimit } from "./rate-limit";

/**
 * The two limits every route that reaches SparkPay has: per caller key (right after
 * authentication) and per merchant_no (once the input is validated and in scope).
 */
export const callerLimit = rateLimit({
  binding: "CALLER_RATE_LIMITER",
  key: (c) => callerLimitKey(c.get("caller")),
  subject: "caller key",
});

export const merchantLimit = rateLimit({
  binding: "MERCHANT_RATE_LIMITER",
  key: (c) => `merchant:${c.get("merchantNo")}`,
  subject: "merchant_no",
});
