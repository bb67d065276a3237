/**
 * When src/ is type-checked for the Node-side tools (tsconfig.node.json), the Workers runtime types
 * are absent; this declares the one binding type the generated Env uses.
 */
interface RateLimit {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

// The durable closes' bindings (D1 and Workflows), as far as src/ uses them. The generated Env type imports
// src/index.ts, which brings in the Workflow class and the D1 store.
interface D1Result<T = Record<string, unknown>> {
  results: T[];
  success: boolean;
  meta: { changes: number } & Record<string, unknown>;
}
interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  run<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  first<T = unknown>(column?: string): Promise<T | null>;
}
interface D1Database {
  prepare(query: string): D1PreparedStatement;
  batch<T = Record<string, unknown>>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]>;
}
interface WorkflowInstance {
  id: string;
  terminate(): Promise<void>;
  status(): Promise<{ status: string }>;
}
interface Workflow<PARAMS = unknown> {
  create(options?: { id?: string; params?: PARAMS }): Promise<WorkflowInstance>;
  get(id: string): Promise<WorkflowInstance>;
}
// The round gate's Durable Object, and the Cron Trigger's handler, as far as src/ uses them.
interface DurableObjectId {
  toString(): string;
}
type DurableObjectStub<T> = { [K in keyof T]: T[K] };
interface DurableObjectNamespace<T = unknown> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<T>;
}
interface ScheduledController {
  scheduledTime: number;
  cron: string;
}
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  props: unknown;
}
interface ExportedHandler<Env = unknown> {
  fetch?(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
  scheduled?(controller: ScheduledController, env: Env, ctx: ExecutionContext): void | Promise<void>;
}
declare module "cloudflare:workers" {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: unknown;
    protected env: Env;
    constructor(ctx: unknown, env: Env);
  }
  type WorkflowSleepDuration = number | `${number} ${string}`;
  export interface WorkflowEvent<T> {
    payload: Readonly<T>;
    timestamp: Date;
    instanceId: string;
  }
  export interface WorkflowStepConfig {
    retries?: { limit: number; delay: WorkflowSleepDuration; backoff?: "constant" | "linear" | "exponential" };
    timeout?: WorkflowSleepDuration;
  }
  export abstract class WorkflowStep {
    do<T>(name: string, callback: () => Promise<T>): Promise<T>;
    do<T>(name: string, config: WorkflowStepConfig, callback: () => Promise<T>): Promise<T>;
    sleep(name: string, duration: WorkflowSleepDuration): Promise<void>;
    sleepUntil(name: string, timestamp: Date | number): Promise<void>;
  }
  export abstract class WorkflowEntrypoint<Env = unknown, T = unknown> {
    protected ctx: unknown;
    protected env: Env;
    constructor(ctx: unknown, env: Env);
    run(event: Readonly<WorkflowEvent<T>>, step: WorkflowStep): Promise<unknown>;
  }
}
