/**
 * The Worker's bindings: vars, limiters, D1, the Workflow and the assets, generated from wrangler.toml by
 * `npm run cf-typegen` into worker-configuration.d.ts, and the secrets declared below (they live in Cloudflare, not
 * in wrangler.toml). Values may still be empty or absent at run time, so src/settings/ applies its defaults and checks
 * every one. Read context variables with c.get(name): Hono's c.var builds a fresh object of every variable on each
 * read.
 */
declare global {
  namespace Cloudflare {
    /**
     * The secrets of src/settings/report.ts's SECRET_NAMES, set with `wrangler secret put`, that .dev.vars does not
     * declare (CLOSE_WEBHOOK_SECRET, optional, is among the generated ones: npm start writes it there).
     */
    interface Env {
      SPARKPAY_PRIVATE_KEY: string;
      SPARKPAY_PLATFORM_PUBLIC_KEY: string;
      GATEWAY_API_KEYS: string;
    }
  }
}

export type GatewayEnv = Env;

/**
 * Hono's typed context for the app: the bindings. Context variables are declared by the middleware
 * that sets them (`ContextVariableMap`, as Hono's own request-id middleware does).
 */
export interface AppEnv {
  Bindings: GatewayEnv;
}
