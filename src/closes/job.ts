import * as v from "valibot";
import { isOrderState, type OrderState } from "../sparkpay/schemas";
import type { CloseParams } from "./workflow";

/** A close job as the API shows it, and as the store keeps it. Times are Unix seconds. */

export const JOB_STATUSES = ["scheduled", "closing", "closed", "failed", "cancelled", "not_closable"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses a job ends in: nothing runs it any more. */
export type EndStatus = "closed" | "failed" | "not_closable";

/**
 * What made a job `closed`: always a verified Payment Order Query showing CLOSED, after a close SparkPay accepted
 * (`close-and-query`) or after a close whose answer was lost or a refusal (`order-query`). `close` (SparkPay's close
 * answer alone) is only on jobs closed before the gateway queried after every durable close.
 */
export const CONFIRMED_BY = ["close", "order-query", "close-and-query"] as const;
export type ConfirmedBy = (typeof CONFIRMED_BY)[number];

/** The order as a verified Payment Order Query showed it (src/sparkpay/schemas.ts). */
export type OrderSnapshot = OrderState;

/** Where the delivery of the job's latest event stands: tries left, delivered, or every try refused. */
export const WEBHOOK_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** The delivery of the job's latest event to CLOSE_WEBHOOK_URL. */
export interface WebhookState {
  event_id: string;
  type: string;
  status: WebhookStatus;
  /** Tries so far. */
  attempts: number;
  /** The last try's time (when delivered: the delivery's). */
  at: number;
  /** Why the last try failed (the receiver's HTTP status, or no answer), while not delivered. */
  last_error?: string;
}

/**
 * A history entry that is not a change of status: `late_payment` (the re-check, or a notification, found the order no
 * longer CLOSED), `repaired` (the job's Workflow instance had died or never run, and the job was given a new one:
 * ./repair.ts), `notified` (SparkPay notified a change of the order, and a verified query showed its pay_status).
 */
export const HISTORY_EVENTS = ["late_payment", "repaired", "notified"] as const;
export type HistoryEvent = (typeof HISTORY_EVENTS)[number];

/** SparkPay's codes are integers or text; the gateway's own are text. */
export type ErrorCode = string | number;

/**
 * Who made a change: a caller by its id (the first 6 bytes of its key's SHA-256, as in the logs) or the
 * gateway. The shape is exact, so a caller key (16 or more characters) can never be written in its place.
 */
export type Actor = `caller:${string}` | "gateway";
export const ACTOR_PATTERN = /^(?:caller:[0-9a-f]{12}|gateway)$/;

export interface HistoryEntry {
  at: number;
  status: JobStatus;
  by: Actor;
  code?: ErrorCode;
  /** The pay_status a verified query showed, on entries a query decided. */
  pay_status?: string;
  event?: HistoryEvent;
  /** On the entries that set the job's close_at (its creation, each reschedule): the close_at from then on. */
  close_at?: number;
  /** On a reschedule: the close_at it replaced. */
  previous_close_at?: number;
}

/** The job in the API. */
export interface CloseJob {
  merchant_no: string;
  request_no: string;
  status: JobStatus;
  close_at: number;
  created_at: number;
  updated_at: number;
  attempts: number;
  closed_at?: number;
  confirmed_by?: ConfirmedBy;
  error?: { code: ErrorCode; message: string };
  /** The order as the job's last verified Payment Order Query showed it (pay_status verbatim). */
  order?: OrderSnapshot;
  /** When the re-check after `closed` found the order no longer CLOSED (a payment that arrived after the close). */
  late_payment_at?: number;
  /** How often the job was rescheduled (at most MAX_RESCHEDULES). */
  reschedules: number;
  /** Its latest event's delivery, once one was tried (absent while webhooks are off). */
  webhook?: WebhookState;
  /** The most recent history entries (HISTORY_SHOWN at most), oldest first; `history_total` counts them all. */
  history: HistoryEntry[];
  history_total: number;
}

/** The job as the store returns it: what the routes and the Workflow need besides what callers see. */
export interface StoredJob extends CloseJob {
  /** Stable for the job's life; the job's first instance id. */
  id: string;
  /** The Workflow instance that runs the job now; a reschedule replaces it. */
  instance_id: string;
  /** The order's generation `instance_id` was issued with. */
  generation: number;
  order_key: string;
}

/** What the job's Workflow instance starts with; a `closing` job's rounds so far, so that a repaired one counts on. */
export function closeParams(job: StoredJob): CloseParams {
  const { id: job_id, instance_id, merchant_no, request_no, close_at, status, attempts } = job;
  return { job_id, instance_id, merchant_no, request_no, close_at, ...(status === "closing" ? { attempts } : {}) };
}

/** What callers see: nothing about instances, so they can change without changing the API. */
export function publicJob(job: StoredJob): CloseJob {
  const { id: _id, instance_id: _instance, generation: _generation, order_key: _key, ...visible } = job;
  return visible;
}

const time = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const code = v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.safeInteger())]);

