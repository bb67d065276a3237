import type { MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import type { AppEnv } from "../env";
import { type CloseOrderRequest, OrderPathSchema } from "../sparkpay/schemas";
import { callerAuth } from "./caller-auth";
import { callerLimit, merchantLimit, readLimit } from "./limits";
import { merchantScope } from "./merchant-scope";
import { validate } from "./validate";

/** What the routes under `…/{merchant_no}/{request_no}` read after orderPath(): the validated path. */
export type OrderPathInput = { out: { param: CloseOrderRequest } };

/** Which of the merchant's budgets a route spends: closes, reads, or neither (a cancel). */
export type MerchantBudget = "close" | "read" | "none";

/**
 * The guards of every route keyed by an order in its path, in their order: the caller key, its
 * limit, the identifier rule for both path parameters (400 naming the field), the key's merchant
 * scope, then the merchant's budget the route spends (a close's by default). One chain, so the query
 * route and the close-job routes cannot drift apart.
 */
export function orderPath<P extends string>(
  budget: MerchantBudget = "close",
): MiddlewareHandler<AppEnv, P, OrderPathInput> {
  const scope = merchantScope<AppEnv, P, OrderPathInput>((c) => c.req.valid("param").merchant_no);
  const guards = [callerAuth(), callerLimit, validate("param", OrderPathSchema), scope];
  if (budget !== "none") guards.push(budget === "read" ? readLimit : merchantLimit);
  return every(...guards) as MiddlewareHandler<AppEnv, P, OrderPathInput>;
}
