import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { nowSeconds } from "../clock";
import type { GatewayEnv } from "../env";
import { type Services, servicesFor } from "../services";
import { PAY_STATUS_CLOSED } from "../sparkpay/constants";
import { SparkPayOrderNotClosableError } from "../sparkpay/errors";
import { orderStateOf } from "../sparkpay/schemas";
import { type CloseJob, type EndStatus, type ErrorCode, type OrderSnapshot, publicJob, type StoredJob } from "./job";
import { notify, onJob } from "./notify";
import { failedRound, type RoundClock, type RoundOutcome, stoppedRound } from "./outcomes";
import { roundGapSeconds } from "./round-gaps";
import { SLOT_BUSY_PAUSE_S } from "./round-slots";
import { recordAttempts, recordLatePayment, type TransitionFields, transition } from "./transitions";
import { type CloseEvent, closeEvent, latePaymentEvent } from "./webhook";

/** What the route starts each job's instance with. Times are Unix seconds. */
export interface CloseParams {
  job_id: string;
  instance_id: string;
  merchant_no: string;
  request_no: string;
  close_at: number;
  /**
   * Close rounds the job made under earlier instances: set when the repair (./repair.ts) gives a `closing` job a new
   * instance, whose rounds go on counting from there.
   */
  attempts?: number;
}

/** What the instance did, for introspection and logs. */
export interface CloseOutput {
  status: "closed" | "failed" | "not_closable" | "stopped";
  rounds: number;
  code?: ErrorCode;
  /** The webhook: its event id when delivered, "off" without CLOSE_WEBHOOK_URL, "undelivered" after every retry. */
  webhook?: string;
  /**
   * After `closed`, the re-check: "off" (CLOSE_RECHECK_AFTER_S=0), "closed" (still CLOSED), "late_payment" (no longer
   * CLOSED: recorded, with its own webhook, `late_payment_webhook`), "unknown" (no query answered).
   */
  recheck?: "off" | "closed" | "late_payment" | "unknown";
  late_payment_webhook?: string;
}

/** The job as callers see it, if the change made it end (a step result must be serializable: null, not undefined). */
function ended(job: StoredJob | undefined): CloseJob | null {
  return job && (job.status === "closed" || job.status === "failed" || job.status === "not_closable")
    ? publicJob(job)
    : null;
}

/**
 * A D1 step: retried by Workflows should D1 fail, from 1 s doubling, 16 times (the last ~18 h after the first try):
 * a job is never left `closing` by a D1 outage shorter than that.
 */
