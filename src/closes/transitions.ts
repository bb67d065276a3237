import { d1Change } from "./d1";
import type { Actor, ConfirmedBy, ErrorCode, JobStatus, OrderSnapshot, StoredJob, WebhookStatus } from "./job";
import { changeJob, checkActor, checkTime, JOB_BY_INSTANCE, jobIn } from "./rows";

/**
 * The close Workflow's changes to the job its instance runs (src/closes/workflow.ts), in D1 the way ./store.ts makes
 * every change: one transaction that checks the state it starts from, its history entry numbered by the revision.
 */

/** What each of the Workflow's changes records besides the status; `order` is the verified query that decided it. */
export interface TransitionFields {
  closing: { attempts?: number };
  closed: { attempts?: number; confirmed_by: ConfirmedBy; closed_at?: number; order?: OrderSnapshot };
  failed: { attempts?: number; error: { code: ErrorCode; message: string }; order?: OrderSnapshot };
  not_closable: { attempts?: number; error: { code: ErrorCode; message: string }; order: OrderSnapshot };
}
export type TransitionTarget = keyof TransitionFields;
/** The statuses the Workflow moves a job from. */
export type LiveStatus = "scheduled" | "closing";

type AnyFields = Partial<TransitionFields["closed"] & TransitionFields["failed"] & TransitionFields["not_closable"]>;

/** The fields each target needs, checked: a bug must not store a job that reads wrong. */
function checkFields(to: TransitionTarget, all: AnyFields): void {
  if (to === "closed" && !all.confirmed_by) throw new TypeError("A closed job needs confirmed_by.");
  if ((to === "failed" || to === "not_closable") && !all.error) throw new TypeError(`A ${to} job needs its error.`);
  if (to === "not_closable" && !all.order) throw new TypeError("A not_closable job needs the order's query.");
  if (all.attempts !== undefined) checkTime("attempts", all.attempts);
}

/**
 * The Workflow's changes: moves the job its instance runs from one of `from` to `to`. Returns the job as
 * it is now (the caller checks `status === to`; a job already there is left as it is, so a step that runs
 * twice changes nothing the second time), or undefined when `instanceId` runs no job (it was replaced by a
 * reschedule: the instance should stop). `closed_at` defaults to `now`; `code` to the error's code.
 */
export async function transition<T extends TransitionTarget>(
  db: D1Database,
  instanceId: string,
  from: readonly LiveStatus[],
  to: T,
  fields: TransitionFields[T],
  now: number,
  by: Actor = "gateway",
  code?: ErrorCode,
): Promise<StoredJob | undefined> {
  checkTime("now", now);
  checkActor(by);
  if (from.length === 0 || from.some((status) => status === to || (status !== "scheduled" && status !== "closing"))) {
    throw new TypeError(`No transition from ${from.join("|") || "nothing"} to ${to}.`);
  }
  const all: AnyFields = fields;
  checkFields(to, all);
  const closedAt = to === "closed" ? (all.closed_at ?? now) : undefined;
  if (closedAt !== undefined) checkTime("closed_at", closedAt);
  const update = db
    .prepare(
      `UPDATE close_jobs SET status = ?2, updated_at = ?3, revision = revision + 1,
  attempts = MAX(attempts, COALESCE(?4, 0)), closed_at = COALESCE(?5, closed_at),
  confirmed_by = COALESCE(?6, confirmed_by), error_code = COALESCE(?7, error_code),
  error_message = COALESCE(?8, error_message), order_json = COALESCE(?10, order_json)
WHERE instance_id = ?1 AND status IN (SELECT value FROM json_each(?9))`,
    )
    .bind(
      instanceId,
      to,
      now,
      all.attempts ?? null,
      closedAt ?? null,
      all.confirmed_by ?? null,
      all.error?.code ?? null,
      all.error?.message ?? null,
      JSON.stringify(from),
      all.order ? JSON.stringify(all.order) : null,
    );
  return changeJob(db, instanceId, update, {
    at: now,
    status: to,
    by,
    code: code ?? all.error?.code,
    pay_status: all.order?.pay_status,
  });
}

