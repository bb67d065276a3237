import type { MiddlewareHandler } from "hono";
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

/** `Bearer <token68>` (RFC 6750's b64token), the scheme in any case. */
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/**
 * Runs before anything else is read or signed: without it the Worker would sign for anyone. Every failure (no header,
 * another scheme, a malformed or unknown key) is the one 401 envelope. (Hono's bearerAuth parses the same way; this
 * is its dozen lines we use, without the 1 KiB gzip of responses and token hashing we never call.)
 */
export function callerAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = BEARER_CREDENTIALS.exec(c.req.header("Authorization") ?? "")?.[1];
    if (token === undefined) unauthorized();
    // A 503 naming GATEWAY_API_KEYS when it is unusable: no key could be judged.
    const caller = findCallerKey(c.get("services").callerKeys(), token);
    if (!caller) unauthorized();
    c.set("caller", caller);
    c.get("logFields").caller = caller.id;
    await next();
  };
}
