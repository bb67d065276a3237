import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import type { RateLimiterBinding } from "../settings/bindings";

export interface RateLimitOptions {
  /** Which Workers Rate Limiting binding counts these requests. */
  binding: RateLimiterBinding;
  /** What is counted, e.g. `caller:<id>`; never a secret, since it leaves the Worker. */
  key: (c: Context<AppEnv>) => string;
  /** The binding's period (wrangler.toml `simple.period`), sent as Retry-After. */
  periodSeconds?: number;
  /** Names what was limited in the 429's message. */
  subject: string;
}

/** Cloudflare's limiter periods are 10 or 60 s; ours are 60 (see wrangler.toml). */
export const RATE_LIMIT_PERIOD_S = 60;

export function rateLimit({
  binding,
  key,
  periodSeconds = RATE_LIMIT_PERIOD_S,
  subject,
}: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // A missing binding is a 503 naming it, never a 500.
    const { success } = await c
      .get("services")
      .limiter(binding)
      .limit({ key: key(c) });
    if (!success) {
      throw new GatewayError("RATE_LIMITED", `Too many requests for this ${subject}; retry after ${periodSeconds} s.`, {
        headers: { "Retry-After": String(periodSeconds) },
      });
    }
    await next();
  };
}
