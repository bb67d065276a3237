import { d1Change, d1Read } from "./d1";
import { instanceIdPrefix, orderKey } from "./ids";
import { type Actor, jobFromRow, type StoredJob } from "./job";
import {
  CURRENT_JOB_ID,
  changed,
  checkActor,
  checkTime,
  JOB_BY_ID,
  JOB_OF_ORDER,
  jobIn,
  MAX_RESCHEDULES,
  RESCHEDULE_ENTRY,
  recordChange,
  selectJob,
} from "./rows";

export { HISTORY_SHOWN, MAX_RESCHEDULES } from "./rows";

/**
 * Close jobs in D1 (the tables of migrations/): the source of truth for a job's status and history, since Workflows
 * keep instances for 30 days only. Here: the reads, the changes the routes make (create, reschedule, cancel) and the
 * repair's (reinstance, ./repair.ts); the Workflow's changes are in ./transitions.ts, built from the same pieces
 * (./rows.ts).
 *
 * Every function is one `batch`, which D1 runs as one transaction with no other query in between. So a
 * change checks the state it starts from in the statement that makes it (never read, decide, then write:
 * two racing PUTs would both decide to create), and writes its history row in the same transaction.
 * A history row is numbered by the job's revision, which only a change bumps: when the change did not
 * happen, the row for the current revision exists already and the insert does nothing.
 */

/** The last file in migrations/, as `wrangler d1 migrations apply` records it in d1_migrations (a test checks). */
export const NEWEST_MIGRATION = "0007_order_creations.sql";

/**
 * Whether the database answers for the store's tables as this code reads them, i.e. every migration has been applied
 * (for /healthz): the tables read, and the newest migration is recorded, so a database one migration behind (a CHECK
 * that refuses the repair's history entries, say) is not ready either.
 */
export async function storeAnswers(db: D1Database): Promise<boolean> {
  try {
    const [, , , , applied] = await db.batch([
      db.prepare("SELECT 1 FROM close_orders LIMIT 1"),
      db.prepare("SELECT 1 FROM sparkpay_notifications, order_states, order_events, order_creations LIMIT 1"),
      db.prepare("SELECT order_json, late_payment_at, webhook_status FROM close_jobs LIMIT 1"),
      db.prepare("SELECT pay_status, event, close_at, previous_close_at FROM close_history LIMIT 1"),
      db.prepare("SELECT 1 FROM d1_migrations WHERE name = ?1").bind(NEWEST_MIGRATION),
    ]);
    return (applied?.results.length ?? 0) > 0;
  } catch {
    return false; // no such table, or D1 out of reach: either way the durable closes cannot work now
  }
}

/** How many of an order's jobs a listing returns, the newest first. */
export const JOBS_LISTED = 20;
const JOBS_OF_ORDER = `${selectJob("j.order_key = ?1")} ORDER BY j.generation DESC LIMIT ${JOBS_LISTED}`;

/** The order's jobs, the current one first, then the earlier ones (cancelled, failed) it replaced, newest first. */
export async function listJobs(db: D1Database, merchantNo: string, requestNo: string): Promise<StoredJob[]> {
  const result = await d1Read(() => db.prepare(JOBS_OF_ORDER).bind(orderKey(merchantNo, requestNo)).run());
  return result.results.map(jobFromRow);
}

/** The order's current job, or undefined if it never had one. */
export async function getJob(db: D1Database, merchantNo: string, requestNo: string): Promise<StoredJob | undefined> {
  return jobIn(await d1Read(() => db.prepare(JOB_OF_ORDER).bind(orderKey(merchantNo, requestNo)).run()));
}

/**
 * Live jobs that should have moved on by `now` (for ./repair.ts), the longest quiet first, at most `limit` of each kind:
 * `scheduled` ones whose close_at is `lateS` past (their instance wakes at close_at and makes them `closing` at once),
 * and `closing` ones with no round counted for the gap their last round was followed by (`gapS(attempts)`: the
 * Workflow's doubling, capped) plus `lateS`.
 */
