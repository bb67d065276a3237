import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { nowSeconds } from "../clock";
import { notify, onJob } from "../closes/notify";
import type { OrderUpdatedEvent } from "../closes/webhook";
import type { GatewayEnv } from "../env";
import { type Services, servicesFor } from "../services";
import { orderStateOf } from "../sparkpay/schemas";
import { applyToCloseJob, type CloseJobUpdate } from "./close-job";
import { markNotification, recordOrderDelivery, recordOrderState } from "./store";

/** What the receiver starts each verified notification's instance with (one instance per distinct notification). */
export interface NotificationParams {
  digest: string;
  merchant_no: string;
  request_no: string;
}

/** What the instance did, for introspection and logs. */
export interface NotificationOutput {
  /** confirmed: a verified query answered; unconfirmed: none did after every retry (nothing was sent). */
  status: "confirmed" | "unconfirmed";
  pay_status?: string;
  /** The order.updated event this instance made (null: the state was not new), and its delivery. */
  event_id?: string | null;
  webhook?: string;
  /** The close job's own event, when the state ended or marked the job. */
  close_webhook?: string;
}

/** D1 steps, retried as the close Workflow's are (from 1 s doubling, 16 times). */
const STORE_STEP = { retries: { limit: 16, delay: "1 second", backoff: "exponential" }, timeout: "1 minute" } as const;
/**
 * The confirming query: a failed one throws and is retried from 10 s, doubling, 10 times (the last ~2.8 h after the
 * first), about as long as SparkPay itself retries a notification.
 */
const QUERY_STEP = {
  retries: { limit: 10, delay: "10 seconds", backoff: "exponential" },
  timeout: "5 minutes",
} as const;

/**
 * One verified notification: nothing in it is believed but the order it names. A verified Payment Order Query says
 * what the order is; when that pay_status is newer than the one recorded, the order gets one order.updated event (its
 * id derived from the order and the pay_status, so retries, replays and late duplicates make none) with the query's
 * data, and the order's close job hears of it (./close-job.ts).
 */
export class NotificationWorkflow extends WorkflowEntrypoint<GatewayEnv, NotificationParams> {
  private services(): Promise<Services> {
    return servicesFor(this.env);
  }

  override async run(
    event: Readonly<WorkflowEvent<NotificationParams>>,
    step: WorkflowStep,
  ): Promise<NotificationOutput> {
    const { digest, merchant_no, request_no } = event.payload;
    const instanceId = event.instanceId;
    let shown: { data: Record<string, unknown>; observed_at: number };
    try {
      shown = await step.do("query order", QUERY_STEP, async () => {
        const { envelope } = await (await this.services())
          .sparkpay()
          .queryOrder({ merchant_no, request_no }, { requestId: crypto.randomUUID() });
        return { data: orderStateOf(envelope.data), observed_at: Date.now() };
      });
    } catch (error) {
      await step.do("record unconfirmed", STORE_STEP, async () => {
        const services = await this.services();
        services.logger.warn({
          msg: "notification unconfirmed",
          instance_id: instanceId,
          merchant_no,
          error: error instanceof Error ? error.name : typeof error,
        });
        await markNotification(services.closeJobsDb(), digest, "unconfirmed");
      });
      return { status: "unconfirmed" };
    }
    const order = { ...orderStateOf(shown.data as never), merchant_no, request_no };
    const recorded = await step.do("record order state", STORE_STEP, async () => {
      const db = (await this.services()).closeJobsDb();
      const state = { merchant_no, request_no, pay_status: order.pay_status, data: shown.data };
      return (await recordOrderState(db, instanceId, state, shown.observed_at, nowSeconds())) ?? null;
    });
    const output: NotificationOutput = { status: "confirmed", pay_status: order.pay_status, event_id: null };
    if (recorded) {
      const update: CloseJobUpdate = await step.do("tell close job", STORE_STEP, async () =>
        applyToCloseJob((await this.services()).closeJobsDb(), order, nowSeconds()),
      );
      const orderEvent: OrderUpdatedEvent = {
        id: recorded.event_id,
        type: "order.updated",
        created: recorded.created,
        data: {
          ...JSON.parse(recorded.data_json),
          pay_status: order.pay_status,
          ...(update.job ? { close_job: update.job } : {}),
        },
      };
      output.event_id = recorded.event_id;
      output.webhook = await notify(step, () => this.services(), "notify order", orderEvent, recordOrderDelivery);
      if (update.event && update.instance_id) {
        output.close_webhook = await notify(
          step,
          () => this.services(),
          "notify close",
          update.event,
          onJob(update.instance_id),
        );
      }
    }
    await step.do("record confirmed", STORE_STEP, async () => {
      const services = await this.services();
      services.logger.info({
        msg: "notification confirmed",
        instance_id: instanceId,
        merchant_no,
        pay_status: order.pay_status,
        event_id: output.event_id,
      });
      await markNotification(services.closeJobsDb(), digest, "confirmed");
    });
    return output;
  }
}
