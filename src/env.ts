/**
 * The Worker's bindings, generated from wrangler.toml by `npm run cf-typegen` into
 * worker-configuration.d.ts (vars from wrangler.toml, secrets from .dev.vars.example). Values may still
 * be empty or absent at run time (a var removed in one environment), so src/config.ts applies its
 * defaults and checks every one.
 */
export type GatewayEnv = Env;

/**
 * Hono's typed context for the app: the bindings. Context variables are declared by the middleware
 * that sets them (`ContextVariableMap`, as Hono's own request-id middleware does).
 */
export interface AppEnv {
  Bindings: GatewayEnv;
}
