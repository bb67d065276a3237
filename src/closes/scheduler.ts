import { nowSeconds } from "../clock";
import { GatewayError } from "../errors";
import type { Logger } from "../log";
import type { WebhookSettings } from "../settings/webhooks";
import type { OrderRef } from "../sparkpay/schemas";
import { type Actor, type CloseJob, closeParams, publicJob, type StoredJob } from "./job";
import { onJob, tryDelivery } from "./notify";
import { cancel, createJob, getJob, listJobs, MAX_RESCHEDULES, reschedule } from "./store";
import { transition } from "./transitions";
import { closeEvent, latePaymentEvent } from "./webhook";

/** How far ahead a close may be scheduled. */
export const MAX_CLOSE_AHEAD_S = 30 * 24 * 3600;
/**
 * How far in the past a close_at still means "now": clocks differ, and a request takes time. Further back it is a
 * mistake (a delay sent as a time, milliseconds, an old value), refused instead of closing at once.
 */
export const MAX_CLOSE_AT_PAST_S = 300;
/** Below this (2001-09-09), a close_at is not a Unix time at all, most likely a delay in seconds. */
const MIN_UNIX_TIME_S = 1_000_000_000;
export const CLOSE_AT_RULE =
  `close_at must be an integer: Unix seconds, at most ${MAX_CLOSE_AHEAD_S / 86400} days ahead and at most ` +
  `${MAX_CLOSE_AT_PAST_S} s in the past; omit it to close now.`;

/** The refusal of a close_at that is not a time to close at, or undefined when it is one. */
function closeAtProblem(closeAt: number, now: number): string | undefined {
  if (closeAt < MIN_UNIX_TIME_S)
    return `close_at ${closeAt} is not a Unix time (seconds since 1970): to close in ${closeAt} s, send now + ${closeAt}; omit close_at to close now.`;
  if (closeAt < now - MAX_CLOSE_AT_PAST_S)
    return `close_at is ${now - closeAt} s in the past (at most ${MAX_CLOSE_AT_PAST_S} s counts as now): send Unix seconds; omit it to close now.`;
  if (closeAt > now + MAX_CLOSE_AHEAD_S) return CLOSE_AT_RULE;
  return undefined;
}

/** What PUT did: the job as it is now, and whether this call created it. */
export interface Scheduled {
  job: CloseJob;
  created: boolean;
}

export interface CloseSchedulerOptions {
  db: D1Database;
  workflow: Workflow;
  logger: Logger;
  /** Unix seconds; injected so tests can move time. */
  now?: () => number;
}

function conflict(job: StoredJob, what: string): never {
  throw new GatewayError("CLOSE_CONFLICT", `The order's close job is ${job.status}: ${what}.`);
}

/** The PUT that meets a cancelled job, whether it was cancelled long ago or a moment ago by a racing DELETE. */
function cancelled(job: StoredJob): never {
  throw new GatewayError(
    "CLOSE_CONFLICT",
    `The order's close job was cancelled (${new Date(job.updated_at * 1000).toISOString()}): it stays cancelled. ` +
      'To close the order after all, PUT again with {"reopen": true}.',
  );
}

function notFound(): never {
  throw new GatewayError("NOT_FOUND", "This order has no close job.");
}

/**
 * The close-job state machine (README "Durable closes"): create (a job, and its Workflow instance), leave,
 * reschedule (the job moves to a new instance; the old one is terminated), cancel, and what is refused. D1 holds
 * the job (./store.ts: every change checks the state it starts from in the statement that makes it); this decides
 * which change to ask for and keeps the Workflow instances in step with it.
 */
export class CloseScheduler {
  private readonly db: D1Database;
  private readonly workflow: Workflow;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor({ db, workflow, logger, now = nowSeconds }: CloseSchedulerOptions) {
    this.db = db;
    this.workflow = workflow;
    this.logger = logger;
    this.now = now;
  }

  /**
   * PUT: a cancelled job stays cancelled (409) unless `reopen`; with no job (or a failed one, or a cancelled one and
   * `reopen`), a new job closing at `closeAt` (now when absent, or at most
   * MAX_CLOSE_AT_PAST_S in the past; further back, or not a Unix time, it is refused);
   * a scheduled job moves to a different future `closeAt` and is otherwise left as it is; a closing job may be asked
   * to close now but not moved (409); a closed or not_closable job is left as it is.
   */
  async schedule(order: OrderRef, closeAt: number | undefined, by: Actor, { reopen = false } = {}): Promise<Scheduled> {
    const now = this.now();
    const problem = closeAt === undefined ? undefined : closeAtProblem(closeAt, now);
    if (problem) throw new GatewayError("INVALID_REQUEST", problem, { param: "close_at" });
    const future = closeAt !== undefined && closeAt > now;
    const at = future ? closeAt : now;
    let job = await getJob(this.db, order.merchant_no, order.request_no);
    // A cancel is a decision: a PUT (a retry, say) does not undo it unless it says so.
    if (job?.status === "cancelled" && !reopen) cancelled(job);
    if (!job || job.status === "cancelled" || job.status === "failed") {
      const made = await createJob(this.db, { ...order, close_at: at, now, by });
      if (made.created) {
        await this.start(made.job);
        return { job: publicJob(made.job), created: true };
      }
      job = made.job; // a racing PUT created it: answer as if it had come first
    }
    for (;;) {
      // A DELETE won the race with this PUT: the answer says so.
      if (job.status === "cancelled") cancelled(job);
      // Ended (a not_closable order is paid or otherwise not closable: there is nothing left to retry).
      if (job.status === "closed" || job.status === "not_closable" || job.status === "failed") {
        return { job: publicJob(job), created: false };
      }
      if (job.status === "closing") {
        if (future) conflict(job, "it can no longer be rescheduled");
        return { job: publicJob(job), created: false };
      }
      // scheduled: no close_at, the same one, or "now" for a job already due leaves it as it is.
      if (closeAt === undefined || at === job.close_at || (!future && job.close_at <= now)) {
        return { job: publicJob(job), created: false };
      }
      if (job.reschedules >= MAX_RESCHEDULES) {
        conflict(job, `it has been rescheduled ${MAX_RESCHEDULES} times, the limit; it stays at its close_at`);
      }
      const moved = await reschedule(this.db, job, at, now, by);
      if (moved) {
        await this.terminate(job.instance_id);
        await this.start(moved);
        return { job: publicJob(moved), created: false };
      }
      // No longer scheduled (it started closing, or another request moved it): decide again on what it is now.
      const current = await getJob(this.db, order.merchant_no, order.request_no);
      if (!current) throw new Error("close_jobs: the order lost its job.");
      job = current;
    }
  }

