/**
 * The Worker's bindings: vars, limiters and D1 generated from wrangler.toml by `npm run cf-typegen`
 * into worker-configuration.d.ts, and the secrets declared below (they live in Cloudflare, not in
 * wrangler.toml; cf-typegen reads no env file, so a local .dev.vars never changes the generated
 * file, and wrangler's `types --check` ignores env files anyway). Values may still be empty or absent
 * at run time, so src/config.ts applies its defaults and checks every one.
 */
declare global {
  namespace Cloudflare {
    /** The secrets of src/config.ts's SECRET_NAMES, set with `wrangler secret put`. */
    interface Env {
      SPARKPAY_PRIVATE_KEY: string;
      SPARKPAY_PLATFORM_PUBLIC_KEY: string;
      GATEWAY_API_KEYS: string;
      /** Optional: signs the durable closes' webhooks; needed when CLOSE_WEBHOOK_URL is set. */
      CLOSE_WEBHOOK_SECRET?: string;
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
