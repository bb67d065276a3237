import { ConfigError } from "../sparkpay/errors";
import { type Check, OK, problem } from "./check";

/** The Cloudflare bindings the gateway calls, and the wrangler.toml table each is declared under. */
export const RATE_LIMITER_BINDINGS = [
  "CALLER_RATE_LIMITER",
  "MERCHANT_RATE_LIMITER",
  "READ_RATE_LIMITER",
  "NOTIFY_RATE_LIMITER",
] as const;
export type RateLimiterBinding = (typeof RATE_LIMITER_BINDINGS)[number];
/** The durable closes' bindings: without them the /v1/closes routes answer 503 naming them. */
export const CLOSE_BINDINGS = ["CLOSE_JOBS_DB", "CLOSE_WORKFLOW", "CLOSE_ROUND_GATE"] as const;
export type CloseBinding = (typeof CLOSE_BINDINGS)[number];
/** The notification receiver's own Workflow (it also needs CLOSE_JOBS_DB and NOTIFY_RATE_LIMITER). */
export const NOTIFICATION_BINDINGS = ["NOTIFY_WORKFLOW"] as const;
export type BindingName = RateLimiterBinding | CloseBinding | (typeof NOTIFICATION_BINDINGS)[number];

export const ALL_BINDINGS = [...RATE_LIMITER_BINDINGS, ...CLOSE_BINDINGS, ...NOTIFICATION_BINDINGS] as const;

const DECLARED_UNDER: Record<BindingName, { table: string; methods: readonly string[] }> = {
  CALLER_RATE_LIMITER: { table: "ratelimits", methods: ["limit"] },
  MERCHANT_RATE_LIMITER: { table: "ratelimits", methods: ["limit"] },
  READ_RATE_LIMITER: { table: "ratelimits", methods: ["limit"] },
  NOTIFY_RATE_LIMITER: { table: "ratelimits", methods: ["limit"] },
  NOTIFY_WORKFLOW: { table: "workflows", methods: ["create", "get"] },
  CLOSE_JOBS_DB: { table: "d1_databases", methods: ["prepare", "batch"] },
  CLOSE_WORKFLOW: { table: "workflows", methods: ["create", "get"] },
  CLOSE_ROUND_GATE: { table: "durable_objects.bindings", methods: ["get", "idFromName"] },
};

interface BindingTypes {
  CALLER_RATE_LIMITER: RateLimit;
  MERCHANT_RATE_LIMITER: RateLimit;
  READ_RATE_LIMITER: RateLimit;
  NOTIFY_RATE_LIMITER: RateLimit;
  NOTIFY_WORKFLOW: Workflow;
  CLOSE_JOBS_DB: D1Database;
  CLOSE_WORKFLOW: Workflow;
  CLOSE_ROUND_GATE: DurableObjectNamespace<import("../closes/round-gate").CloseRoundGate>;
}

/**
 * The binding `name`, when it has the methods the gateway calls; else the ConfigError naming the binding and the
 * wrangler.toml table to declare it under (a 503, never a 500).
 */
export function requireBinding<N extends BindingName>(env: object, name: N): BindingTypes[N] {
  const binding = (env as Record<string, Record<string, unknown> | undefined>)[name];
  const { table, methods } = DECLARED_UNDER[name];
  if (!methods.every((method) => typeof binding?.[method] === "function")) {
    throw new ConfigError(`${name} is not bound; declare it under [[${table}]] in wrangler.toml for this environment.`);
  }
  return binding as unknown as BindingTypes[N];
}

export function bindingCheck(env: object, name: BindingName): Check {
  try {
    requireBinding(env, name);
    return OK;
  } catch (error) {
    return problem((error as ConfigError).message);
  }
}
