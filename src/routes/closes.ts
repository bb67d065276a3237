import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Hono } from "hono/tiny";
import * as v from "valibot";
import type { CloseJob, StoredJob } from "../closes/job";
import { publicJob } from "../closes/job";
import { cancel, createJob, getJob, reschedule, transition } from "../closes/store";
import type { CloseParams } from "../closes/workflow";
import { requireCloseJobsDb, requireCloseWorkflow, webhookSettings } from "../config";
import type { AppEnv, GatewayEnv } from "../env";
import { GatewayError } from "../errors";
import { writeLog } from "../log";
import { refuseInvalid } from "../middleware/invalid-request";
import { DEFAULT_MAX_BODY_BYTES, parseJsonObject, requireJsonMediaType } from "../middleware/json-body";
import { orderPath } from "../middleware/order-path";
import type { CloseOrderRequest } from "../sparkpay/schemas";

/** Durable closes: one job per order that closes it at close_at, whatever happens to SparkPay meanwhile. */
export const CLOSES_ROUTE = "/v1/closes/:merchant_no/:request_no" as const;

/** How far ahead a close may be scheduled. */
export const MAX_CLOSE_AHEAD_S = 30 * 24 * 3600;

const CLOSE_AT_RULE = `close_at must be an integer: Unix seconds, at most ${MAX_CLOSE_AHEAD_S / 86400} days ahead.`;

/** PUT's optional body. `v.object` ignores unknown keys, as the close route's body does. */
export const ScheduleCloseRequestSchema = v.object({
  close_at: v.optional(v.pipe(v.number(CLOSE_AT_RULE), v.safeInteger(CLOSE_AT_RULE))),
});
export type ScheduleCloseRequest = v.InferOutput<typeof ScheduleCloseRequestSchema>;

const limitBody = bodyLimit({
  maxSize: DEFAULT_MAX_BODY_BYTES,
  onError: () => {
    throw new GatewayError("PAYLOAD_TOO_LARGE", `The body is over ${DEFAULT_MAX_BODY_BYTES} bytes.`);
  },
});

const nowS = () => Math.floor(Date.now() / 1000);

/** PUT's close_at: undefined without a body or without the field; 400 naming close_at when it breaks its rule. */
async function readCloseAt(c: Context<AppEnv>, now: number): Promise<number | undefined> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  requireJsonMediaType(c.req.header("Content-Type"));
  const body = await parseJsonObject(() => JSON.parse(text));
  const parsed = v.safeParse(ScheduleCloseRequestSchema, body);
  if (!parsed.success) refuseInvalid(parsed.issues);
  const closeAt = parsed.output.close_at;
  if (closeAt !== undefined && closeAt > now + MAX_CLOSE_AHEAD_S)
    throw new GatewayError("INVALID_REQUEST", CLOSE_AT_RULE, { param: "close_at" });
  return closeAt;
}

function paramsOf(job: StoredJob): CloseParams {
  const { id: job_id, instance_id, merchant_no, request_no, close_at } = job;
  return { job_id, instance_id, merchant_no, request_no, close_at };
}

/**
 * Starts the job's instance. Should Workflows refuse, the job is marked `failed` (by the gateway, code
 * CLOSE_JOBS_UNAVAILABLE) before the answer (503, same code), so it does not sit `scheduled` with nothing to run it,
 * and the next PUT starts a new job.
 */
async function start(db: D1Database, workflow: Workflow, job: StoredJob): Promise<void> {
  try {
    await workflow.create({ id: job.instance_id, params: paramsOf(job) });
  } catch (error) {
    writeLog("info", "error", {
      msg: "close job not started",
      instance_id: job.instance_id,
      error: error instanceof Error ? error.message : typeof error,
    });
    const message = "Cloudflare Workflows did not start the close job; it is marked failed. PUT again to schedule it.";
    const failure = { code: "CLOSE_JOBS_UNAVAILABLE", message };
    await transition(db, job.instance_id, ["scheduled"], "failed", { error: failure }, nowS());
    throw new GatewayError("CLOSE_JOBS_UNAVAILABLE", message);
  }
}

/** Stops an instance that no longer runs a job; one that is gone or already finished is fine. */
async function terminate(workflow: Workflow, instanceId: string): Promise<void> {
  try {
    await (await workflow.get(instanceId)).terminate();
  } catch {
    // Not found, or not running any more: it has nothing left to do either way (its job no longer names it).
  }
}