  /** GET: the order's current job; 404 when it never had one. */
  async find(order: OrderRef): Promise<CloseJob> {
    const job = await getJob(this.db, order.merchant_no, order.request_no);
    if (!job) notFound();
    return publicJob(job);
  }

  /** GET …/jobs: every job the order had, the current one first (at most JOBS_LISTED); 404 when it never had one. */
  async list(order: OrderRef): Promise<CloseJob[]> {
    const jobs = await listJobs(this.db, order.merchant_no, order.request_no);
    if (jobs.length === 0) notFound();
    return jobs.map(publicJob);
  }

  /**
   * POST …/webhook: sends the job's latest event again, now, once (for a receiver that missed it or was down past the
   * Workflow's tries), and records the try on the job. 409 when the job has no event yet or webhooks are off.
   */
  async redeliver(order: OrderRef, webhooks: WebhookSettings | undefined): Promise<CloseJob> {
    const job = await getJob(this.db, order.merchant_no, order.request_no);
    if (!job) notFound();
    const { webhook: _state, ...data } = publicJob(job);
    const event =
      job.late_payment_at === undefined ? closeEvent(job.instance_id, data) : latePaymentEvent(job.instance_id, data);
    if (!event) conflict(job, "it has not ended, so it has no event to deliver yet");
    if (!webhooks)
      throw new GatewayError("CLOSE_CONFLICT", "CLOSE_WEBHOOK_URL is not set: there is nowhere to deliver.");
    const before = job.webhook?.event_id === event.id ? job.webhook : undefined;
    // While the Workflow still has tries left the delivery stays pending; else this try decides.
    const ifRefused = before?.status === "pending" ? "pending" : "failed";
    const attempts = (before?.attempts ?? 0) + 1;
    const tried = await tryDelivery(this.db, webhooks, event, attempts, ifRefused, onJob(job.instance_id), this.now);
    if (tried.error !== undefined) {
      this.logger.warn({ msg: "close webhook redelivery refused", event_id: event.id, error: tried.error });
    }
    return publicJob(tried.recorded ?? job);
  }

  /** DELETE: cancels a scheduled job (a cancelled one is answered as it is); any other status is a 409. */
  async cancel(order: OrderRef, by: Actor): Promise<CloseJob> {
    const job = await getJob(this.db, order.merchant_no, order.request_no);
    if (!job) notFound();
    if (job.status === "cancelled") return publicJob(job);
    if (job.status !== "scheduled") conflict(job, "only a scheduled close can be cancelled");
    const after = await cancel(this.db, job, this.now(), by);
    if (!after) notFound();
    if (after.status !== "cancelled") conflict(after, "only a scheduled close can be cancelled");
    await this.terminate(after.instance_id);
    return publicJob(after);
  }

  /**
   * Starts the job's instance. Should Workflows refuse, the job is marked `failed` (by the gateway, code
   * CLOSE_JOBS_UNAVAILABLE) before the refusal (503, same code), so it does not sit `scheduled` with nothing to run
   * it, and the next PUT starts a new job.
   */
  private async start(job: StoredJob): Promise<void> {
    try {
      await this.workflow.create({ id: job.instance_id, params: closeParams(job) });
    } catch (error) {
      this.logger.error({
        msg: "close job not started",
        instance_id: job.instance_id,
        error: error instanceof Error ? error.message : typeof error,
      });
      const message =
        "Cloudflare Workflows did not start the close job; it is marked failed. PUT again to schedule it.";
      const failure = { code: "CLOSE_JOBS_UNAVAILABLE", message };
      await transition(this.db, job.instance_id, ["scheduled"], "failed", { error: failure }, this.now());
      throw new GatewayError("CLOSE_JOBS_UNAVAILABLE", message);
    }
  }

  /** Stops an instance that no longer runs a job; one that is gone or already finished is fine. */
  private async terminate(instanceId: string): Promise<void> {
    try {
      await (await this.workflow.get(instanceId)).terminate();
    } catch {
      // Not found, or not running any more: it has nothing left to do either way (its job no longer names it).
    }
  }
}
