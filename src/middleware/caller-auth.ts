import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { type CallerKey, firstProblem, loadConfig, MAX_CALLER_KEY_LENGTH } from "../config";
import { ConfigError, GatewayError } from "../errors";
import type { AppEnv } from "../types";

/**
 * The configured key matching `token`, if any, in constant time: every configured key is compared
 * over MAX_CALLER_KEY_LENGTH characters, so the time taken reveals neither a key's length, nor how
 * much of it matched, nor which key matched. Synchronous: no digest per request.
 */
export function findCallerKey(keys: readonly CallerKey[], token: string): CallerKey | undefined {
  if (token.length > MAX_CALLER_KEY_LENGTH) return undefined;
  let match: CallerKey | undefined;
  for (const candidate of keys) {
    let difference = candidate.key.length ^ token.length;
    // charCodeAt past the end is NaN, and NaN | 0 is 0: both sides read as zero-padded.
    for (let i = 0; i < MAX_CALLER_KEY_LENGTH; i++)
      difference |= (candidate.key.charCodeAt(i) | 0) ^ (token.charCodeAt(i) | 0);
    if (difference === 0) match = candidate;
  }
  return match;
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
      const caller = findCallerKey(callerKeys, token);
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
