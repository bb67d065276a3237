import type { MiddlewareHandler } from "hono";

/**
 * Answers about payments are never cacheable, by browsers or by any proxy between. A response that set its own
 * Cache-Control keeps it: only the API reference's static files do (src/routes/assets.ts), e.g. Scalar's bundle,
 * whose URL names its version.
 */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  };
}
