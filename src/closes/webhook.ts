import type { WebhookSettings } from "../settings/webhooks";
import { encodeHex } from "../sparkpay/hex";
import { USER_AGENT } from "../version";
import type { CloseJob } from "./job";

/**
 * The gateway's webhooks (a job that ended, an order's new verified state): `{"id", "type", "created", "data"}`,
 * POSTed to CLOSE_WEBHOOK_URL with
 * `Gateway-Signature: t=<Unix s>,v1=<hex HMAC-SHA256(CLOSE_WEBHOOK_SECRET, "<t>.<raw body>")>`. The event id and
 * body are the same on every retry (only `t` and the signature change), so receivers can drop duplicates by id.
 */
export const SIGNATURE_HEADER = "Gateway-Signature";
export const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * `close.closed`, `close.failed`, `close.not_closable`: the job ended so (one per instance). `close.late_payment`: the
 * re-check after `closed` found the order no longer CLOSED (a payment arrived after the close).
 */
export type CloseEventType = "close.closed" | "close.failed" | "close.not_closable" | "close.late_payment";

export interface CloseEvent {
  id: string;
  type: CloseEventType;
  created: number;
  data: CloseJob;
}

/**
 * `order.updated`: SparkPay notified the gateway, and a verified Payment Order Query showed the order in a pay_status
 * the gateway had not reported yet. `data` is the query's data as SparkPay answered it (pay_status verbatim) and the
 * order's close job, when it has one. One event per order and pay_status (its id is derived from both).
 */
export interface OrderUpdatedEvent {
  id: string;
  type: "order.updated";
  created: number;
  data: Record<string, unknown> & { pay_status: string; close_job?: CloseJob };
}

/** Every event the gateway sends, all to CLOSE_WEBHOOK_URL with the same signature. */
export type GatewayEvent = CloseEvent | OrderUpdatedEvent;

/** The event for a job that ended; `instanceId` makes its id (one end per instance). Null for a job still live. */
export function closeEvent(instanceId: string, job: CloseJob): CloseEvent | null {
  if (job.status !== "closed" && job.status !== "failed" && job.status !== "not_closable") return null;
  return { id: `evt_${instanceId}`, type: `close.${job.status}`, created: job.updated_at, data: job };
}

/** The event for a late payment the re-check found; one per instance, so its id is the instance's with a suffix. */
export function latePaymentEvent(instanceId: string, job: CloseJob): CloseEvent {
  return { id: `evt_${instanceId}_late_payment`, type: "close.late_payment", created: job.updated_at, data: job };
}

const encoder = new TextEncoder();

export async function signatureHeader(secret: string, body: string, timestamp: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${body}`)));
  return `t=${timestamp},v1=${encodeHex(mac)}`;
}

/** Sends the event once. Throws unless the receiver answers 2xx (never with the receiver's body: it could hold anything). */
export async function deliver(settings: WebhookSettings, event: GatewayEvent): Promise<number> {
  const body = JSON.stringify(event);
  const response = await fetch(settings.url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "User-Agent": USER_AGENT,
      [SIGNATURE_HEADER]: await signatureHeader(settings.secret, body, Math.floor(Date.now() / 1000)),
    },
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) {
    throw new Error(`The webhook receiver answered HTTP ${response.status}.`);
  }
  return response.status;
}
