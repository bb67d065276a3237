import type { Context, Env, Input, MiddlewareHandler } from "hono";
import { mayActFor } from "../caller-keys";
import { GatewayError } from "../errors";

declare module "hono" {
  interface ContextVariableMap {
    /** The validated merchant_no the request acts for (set by merchantScope). */
    merchantNo: string;
  }
}

/**
 * Checks that the authenticated caller key may act for the request's merchant_no (403 if not), and
 * records it for the per-merchant limit and the log. Runs after the input is validated;
 * `merchantNoOf` reads it from wherever the route keeps it (body or path).
 */
export function merchantScope<E extends Env, P extends string, I extends Input>(
  merchantNoOf: (c: Context<E, P, I>) => string,
): MiddlewareHandler<E, P, I> {
  return async (c, next) => {
    const merchantNo = merchantNoOf(c);
    c.set("merchantNo", merchantNo);
    c.get("logFields").merchant_no = merchantNo;
    if (!mayActFor(c.get("caller"), merchantNo)) {
      throw new GatewayError("FORBIDDEN", "This caller key may not act for this merchant_no.", {
        param: "merchant_no",
      });
    }
    await next();
  };
}
