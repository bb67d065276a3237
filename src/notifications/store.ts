import { d1Change } from "../closes/d1";
import { orderKey } from "../closes/ids";
import type { WebhookStatus } from "../closes/job";
import { sha256Hex } from "../sparkpay/hex";

/**
 * SparkPay's notifications and the orders' verified states in D1 (migrations/0006_notifications.sql). Each change is
 * one batch (one transaction), checking the state it starts from in the statement that makes it, as the close-job
 * store does.
 */

/** A notification's identity: the SHA-256 of its decrypted JSON (a retry or replay of it is the same). */
export const notificationDigest = sha256Hex;

/** The Workflow instance that handles a notification: one per digest, so a retry never starts a second. */
export function notificationInstanceId(digest: string): string {
  return `ntf_${digest.slice(0, 40)}`;
}

/** The order.updated event of an order in a pay_status: one per pair, the same id whoever records it first. */
export async function orderEventId(merchantNo: string, requestNo: string, payStatus: string): Promise<string> {
  return `evt_ord_${(await sha256Hex(`${orderKey(merchantNo, requestNo)}\n${payStatus}`)).slice(0, 40)}`;
}

export interface ReceivedNotification {
  digest: string;
  merchant_no: string;
  request_no: string;
  instance_id: string;
  /** How often this notification has arrived, this time included. */
  received: number;
}

/** Records a verified notification (or counts one more arrival of it). Returns how often it has arrived. */
export async function recordNotification(
  db: D1Database,
  note: Omit<ReceivedNotification, "received">,
  now: number,
): Promise<number> {
  const [, read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `INSERT INTO sparkpay_notifications (digest, merchant_no, request_no, received_at, last_received_at, instance_id)
VALUES (?1, ?2, ?3, ?4, ?4, ?5)
ON CONFLICT (digest) DO UPDATE SET received = received + 1, last_received_at = excluded.last_received_at`,
        )
        .bind(note.digest, note.merchant_no, note.request_no, now, note.instance_id),
      db.prepare("SELECT received FROM sparkpay_notifications WHERE digest = ?1").bind(note.digest),
    ]),
  );
  return Number((read?.results[0] as { received?: number } | undefined)?.received ?? 1);
}

/** Whether the Workflow confirmed it (a verified query answered) or gave up. */
export async function markNotification(
  db: D1Database,
  digest: string,
  status: "confirmed" | "unconfirmed",
): Promise<void> {
  await d1Change(() =>
    db.prepare("UPDATE sparkpay_notifications SET status = ?2 WHERE digest = ?1").bind(digest, status).run(),
  );
}

export interface OrderEventRow {
  event_id: string;
  pay_status: string;
  created: number;
  /** The verified query's data as the event carries it, as JSON (a Workflow step's result must be serializable). */
  data_json: string;
}

/**
 * Records what a verified query showed at `observedAtMs`, and returns the order.updated event it makes, if this
 * instance is the one that makes it: the state is newer than the order's recorded one and another pay_status (an
 * older observation, or the same pay_status, makes none), and no event for this pay_status exists. A step that runs
 * again finds its own event and returns it again.
 */
export async function recordOrderState(
  db: D1Database,
  instanceId: string,
  order: { merchant_no: string; request_no: string; pay_status: string; data: Record<string, unknown> },
  observedAtMs: number,
  now: number,
): Promise<OrderEventRow | undefined> {
  const key = orderKey(order.merchant_no, order.request_no);
  const eventId = await orderEventId(order.merchant_no, order.request_no, order.pay_status);
  const dataJson = JSON.stringify(order.data);
  const [, , read] = await d1Change(() =>
    db.batch([
      db
        .prepare(
          `INSERT INTO order_events (event_id, order_key, pay_status, observed_at, created, data_json, instance_id)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
WHERE NOT EXISTS (SELECT 1 FROM order_states WHERE order_key = ?2 AND (observed_at >= ?4 OR pay_status = ?3))
ON CONFLICT (event_id) DO NOTHING`,
        )
        .bind(eventId, key, order.pay_status, observedAtMs, now, dataJson, instanceId),
      db
        .prepare(
          `INSERT INTO order_states (order_key, merchant_no, request_no, pay_status, observed_at, event_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (order_key) DO UPDATE SET pay_status = excluded.pay_status, observed_at = excluded.observed_at,
  event_id = excluded.event_id
WHERE excluded.observed_at > order_states.observed_at`,
        )
        .bind(key, order.merchant_no, order.request_no, order.pay_status, observedAtMs, eventId),
      db
        .prepare(
          "SELECT event_id, pay_status, created, data_json FROM order_events WHERE event_id = ?1 AND instance_id = ?2",
        )
        .bind(eventId, instanceId),
    ]),
  );
  return read?.results[0] as unknown as OrderEventRow | undefined;
}

/** Where an order event's delivery stands, after a try (or before the first: `pending`, 0 attempts). */
export async function recordOrderDelivery(
  db: D1Database,
  state: { event_id: string; status: WebhookStatus; attempts: number; at: number; error?: string },
): Promise<void> {
  await d1Change(() =>
    db
      .prepare(
        `UPDATE order_events SET webhook_status = ?2, webhook_attempts = ?3, webhook_at = ?4, webhook_error = ?5
WHERE event_id = ?1 AND (webhook_status IS NULL OR webhook_status != 'delivered')`,
      )
      .bind(state.event_id, state.status, state.attempts, state.at, state.error ?? null)
      .run(),
  );
}
