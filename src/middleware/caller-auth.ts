import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { type CallerKey, findCallerKey } from "../caller-keys";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";

declare module "hono" {
  interface ContextVariableMap {
    /** The authenticated caller key (set by callerAuth). */
    caller: CallerKey;
  }
}

function unauthorized(): never {
  throw new GatewayError("UNAUTHORIZED", "Send a caller key from GATEWAY_API_KEYS as `Authorization: Bearer <key>`.", {
    headers: { "WWW-Authenticate": 'Bearer realm="sparkpay-gateway"' },
    param: "Authorization",
  });
}

/**
 * Runs before anything else is read or signed: without it the Worker would sign for anyone.
 * Hono's bearerAuth parses the header; every failure becomes the one 401 envelope.
 */
export function callerAuth(): MiddlewareHandler<AppEnv> {
  return bearerAuth<AppEnv>({
    verifyToken: (token, c) => {
      // A 503 naming GATEWAY_API_KEYS when it is unusable: no key could be judged.
      const caller = findCallerKey(c.get("services").callerKeys(), token);
      if (!caller) return false;
      c.set("caller", caller);
      c.get("logFields").caller = caller.id;
      return true;
    },
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
}
