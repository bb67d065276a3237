import { bearerAuth } from "hono/bearer-auth";
import type { MiddlewareHandler } from "hono";
import { parseCallerKeys } from "../config";
import type { GatewayEnv } from "../env";
import { GatewayError } from "../errors";
import type { AppEnv } from "../types";

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

// Digests of the configured keys, once per isolate for each env object.
const keyDigests = new WeakMap<GatewayEnv, ArrayBuffer[]>();

async function configuredDigests(env: GatewayEnv): Promise<ArrayBuffer[]> {
  let digests = keyDigests.get(env);
  if (!digests) {
    digests = await Promise.all(parseCallerKeys(env).map(sha256));
    keyDigests.set(env, digests);
  }
  return digests;
}

/**
 * True when `token` is one of GATEWAY_API_KEYS. Both sides are hashed to equal length and every
 * configured key is compared, so timing reveals neither a key's length nor which key matched.
 */
export async function isCallerKey(env: GatewayEnv, token: string): Promise<boolean> {
  const [digests, presented] = await Promise.all([configuredDigests(env), sha256(token)]);
  let matched = false;
  for (const digest of digests) {
    if (crypto.subtle.timingSafeEqual(digest, presented)) matched = true;
  }
  return matched;
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
    verifyToken: (token, c) => isCallerKey(c.env, token),
    noAuthenticationHeader: { message: unauthorized },
    invalidAuthenticationHeader: { message: unauthorized },
    invalidToken: { message: unauthorized },
  });
}
