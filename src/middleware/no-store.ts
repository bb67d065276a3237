import type { MiddlewareHandler } from "hono";

/** Answers about payments are never cacheable, by browsers or by any proxy between. */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  };
}
