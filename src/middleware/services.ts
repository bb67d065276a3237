import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { type Services, servicesFor } from "../services";

declare module "hono" {
  interface ContextVariableMap {
    /** Everything the request may need, built once per isolate (set by services()). */
    services: Services;
  }
}

/** Puts the isolate's services (src/services.ts) on the context: the one place the app reads its bindings. */
export function services(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("services", await servicesFor(c.env));
    await next();
  };
}