const HistoryRowSchema = v.object({
  seq: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  at: time,
  status: v.picklist(JOB_STATUSES),
  by: v.pipe(v.string(), v.regex(ACTOR_PATTERN)),
  code: v.nullable(code),
  pay_status: v.nullable(v.string()),
  event: v.nullable(v.picklist(HISTORY_EVENTS)),
  close_at: v.nullable(time),
  previous_close_at: v.nullable(time),
});

/** One row of the store's job query, history as the JSON array SQLite built. */
export const JobRowSchema = v.object({
  id: v.string(),
  instance_id: v.string(),
  generation: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  order_key: v.string(),
  merchant_no: v.string(),
  request_no: v.string(),
  status: v.picklist(JOB_STATUSES),
  close_at: time,
  created_at: time,
  updated_at: time,
  attempts: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  closed_at: v.nullable(time),
  confirmed_by: v.nullable(v.picklist(CONFIRMED_BY)),
  error_code: v.nullable(code),
  error_message: v.nullable(v.string()),
  order_json: v.nullable(v.pipe(v.string(), v.parseJson(), v.check(isOrderState, "an order with its pay_status"))),
  late_payment_at: v.nullable(time),
  history_total: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  webhook_event_id: v.nullable(v.string()),
  webhook_type: v.nullable(v.string()),
  webhook_status: v.nullable(v.picklist(WEBHOOK_STATUSES)),
  webhook_attempts: v.nullable(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
  webhook_at: v.nullable(time),
  webhook_error: v.nullable(v.string()),
  reschedules: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  history: v.pipe(
    v.string(),
    v.parseJson(),
    v.array(HistoryRowSchema),
    v.minLength(1, "a job has at least its creation in its history"),
  ),
});

/**
 * The job a row describes. Throws when the row does not fit (a schema the code does not know, or rows
 * written by hand): a job that reads wrong must not be acted on.
 */
export function jobFromRow(row: unknown): StoredJob {
  const parsed = v.safeParse(JobRowSchema, row);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    // What was expected, never what was found: the value could be anything, even something secret.
    const where = v.getDotPath(issue) ?? "row";
    throw new Error(
      `close_jobs: a stored job does not read as one (${where}: expected ${issue.expected ?? issue.kind}).`,
    );
  }
  const {
    closed_at,
    confirmed_by,
    error_code,
    error_message,
    order_json,
    late_payment_at,
    history_total,
    reschedules,
    history,
    webhook_event_id,
    webhook_type,
    webhook_status,
    webhook_attempts,
    webhook_at,
    webhook_error,
    ...fields
  } = parsed.output;
  const webhook: WebhookState | undefined =
    webhook_event_id === null || webhook_status === null
      ? undefined
      : {
          event_id: webhook_event_id,
          type: webhook_type ?? "",
          status: webhook_status,
          attempts: webhook_attempts ?? 0,
          at: webhook_at ?? 0,
          ...(webhook_error === null ? {} : { last_error: webhook_error }),
        };
  // In the API's key order (valibot keeps the schema's), optional fields only when set.
  return {
    ...fields,
    ...(closed_at === null ? {} : { closed_at }),
    ...(confirmed_by === null ? {} : { confirmed_by }),
    ...(error_code === null ? {} : { error: { code: error_code, message: error_message ?? "" } }),
    // The schema checked it (isOrderState); valibot types a custom schema's output inside a pipe as `{}`.
    ...(order_json === null ? {} : { order: order_json as OrderState }),
    ...(late_payment_at === null ? {} : { late_payment_at }),
    reschedules,
    ...(webhook ? { webhook } : {}),
    history: history
      // json_group_array promises no order, so the rows carry their sequence number.
      .sort((a, b) => a.seq - b.seq)
      .map(({ at, status, by, code, pay_status, event, close_at, previous_close_at }) => ({
        at,
        status,
        by: by as Actor,
        ...(code === null ? {} : { code }),
        ...(pay_status === null ? {} : { pay_status }),
        ...(event === null ? {} : { event }),
        ...(close_at === null ? {} : { close_at }),
        ...(previous_close_at === null ? {} : { previous_close_at }),
      })),
    history_total,
  };
}