const STORE_STEP = { retries: { limit: 16, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" } as const;
/**
 * A close round. SparkPay's failures are outcomes, not throws (the next round is ours to time), so Workflows retries
 * only what throws: a bug. It writes nothing to D1 (the round is counted in a step of its own). Repeating a round is
 * safe: closing is idempotent.
 */
const CLOSE_STEP = {
  retries: { limit: 3, delay: "30 seconds", backoff: "exponential" },
  timeout: "5 minutes",
} as const;
/**
 * The re-check's query: a failed query throws, and Workflows retries it from 1 minute, doubling, 8 times (the last
 * ~4 h after the first try).
 */
const RECHECK_STEP = {
  retries: { limit: 8, delay: "1 minute", backoff: "exponential" },
  timeout: "5 minutes",
} as const;

/**
 * One close job: waits until close_at, moves the job to `closing`, then runs the synchronous route's
 * close-and-confirm in rounds until it is closed, SparkPay refuses it for good, or CLOSE_GIVE_UP_AFTER_S
 * has passed since close_at. D1 (src/closes/store.ts) holds the job; an instance that no longer runs its job
 * (rescheduled or cancelled) stops without a change.
 */
export class CloseWorkflow extends WorkflowEntrypoint<GatewayEnv, CloseParams> {
  /** Built the way the app builds its own (src/services.ts), from this Worker's env. */
  private services(): Promise<Services> {
    return servicesFor(this.env);
  }

  override async run(event: Readonly<WorkflowEvent<CloseParams>>, step: WorkflowStep): Promise<CloseOutput> {
    const { instance_id: instanceId, close_at } = event.payload;
    if (close_at * 1000 > Date.now()) await step.sleepUntil("wait for close_at", close_at * 1000);

    const started = await step.do("start closing", STORE_STEP, async () => {
      const db = (await this.services()).closeJobsDb();
      const job = await transition(db, instanceId, ["scheduled"], "closing", {}, nowSeconds());
      return job?.instance_id === instanceId ? job.status : "gone";
    });
    if (started !== "closing") {
      (await this.services()).logger.info({ msg: "close job stopped", instance_id: instanceId, status: started });
      return { status: "stopped", rounds: 0 };
    }

    for (let round = (event.payload.attempts ?? 0) + 1; ; round++) {
      const outcome = await this.runRound(step, event.payload, round);
      if (outcome === "replaced") {
        (await this.services()).logger.info({ msg: "close job stopped", instance_id: instanceId, status: "replaced" });
        return { status: "stopped", rounds: round };
      }
      if (outcome.kind === "closed") {
        const { confirmed_by, order, at } = outcome;
        const fields = { attempts: round, confirmed_by, closed_at: at, order };
        const webhook = await this.end(step, instanceId, "record closed", "closed", fields);
        return { status: "closed", rounds: round, webhook, ...(await this.recheck(step, event.payload)) };
      }
      const error = { code: outcome.code, message: outcome.message };
      if (outcome.kind === "not_closable") {
        const fields = { attempts: round, error, order: outcome.order };
        const webhook = await this.end(step, instanceId, "record not closable", "not_closable", fields);
        return { status: "not_closable", rounds: round, code: outcome.code, webhook };
      }
      if (outcome.kind === "definitive" || outcome.at >= outcome.give_up_at) {
        const fields = { attempts: round, error, ...(outcome.order ? { order: outcome.order } : {}) };
        const webhook = await this.end(step, instanceId, "record failed", "failed", fields);
        return { status: "failed", rounds: round, code: outcome.code, webhook };
      }
      // Never past the give-up time: the last round runs at it.
      const gap = Math.max(1, Math.min(roundGapSeconds(round), outcome.give_up_at - outcome.at));
      await step.sleep(`wait after close #${round}`, gap * 1000);
    }
  }

  /** Records how the job ended, in the D1 step `name` (names stay as they are: a replay finds its steps by name). */
  private async end<T extends EndStatus>(
    step: WorkflowStep,
    instanceId: string,
    name: string,
    to: T,
    fields: TransitionFields[T],
  ): Promise<string> {
    const job = await step.do(name, STORE_STEP, async () => {
      const db = (await this.services()).closeJobsDb();
      return ended(await transition(db, instanceId, ["closing"], to, fields, nowSeconds()));
    });
    return this.notify(step, "notify", job && closeEvent(instanceId, job), instanceId);
  }

  /**
   * After `closed`: CLOSE_RECHECK_AFTER_S later, one more verified query. A crypto payment can arrive after the close;
   * if the order is no longer CLOSED the job records it (status stays `closed`) and sends `close.late_payment`.
   */
  private async recheck(
    step: WorkflowStep,
    params: CloseParams,
  ): Promise<Pick<CloseOutput, "recheck" | "late_payment_webhook">> {
    const afterS = await step.do("recheck delay", STORE_STEP, async () => (await this.services()).recheckAfterS);
    if (afterS === 0) return { recheck: "off" };
    await step.sleep("wait to recheck", afterS * 1000);
    let shown: OrderSnapshot;
    try {
      shown = await step.do("recheck", RECHECK_STEP, async () => {
        const order = { merchant_no: params.merchant_no, request_no: params.request_no };
        const { envelope } = await (await this.services())
          .sparkpay()
          .queryOrder(order, { requestId: crypto.randomUUID() });
        return orderStateOf(envelope.data);
      });
    } catch (error) {
      (await this.services()).logger.warn({
        msg: "close recheck failed",
        instance_id: params.instance_id,
        error: error instanceof Error ? error.name : typeof error,
      });
      return { recheck: "unknown" };
    }
    if (shown.pay_status === PAY_STATUS_CLOSED) return { recheck: "closed" };
    const job = await step.do("record late payment", STORE_STEP, async () => {
      const db = (await this.services()).closeJobsDb();
      const stored = await recordLatePayment(db, params.instance_id, shown, nowSeconds());
      return stored?.late_payment_at === undefined ? null : publicJob(stored);
    });
    const webhook = await this.notify(
      step,
      "notify late payment",
      job && latePaymentEvent(params.instance_id, job),
      params.instance_id,
    );
    return { recheck: "late_payment", late_payment_webhook: webhook };
  }

  /** Sends the event, with every try recorded on the job (./notify.ts). */
  private notify(step: WorkflowStep, name: string, event: CloseEvent | null, instanceId: string): Promise<string> {
    return notify(step, () => this.services(), name, event, onJob(instanceId));
  }

  /**
   * A close round as a step. Should the step still throw after its retries (a bug: SparkPay's failures are outcomes), the
   * round counts as a transient failure with code INTERNAL_ERROR (recorded in a step of its own, so a replay takes
   * the same path): the job goes on in rounds until it closes or reaches its give-up time, never stuck `closing`.
   */
  private async runRound(step: WorkflowStep, params: CloseParams, round: number): Promise<RoundOutcome | "replaced"> {
    let outcome: RoundOutcome;
    try {
      // No slot at the gate within its wait (a burst): pause, then ask again, in steps of their own.
      for (let tries = 1; ; tries++) {
        const name = tries === 1 ? `close #${round}` : `close #${round}, try ${tries}`;
        const result = await step.do(name, CLOSE_STEP, () => this.closeRound(params, round));
        if (result !== "busy") {
          outcome = result;
          break;
        }
        await step.sleep(`no slot for close #${round} (${tries})`, SLOT_BUSY_PAUSE_S * 1000);
      }
    } catch (error) {
      outcome = await step.do(`close #${round} stopped`, STORE_STEP, async () => {
        const services = await this.services();
        services.logger.error({
          msg: "close round stopped",
          instance_id: params.instance_id,
          round,
          error: error instanceof Error ? error.message : typeof error,
        });
        return stoppedRound(error, this.clock(services, params));
      });
    }
    // Its own step, after the round's outcome is saved: a D1 failure here can never turn a close into a failure.
    // A job the repair moved to another instance is that one's to finish: this one stops ("replaced"; null, as
    // steps recorded before the repair existed returned, goes on).
    const counted = await step.do(`count close #${round}`, STORE_STEP, async () => {
      const order = outcome.kind === "transient" ? (outcome.order ?? undefined) : undefined;
      const db = (await this.services()).closeJobsDb();
      const job = await recordAttempts(db, params.instance_id, round, nowSeconds(), order);
      return job ? null : "replaced";
    });
    return counted === "replaced" ? counted : outcome;
  }

  private clock(services: Services, params: CloseParams): RoundClock {
    return { at: nowSeconds(), giveUpAt: params.close_at + services.giveUpAfterS };
  }

  /**
   * A round in a slot of the gate (CLOSE_ROUNDS_AT_ONCE at once, ./round-gate.ts), or "busy" when none came in time.
   * Should the gate be out of reach, the step throws and Workflows retries it.
   */
  private async closeRound(params: CloseParams, round: number): Promise<RoundOutcome | "busy"> {
    const services = await this.services();
    const slot = await services.roundSlots().take();
    if (!slot) {
      services.logger.info({ msg: "close round waits", instance_id: params.instance_id, round });
      return "busy";
    }
    try {
      return await this.closeInSlot(services, params, round);
    } finally {
      await slot.leave();
    }
  }

  /**
   * One close-and-confirm, as the synchronous route runs it with SPARKPAY_CONFIRM_CLOSES=always: a job is `closed` only
   * once a verified query shows CLOSED. Failures are outcomes, bugs throw.
   */
  private async closeInSlot(services: Services, params: CloseParams, round: number): Promise<RoundOutcome> {
    let outcome: RoundOutcome;
    try {
      const order = { merchant_no: params.merchant_no, request_no: params.request_no };
      const client = services.sparkpay();
      const result = await client.closeOrder(order, { requestId: crypto.randomUUID() }, { confirm: "always" });
      // SparkPay accepted the close but its query did not answer in that call: one more query settles it.
      const shown =
        result.order ??
        orderStateOf((await client.queryOrder(order, { requestId: crypto.randomUUID() })).envelope.data);
      if (shown.pay_status !== PAY_STATUS_CLOSED)
        throw new SparkPayOrderNotClosableError(shown, undefined, result.attempts);
      const confirmed_by = result.confirmedBy === "order-query" ? "order-query" : "close-and-query";
      outcome = { kind: "closed", at: nowSeconds(), confirmed_by, order: shown };
    } catch (error) {
      outcome = failedRound(error, this.clock(services, params));
    }
    services.logger.info({
      msg: "close round",
      instance_id: params.instance_id,
      merchant_no: params.merchant_no,
      round,
      outcome: outcome.kind,
      code: outcome.kind === "closed" ? undefined : outcome.code,
      pay_status: outcome.order?.pay_status,
    });
    return outcome;
  }
}