export async function overdueJobs(
  db: D1Database,
  now: number,
  lateS: number,
  gap: { firstS: number; maxS: number },
  limit: number,
): Promise<StoredJob[]> {
  checkTime("now", now);
  const [scheduled, closing] = await d1Read(() =>
    db.batch([
      db
        .prepare(`${selectJob("j.status = 'scheduled' AND j.close_at <= ?1")} ORDER BY j.close_at LIMIT ?2`)
        .bind(now - lateS, limit),
      db
        .prepare(
          `${selectJob(
            "j.status = 'closing' AND j.updated_at + MIN(?3, ?2 * (1 << MIN(MAX(j.attempts, 1) - 1, 20))) <= ?1",
          )} ORDER BY j.updated_at LIMIT ?4`,
        )
        .bind(now - lateS, gap.firstS, gap.maxS, limit),
    ]),
  );
  return [...(scheduled?.results ?? []), ...(closing?.results ?? [])].map(jobFromRow);
}

export interface NewJob {
  merchant_no: string;
  request_no: string;
  close_at: number;
  now: number;
  by: Actor;
}

/**
 * Starts the order's next job, `scheduled`, unless its current job is still alive (scheduled, closing),
 * `closed` or `not_closable`: then that job, with `created: false`. Of racing creates exactly one creates; the others
 * get its job. The caller starts the job's Workflow instance (`job.instance_id`) when `created`.
 */
export async function createJob(db: D1Database, input: NewJob): Promise<{ job: StoredJob; created: boolean }> {
  checkTime("close_at", input.close_at);
  checkTime("now", input.now);
  checkActor(input.by);
  const key = orderKey(input.merchant_no, input.request_no);
  const prefix = await instanceIdPrefix(key);
  const [, insert, , read] = await d1Change(() =>
    db.batch([
      // The check and the move to the next generation are one statement: no create can slip in between.
      db
        .prepare(
          `INSERT INTO close_orders (order_key, current_job, generation) VALUES (?1, ?2 || '_g1', 1)
ON CONFLICT (order_key) DO UPDATE SET generation = generation + 1, current_job = ?2 || '_g' || (generation + 1)
WHERE (SELECT status FROM close_jobs WHERE id = close_orders.current_job) IN ('cancelled', 'failed')`,
        )
        .bind(key, prefix),
      // A job for the current id exists unless the statement above just moved it.
      db
        .prepare(
          `INSERT INTO close_jobs (id, instance_id, order_key, merchant_no, request_no, generation, status, close_at,
  created_at, updated_at, attempts, revision)
SELECT current_job, current_job, order_key, ?2, ?3, generation, 'scheduled', ?4, ?5, ?5, 0, 1
FROM close_orders WHERE order_key = ?1
ON CONFLICT DO NOTHING`,
        )
        .bind(key, input.merchant_no, input.request_no, input.close_at, input.now),
      recordChange(db, `id = ${CURRENT_JOB_ID}`, key, {
        at: input.now,
        status: "scheduled",
        by: input.by,
        close_at: input.close_at,
      }),
      db.prepare(JOB_OF_ORDER).bind(key),
    ]),
  );
  const job = jobIn(read);
  if (!job) throw new Error("close_jobs: the order has no job right after creating one.");
  return { job, created: changed(insert) };
}

/**
 * Moves a `scheduled` job to `closeAt` under a new Workflow instance id (a sleeping instance cannot be
 * moved, and Cloudflare never accepts an id twice): the caller terminates the old instance and starts
 * `job.instance_id`. Undefined when the job is no longer `scheduled` under the instance it had, or has been
 * rescheduled MAX_RESCHEDULES times. The history gains a `scheduled` entry with the new close_at and the one it
 * replaced.
 */
