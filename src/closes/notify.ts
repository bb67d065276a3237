import type { WorkflowStep } from "cloudflare:workers";
import { nowSeconds } from "../clock";
import type { Services } from "../services";
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
      const state = { event_id: event.id, type: event.type, attempts: attempt };
      if (attempt === 1)
        await recordDelivery(db, instanceId, { ...state, attempts: 0, status: "pending", at: nowSeconds() });
      try {
        const status = await deliver(settings, event);
        await recordDelivery(db, instanceId, { ...state, status: "delivered", at: nowSeconds() });
        logger.info({ msg: "close webhook", event_id: event.id, type: event.type, status, attempt });
        return "delivered";
      } catch (error) {
        const last = attempt === NOTIFY_ATTEMPTS;
        const error_ = reason(error);
        await recordDelivery(db, instanceId, {
          ...state,
          status: last ? "failed" : "pending",
          at: nowSeconds(),
          error: error_,
        });
        logger.warn({
          msg: last ? "close webhook undelivered" : "close webhook refused",
          event_id: event.id,
          attempt,
          error: error_,
        });
        return "refused";
      }
    });
    if (outcome === "off") return "off";
    if (outcome === "delivered") return event.id;
    if (attempt < NOTIFY_ATTEMPTS)
      await step.sleep(`${name} pause #${attempt}`, FIRST_PAUSE_S * 2 ** (attempt - 1) * 1000);
  }
  return "undelivered";
}