/**
 * The re-check after `closed` found the order no longer CLOSED: the job keeps its status, gains `late_payment_at` and
 * the query's data as `order`, and a history entry (event `late_payment`, the pay_status shown). Once per job: a
 * second call changes nothing. Returns the job as it is now.
 */
export async function recordLatePayment(
  db: D1Database,
  instanceId: string,
  order: OrderSnapshot,
  now: number,
): Promise<StoredJob | undefined> {
  checkTime("now", now);
  const update = db
    .prepare(
      `UPDATE close_jobs SET late_payment_at = ?2, order_json = ?3, updated_at = ?2, revision = revision + 1
WHERE instance_id = ?1 AND status = 'closed' AND late_payment_at IS NULL`,
    )
    .bind(instanceId, now, JSON.stringify(order));
  return changeJob(db, instanceId, update, {
    at: now,
    status: "closed",
    by: "gateway",
    pay_status: order.pay_status,
    event: "late_payment",
  });
}

/**
 * SparkPay notified a change of the job's order and a verified query showed it: the job keeps its status, gains the
 * query's data as `order`, and a history entry (event `notified`, the pay_status shown). Only while the job is in
 * `status` (a job that changed meanwhile is left as it is). Returns the job as it is now.
 */
export async function recordNotified(
  db: D1Database,
  instanceId: string,
  status: JobStatus,
  order: OrderSnapshot,
  now: number,
): Promise<StoredJob | undefined> {
  checkTime("now", now);
  const update = db
    .prepare(
      `UPDATE close_jobs SET order_json = ?3, updated_at = ?4, revision = revision + 1
WHERE instance_id = ?1 AND status = ?2`,
    )
    .bind(instanceId, status, JSON.stringify(order), now);
  return changeJob(db, instanceId, update, {
    at: now,
    status,
    by: "gateway",
    pay_status: order.pay_status,
    event: "notified",
  });
}

/**
 * How many close rounds a `closing` job has made, for GET while it retries, and the order as the round's verified
 * query showed it, when one answered. Not a change of status, so no history entry; never lowers the count, so a step
 * that runs again with an older count is harmless.
 */
export async function recordAttempts(
  db: D1Database,
  instanceId: string,
  attempts: number,
  now: number,
  order?: OrderSnapshot,
): Promise<StoredJob | undefined> {
  checkTime("attempts", attempts);
  checkTime("now", now);
  const [, read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `UPDATE close_jobs SET attempts = ?2, updated_at = ?3, order_json = COALESCE(?4, order_json)
WHERE instance_id = ?1 AND status = 'closing' AND attempts < ?2`,
        )
        .bind(instanceId, attempts, now, order ? JSON.stringify(order) : null),
      db.prepare(JOB_BY_INSTANCE).bind(instanceId),
    ]),
  );
  return jobIn(read);
}

/**
 * Where the delivery of the job's latest event stands, after a try (or before the first: `pending`, 0 attempts). Not a
 * change of status, so no history entry. A try for an older event than the one recorded changes nothing (a later event's
 * id extends its job's first one: evt_<instance>, then evt_<instance>_late_payment).
 */
export async function recordDelivery(
  db: D1Database,
  instanceId: string,
  state: { event_id: string; type: string; status: WebhookStatus; attempts: number; at: number; error?: string },
): Promise<StoredJob | undefined> {
  checkTime("at", state.at);
  const [, read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `UPDATE close_jobs SET webhook_event_id = ?2, webhook_type = ?3, webhook_status = ?4, webhook_attempts = ?5,
  webhook_at = ?6, webhook_error = ?7
WHERE instance_id = ?1
  AND (webhook_event_id IS NULL OR substr(?2, 1, length(webhook_event_id)) = webhook_event_id)`,
        )
        .bind(instanceId, state.event_id, state.type, state.status, state.attempts, state.at, state.error ?? null),
      db.prepare(JOB_BY_INSTANCE).bind(instanceId),
    ]),
  );
  return jobIn(read);
}