function conflict(job: StoredJob, what: string): never {
  throw new GatewayError("CLOSE_CONFLICT", `The order's close job is ${job.status}: ${what}.`);
}

function notFound(): never {
  throw new GatewayError("NOT_FOUND", "This order has no close job.");
}

/** Every handler needs both bindings: a missing one is a 503 naming it. */
function bindings(env: GatewayEnv): { db: D1Database; workflow: Workflow } {
  return { db: requireCloseJobsDb(env), workflow: requireCloseWorkflow(env) };
}

/**
 * PUT also needs the webhook settings to be usable when a webhook URL is set: a job is never accepted with a promise
 * of a webhook the gateway could not send (503 naming the setting).
 */
function schedulingBindings(env: GatewayEnv): { db: D1Database; workflow: Workflow } {
  const found = bindings(env);
  webhookSettings(env);
  return found;
}

/**
 * PUT semantics (see the README): create (202), leave (200), reschedule (200) or refuse (409). Returns the job and
 * the status to answer with.
 */
async function schedule(
  { db, workflow }: { db: D1Database; workflow: Workflow },
  order: CloseOrderRequest,
  given: number | undefined,
  now: number,
  by: `caller:${string}`,
): Promise<{ job: CloseJob; status: 200 | 202 }> {
  const future = given !== undefined && given > now;
  const closeAt = future ? given : now;
  let job = await getJob(db, order.merchant_no, order.request_no);
  if (!job || job.status === "cancelled" || job.status === "failed") {
    const made = await createJob(db, { ...order, close_at: closeAt, now, by });
    if (made.created) {
      await start(db, workflow, made.job);
      return { job: publicJob(made.job), status: 202 };
    }
    job = made.job; // a racing PUT created it: answer as if it had come first
  }
  for (;;) {
    if (job.status === "closed" || job.status === "cancelled" || job.status === "failed") {
      return { job: publicJob(job), status: 200 };
    }
    if (job.status === "closing") {
      if (future) conflict(job, "it can no longer be rescheduled");
      return { job: publicJob(job), status: 200 };
    }
    // scheduled: no close_at, the same one, or "now" for a job already due leaves it as it is.
    if (given === undefined || closeAt === job.close_at || (!future && job.close_at <= now)) {
      return { job: publicJob(job), status: 200 };
    }
    const moved = await reschedule(db, job, closeAt, now, by);
    if (moved) {
      await terminate(workflow, job.instance_id);
      await start(db, workflow, moved);
      return { job: publicJob(moved), status: 200 };
    }
    // No longer scheduled (it started closing, or another request moved it): decide again on what it is now.
    const now_ = await getJob(db, order.merchant_no, order.request_no);
    if (!now_) throw new Error("close_jobs: the order lost its job.");
    job = now_;
  }
}

/**
 * PUT, GET and DELETE /v1/closes/{merchant_no}/{request_no}: the order's close job. Caller key, both rate limits,
 * key scope and the identifier rule for the path, as for the close route.
 */
export const closes = new Hono<AppEnv>()
  .put(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>(), limitBody, async (c) => {
    const now = nowS();
    const stores = schedulingBindings(c.env);
    const given = await readCloseAt(c, now);
    const { job, status } = await schedule(stores, c.req.valid("param"), given, now, `caller:${c.var.caller.id}`);
    Object.assign(c.var.logFields, { close_status: job.status });
    return c.json(job, status);
  })
  .get(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>(), async (c) => {
    const { db } = bindings(c.env);
    const { merchant_no, request_no } = c.req.valid("param");
    const job = await getJob(db, merchant_no, request_no);
    if (!job) notFound();
    return c.json(publicJob(job), 200);
  })
  .delete(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>(), async (c) => {
    const { db, workflow } = bindings(c.env);
    const { merchant_no, request_no } = c.req.valid("param");
    const job = await getJob(db, merchant_no, request_no);
    if (!job) notFound();
    if (job.status === "cancelled") return c.json(publicJob(job), 200);
    if (job.status !== "scheduled") conflict(job, "only a scheduled close can be cancelled");
    const after = await cancel(db, job, nowS(), `caller:${c.var.caller.id}`);
    if (!after) notFound();
    if (after.status !== "cancelled") conflict(after, "only a scheduled close can be cancelled");
    await terminate(workflow, after.instance_id);
    return c.json(publicJob(after), 200);
  })
  .all(CLOSES_ROUTE, (c) => {
    throw new GatewayError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use PUT, GET or DELETE.`, {
      headers: { Allow: "PUT, GET, DELETE" },
    });
  });
