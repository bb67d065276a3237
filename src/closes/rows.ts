import { d1Change } from "./d1";
import {
  ACTOR_PATTERN,
  type Actor,
  type ErrorCode,
  type HistoryEvent,
  type JobStatus,
  jobFromRow,
  type StoredJob,
} from "./job";

/**
 * The pieces every close-job statement is built from (./store.ts for the routes' reads and changes, ./transitions.ts
 * for the Workflow's): the job read with its latest history as one statement, the history row a change writes, and
 * the checks that guard the store's invariants.
 */

/**
 * How many of a job's history entries a read returns: the most recent ones. The whole history stays in D1; a read
 * stays one small row however often the job was rescheduled (D1 caps a row at 2 MB), and `history_total` says how
 * many there are.
 */
export const HISTORY_SHOWN = 100;
/** How often one job may be rescheduled; the next reschedule is 409 naming the limit. */
export const MAX_RESCHEDULES = 100;

/** The history entries that set a scheduled job's close_at: its creation and each reschedule (not a repair's). */
export const RESCHEDULE_ENTRY = "status = 'scheduled' AND event IS NULL";

/** The job with its latest history, as one statement. `where` is a fixed condition on `j`, never caller text. */
export function selectJob(where: string): string {
  return `SELECT j.id, j.instance_id, j.generation, j.order_key, j.merchant_no, j.request_no, j.status, j.close_at,
  j.created_at, j.updated_at, j.attempts, j.closed_at, j.confirmed_by, j.error_code, j.error_message, j.order_json,
  j.late_payment_at, j.revision AS history_total, j.webhook_event_id, j.webhook_type, j.webhook_status,
  j.webhook_attempts, j.webhook_at, j.webhook_error,
  (SELECT MAX(COUNT(*) - 1, 0) FROM close_history WHERE job_id = j.id AND ${RESCHEDULE_ENTRY}) AS reschedules,
  (SELECT json_group_array(json_object('seq', h.seq, 'at', h.at, 'status', h.status, 'by', h.actor, 'code', h.code,
    'pay_status', h.pay_status, 'event', h.event, 'close_at', h.close_at, 'previous_close_at', h.previous_close_at))
    FROM (SELECT * FROM close_history WHERE job_id = j.id ORDER BY seq DESC LIMIT ${HISTORY_SHOWN}) h) AS history
FROM close_jobs j WHERE ${where}`;
}

export const CURRENT_JOB_ID = "(SELECT current_job FROM close_orders WHERE order_key = ?1)";
export const JOB_OF_ORDER = selectJob(`j.id = ${CURRENT_JOB_ID}`);
export const JOB_BY_ID = selectJob("j.id = ?1");
export const JOB_BY_INSTANCE = selectJob("j.instance_id = ?1");

/**
 * The history row for the current revision of the job `where` (a fixed condition on ?1) selects, if it has
 * none yet: that is, only if the statement before it in the batch changed the job.
 */
export function recordChange(
  db: D1Database,
  where: string,
  selector: string,
  entry: {
    at: number;
    status: JobStatus;
    by: Actor;
    code?: ErrorCode | undefined;
    pay_status?: string | undefined;
    event?: HistoryEvent;
    /** The job's close_at after this change, on the entries that set it; and the one a reschedule replaced. */
    close_at?: number;
    previous_close_at?: number;
  },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO close_history (job_id, seq, at, status, actor, code, pay_status, event, close_at, previous_close_at)
SELECT id, revision, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM close_jobs WHERE ${where}
ON CONFLICT (job_id, seq) DO NOTHING`,
    )
    .bind(
      selector,
      entry.at,
      entry.status,
      entry.by,
      entry.code ?? null,
      entry.pay_status ?? null,
      entry.event ?? null,
      entry.close_at ?? null,
      entry.previous_close_at ?? null,
    );
}

/**
 * One change of the job that `instanceId` runs, as one transaction: `update` (which checks the state it starts from),
 * its history entry (written only if `update` changed the job), and the job as it is after.
 */
export async function changeJob(
  db: D1Database,
  instanceId: string,
  update: D1PreparedStatement,
  entry: Parameters<typeof recordChange>[3],
): Promise<StoredJob | undefined> {
  const [, , read] = await d1Change(() =>
    db.batch([
      update,
      recordChange(db, "instance_id = ?1", instanceId, entry),
      db.prepare(JOB_BY_INSTANCE).bind(instanceId),
    ]),
  );
  return jobIn(read);
}

export function jobIn(result: D1Result | undefined): StoredJob | undefined {
  const row = result?.results[0];
  return row === undefined ? undefined : jobFromRow(row);
}

/** What the change statement of a batch did. */
export function changed(result: D1Result | undefined): boolean {
  return (result?.meta.changes ?? 0) > 0;
}

// The routes and the Workflow check what they pass; these guard the store's invariants against a bug.
export function checkTime(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${name} must be Unix seconds.`);
}

export function checkActor(by: string): asserts by is Actor {
  if (!ACTOR_PATTERN.test(by)) throw new TypeError("by must be `caller:<caller id>` or `gateway`.");
}
