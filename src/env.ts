/**
 * The Worker's bindings, generated from wrangler.toml by `npm run cf-typegen` into
 * worker-configuration.d.ts (vars, and secrets listed under `secrets.required`). Values may still
 * be empty or absent at run time (a var removed in one environment), so src/config.ts applies its
 * defaults and checks every one.
 */
export type GatewayEnv = Env;
