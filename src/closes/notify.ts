import type { WorkflowStep } from "cloudflare:workers";
import { nowSeconds } from "../clock";
import type { Services } from "../services";
import type { WebhookSettings } from "../settings/webhooks";
import type { StoredJob, WebhookStatus } from "./job";
import { recordDelivery } from "./transitions";
import { deliver, type GatewayEvent } from "./webhook";

/**
 * How an event (a close job's, or an order's order.updated) reaches CLOSE_WEBHOOK_URL: at least once, NOTIFY_ATTEMPTS tries, 10 s apart doubling (the last
 * ~23 h after the first), each its own Workflow step whose failure is an outcome, not a throw: so a refused try is one
 * structured log line (never an uncaught error with a stack), and the job shows where its delivery stands
 * (`webhook`: pending, delivered, failed) after every try. The event (id, body) is built from the saved job, so every
 * try sends the same one.
 */
export const NOTIFY_ATTEMPTS = 14;
const FIRST_PAUSE_S = 10;
/** A try's D1 writes are retried as the other D1 steps are; a repeat re-sends the event (at least once). */
const TRY_STEP = { retries: { limit: 5, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" } as const;

/** Why a try failed, in a few words for the job and the log: the receiver's status, or no answer. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 200);
}

/** Where a delivery stands, as each try records it. */
export interface DeliveryState {
  event_id: string;
  type: string;
  status: WebhookStatus;
  attempts: number;
  at: number;
  error?: string;
}

/** Records a delivery's state where its event belongs (the close job, or the order event), in D1. */
export type DeliveryRecorder<T> = (db: D1Database, state: DeliveryState) => Promise<T>;

/** A close job's event: its deliveries are recorded on the job its instance runs. */
export function onJob(instanceId: string): DeliveryRecorder<StoredJob | undefined> {
  return (db, state) => recordDelivery(db, instanceId, state);
}

/** How one try went, and what recording it returned (the job, for a close job's event). */
export interface DeliveryTry<T> {
  /** The receiver's HTTP status when it accepted the event. */
  status?: number;
  /** Why it did not, when it did not. */
  error?: string;
  recorded: T;
}

/**
 * One try: sends `event`, then records how it went (`statusIfRefused` when the receiver did not accept it). Only the
 * delivery's own failure is a refusal: a D1 failure while recording is thrown as itself, never recorded as the
 * receiver's. The Workflows' tries and the redelivery route all make theirs with this.
 */
export async function tryDelivery<T>(
  db: D1Database,
  settings: WebhookSettings,
  event: GatewayEvent,
  attempts: number,
  statusIfRefused: Exclude<WebhookStatus, "delivered">,
  record: DeliveryRecorder<T>,
  now: () => number = nowSeconds,
): Promise<DeliveryTry<T>> {
  let status: number | undefined;
  let error: string | undefined;
  try {
    status = await deliver(settings, event);
  } catch (thrown) {
    error = reason(thrown);
  }
  const state = { event_id: event.id, type: event.type, attempts, at: now() };
  const recorded = await record(
    db,
    error === undefined ? { ...state, status: "delivered" } : { ...state, status: statusIfRefused, error },
  );
  return { ...(status === undefined ? {} : { status }), ...(error === undefined ? {} : { error }), recorded };
}

/**
 * Sends `event` and records each try with `record`. `name` prefixes the steps (stable per event, as a replay finds
 * its steps by name). Returns the event id when delivered, "off" without CLOSE_WEBHOOK_URL, "undelivered" after every
 * try.
 */
export async function notify(
  step: WorkflowStep,
  services: () => Promise<Services>,
  name: string,
  event: GatewayEvent | null,
  record: DeliveryRecorder<unknown>,
): Promise<string> {
  if (!event) return "off";
  for (let attempt = 1; attempt <= NOTIFY_ATTEMPTS; attempt++) {
    const outcome = await step.do(`${name} #${attempt}`, TRY_STEP, async () => {
      const built = await services();
      const settings = built.webhooks();
      if (!settings) return "off";
      const db = built.closeJobsDb();
      const { logger } = built;
      if (attempt === 1) {
        const pending = {
          event_id: event.id,
          type: event.type,
          attempts: 0,
          status: "pending",
          at: nowSeconds(),
        } as const;
        await record(db, pending);
      }
      const last = attempt === NOTIFY_ATTEMPTS;
      const { status, error } = await tryDelivery(db, settings, event, attempt, last ? "failed" : "pending", record);
      if (error === undefined) {
        logger.info({ msg: "webhook", event_id: event.id, type: event.type, status, attempt });
        return "delivered";
      }
      logger.warn({
        msg: last ? "webhook undelivered" : "webhook refused",
        event_id: event.id,
        attempt,
        error,
      });
      return "refused";
    });
    if (outcome === "off") return "off";
    if (outcome === "delivered") return event.id;
    if (attempt < NOTIFY_ATTEMPTS)
      await step.sleep(`${name} pause #${attempt}`, FIRST_PAUSE_S * 2 ** (attempt - 1) * 1000);
  }
  return "undelivered";
}
