import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ConfigError, GatewayError } from "../errors";
import { type CallerKey, firstProblem, loadConfig, sha256 } from "../config";
import type { AppEnv } from "../types";

/**
 * The configured key matching `token`, if any. Both sides are SHA-256 digests of equal length and
 * every configured key is compared, so timing reveals neither a key's length nor which one matched.
 */
export async function findCallerKey(keys: readonly CallerKey[], token: string): Promise<CallerKey | undefined> {
  const presented = new Uint8Array(await sha256(token));
  let match: CallerKey | undefined;
  for (const key of keys) {
    if (digestsEqual(new Uint8Array(key.digest), presented)) match = key;
  }
  return match;
}

/** Compares two SHA-256 digests touching every byte, whatever differs first. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}

function unauthorized(): never {
  throw new GatewayError("UNAUTHORIZED", "Send a caller key from GATEWAY_API_KEYS as `Authorization: Bearer <key>`.", {
    "WWW-Authenticate": 'Bearer realm="sparkpay-gateway"',
  });
}

/**
 * Runs before anything else is read or signed: without it the Worker would sign for anyone.
 * Hono's bearerAuth parses the header; every failure becomes the one 401 envelope.
 */
export function callerAuth(): MiddlewareHandler<AppEnv> {
  return bearerAuth<AppEnv>({
    verifyToken: async (token, c) => {
      const { callerKeys, report } = await loadConfig(c.env);
      if (!callerKeys) throw new ConfigError(report.checks.GATEWAY_API_KEYS ?? firstProblem(report));
      const caller = await findCallerKey(callerKeys, token);
      if (!caller) return false;
      c.set("caller", caller);
      c.var.logFields.caller = caller.id;
      return true;
    },
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
}