export function reschedule(
  db: D1Database,
  job: Pick<StoredJob, "id" | "order_key" | "close_at" | "instance_id">,
  closeAt: number,
  now: number,
  by: Actor,
): Promise<StoredJob | undefined> {
  checkTime("close_at", closeAt);
  const entry = { at: now, status: "scheduled", by, close_at: closeAt, previous_close_at: job.close_at } as const;
  return moveInstance(db, { ...job, status: "scheduled" }, closeAt, MAX_RESCHEDULES, entry);
}

/**
 * The repair of a `scheduled` or `closing` job whose Workflow instance died or never ran (./repair.ts): the job, as it
 * is, moves to a new instance id, which the caller starts (the old one, if it ever wakes, runs no job). Undefined
 * when the job has changed since it was read (another status, or another instance). The history gains an entry with
 * the job's status and event `repaired`.
 */
export function reinstance(
  db: D1Database,
  job: Pick<StoredJob, "id" | "order_key" | "close_at" | "instance_id" | "status">,
  now: number,
): Promise<StoredJob | undefined> {
  const entry = { at: now, status: job.status, by: "gateway", event: "repaired" } as const;
  return moveInstance(db, job, job.close_at, Number.MAX_SAFE_INTEGER, entry);
}

/**
 * Gives the job the order's next instance id, if it is still `job.status` under `job.instance_id` and has been
 * rescheduled fewer than `maxReschedules` times, with `entry` in its history.
 */
async function moveInstance(
  db: D1Database,
  job: Pick<StoredJob, "id" | "order_key" | "instance_id" | "status">,
  closeAt: number,
  maxReschedules: number,
  entry: Parameters<typeof recordChange>[3],
): Promise<StoredJob | undefined> {
  checkTime("now", entry.at);
  checkActor(entry.by);
  const prefix = await instanceIdPrefix(job.order_key);
  const [, update, , read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `UPDATE close_orders SET generation = generation + 1
WHERE order_key = ?1 AND current_job = ?2
  AND EXISTS (SELECT 1 FROM close_jobs WHERE id = ?2 AND status = ?4 AND instance_id = ?5)
  AND (SELECT COUNT(*) - 1 FROM close_history WHERE job_id = ?2 AND ${RESCHEDULE_ENTRY}) < ?3`,
        )
        .bind(job.order_key, job.id, maxReschedules, job.status, job.instance_id),
      // A live job is its order's current one, and holds the order's last generation until the statement
      // above issues the next: so this runs exactly when that did, and never takes an id issued before.
      db
        .prepare(
          `UPDATE close_jobs SET generation = (SELECT generation FROM close_orders WHERE order_key = ?1),
  instance_id = ?3 || '_g' || (SELECT generation FROM close_orders WHERE order_key = ?1),
  close_at = ?4, updated_at = ?5, revision = revision + 1
WHERE id = ?2 AND status = ?6 AND instance_id = ?7
  AND generation < (SELECT generation FROM close_orders WHERE order_key = ?1 AND current_job = ?2)`,
        )
        .bind(job.order_key, job.id, prefix, closeAt, entry.at, job.status, job.instance_id),
      recordChange(db, "id = ?1", job.id, entry),
      db.prepare(JOB_BY_ID).bind(job.id),
    ]),
  );
  return changed(update) ? jobIn(read) : undefined;
}

/**
 * Cancels a `scheduled` job. Returns the job as it is now: `cancelled` (by this call or an earlier one),
 * or the status that kept it from being cancelled; undefined only for an unknown job. The caller
 * terminates the job's instance.
 */
export async function cancel(
  db: D1Database,
  job: Pick<StoredJob, "id">,
  now: number,
  by: Actor,
): Promise<StoredJob | undefined> {
  checkTime("now", now);
  checkActor(by);
  const [, , read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `UPDATE close_jobs SET status = 'cancelled', updated_at = ?2, revision = revision + 1
WHERE id = ?1 AND status = 'scheduled'`,
        )
        .bind(job.id, now),
      recordChange(db, "id = ?1", job.id, { at: now, status: "cancelled", by }),
      db.prepare(JOB_BY_ID).bind(job.id),
    ]),
  );
  return jobIn(read);
}
