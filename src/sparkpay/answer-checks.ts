import { PAY_STATUS_CLOSED } from "./constants";
import { SparkPayInvalidResponseError, SparkPayNotClosedError } from "./errors";
import { foldAscii } from "./identifiers";
import type { OrderRef } from "./schemas";

/** Checks that a valid SparkPay answer is an answer to what was asked (SparkPayClient's operations use them). */

/**
 * SparkPay treats request_no case-insensitively, so an answer may carry the casing it stored first;
 * only ASCII case folding, so a look-alike (the Kelvin sign for k) is a different order.
 */
function isSameRequestNo(shown: unknown, asked: string): boolean {
  return typeof shown === "string" && foldAscii(shown) === foldAscii(asked);
}

export function requireSameOrder(order: OrderRef, data: Record<string, unknown>, attempt: number): void {
  // Where an answer names no order (the Pro query names no merchant_no; a creation may name neither), nothing to check.
  const sameRequest = data.request_no === undefined || isSameRequestNo(data.request_no, order.request_no);
  if (!sameRequest || (data.merchant_no !== undefined && data.merchant_no !== order.merchant_no)) {
    throw new SparkPayInvalidResponseError(
      "SparkPay's answer is for a different order than the one requested.",
      attempt,
    );
  }
}

/** A close "success" must not say the order is anything but closed (a replayed query answer would). */
export function requireNotContradictingClosed(data: Record<string, unknown>, attempt: number): void {
  if ("pay_status" in data && data.pay_status !== PAY_STATUS_CLOSED) {
    const status = typeof data.pay_status === "string" ? data.pay_status.slice(0, 32) : typeof data.pay_status;
    throw new SparkPayNotClosedError(`SparkPay's close answer says pay_status ${status}, not CLOSED.`, attempt);
  }
}
