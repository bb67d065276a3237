import type { MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import type { AppEnv } from "../env";
import { type CloseOrderRequest, OrderPathSchema } from "../sparkpay/schemas";
import { callerAuth } from "./caller-auth";
import { callerLimit, merchantLimit } from "./limits";
import { merchantScope } from "./merchant-scope";
import { validate } from "./validate";

/** What the routes under `…/{merchant_no}/{request_no}` read after orderPath(): the validated path. */
export type OrderPathInput = { out: { param: CloseOrderRequest } };

/**
 * The guards of every route keyed by an order in its path, in their order: the caller key, its
 * limit, the identifier rule for both path parameters (400 naming the field), the key's merchant
 * scope, then the merchant's limit. One chain, so the query route and the close-job routes cannot
 * drift apart.
 */
export function orderPath<P extends string>(): MiddlewareHandler<AppEnv, P, OrderPathInput> {
  return every(
    callerAuth(),
    callerLimit,
    validate("param", OrderPathSchema),
    merchantScope<AppEnv, P, OrderPathInput>((c) => c.req.valid("param").merchant_no),
    merchantLimit,
  ) as MiddlewareHandler<AppEnv, P, OrderPathInput>;
}
