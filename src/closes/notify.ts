import type { WorkflowStep } from "cloudflare:workers";
import { nowSeconds } from "../clock";
import type { Services } from "../services";
import type { WebhookSettings } from "../settings/webhooks";
import type { StoredJob, WebhookStatus } from "./job";
import { recordDelivery } from "./transitions";
import { type CloseEvent, deliver } from "./webhook";

/**
 * How a job's event reaches CLOSE_WEBHOOK_URL: at least once, NOTIFY_ATTEMPTS tries, 10 s apart doubling (the last
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

/** How one try went, and the job as it is after it was recorded. */
export interface DeliveryTry {
  /** The receiver's HTTP status when it accepted the event. */
  status?: number;
  /** Why it did not, when it did not. */
  error?: string;
  job: StoredJob | undefined;
}

/**
 * One try: sends `event`, then records on the job how it went (`statusIfRefused` when the receiver did not accept
 * it). Only the delivery's own failure is a refusal: a D1 failure while recording is thrown as itself, never
 * recorded as the receiver's. The Workflow's tries and the redelivery route both make theirs with this.
 */
export async function tryDelivery(
  db: D1Database,
  settings: WebhookSettings,
  instanceId: string,
  event: CloseEvent,
  attempts: number,
  statusIfRefused: Exclude<WebhookStatus, "delivered">,
  now: () => number = nowSeconds,
): Promise<DeliveryTry> {
  let status: number | undefined;
  let error: string | undefined;
  try {
    status = await deliver(settings, event);
  } catch (thrown) {
    error = reason(thrown);
  }
  const state = { event_id: event.id, type: event.type, attempts, at: now() };
  const job = await recordDelivery(
    db,
    instanceId,
    error === undefined ? { ...state, status: "delivered" } : { ...state, status: statusIfRefused, error },
  );
  return { ...(status === undefined ? {} : { status }), ...(error === undefined ? {} : { error }), job };
}

/**
 * Sends `event` and records each try on the job `instanceId` runs. `name` prefixes the steps (stable per event, as a
 * replay finds its steps by name). Returns the event id when delivered, "off" without CLOSE_WEBHOOK_URL,
 * "undelivered" after every try.
 */
export async function notify(
  step: WorkflowStep,
  services: () => Promise<Services>,
  instanceId: string,
  name: string,
  event: CloseEvent | null,
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
        await recordDelivery(db, instanceId, pending);
      }
      const last = attempt === NOTIFY_ATTEMPTS;
      const { status, error } = await tryDelivery(
        db,
        settings,
        instanceId,
        event,
        attempt,
        last ? "failed" : "pending",
      );
      if (error === undefined) {
        logger.info({ msg: "close webhook", event_id: event.id, type: event.type, status, attempt });
        return "delivered";
      }
      logger.warn({
        msg: last ? "close webhook undelivered" : "close webhook refused",
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
