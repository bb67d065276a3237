import { type CloseJob, type OrderSnapshot, publicJob, type StoredJob } from "../closes/job";
import { getJob } from "../closes/store";
import { recordLatePayment, recordNotified, transition } from "../closes/transitions";
import { type CloseEvent, closeEvent, latePaymentEvent } from "../closes/webhook";
import { describeFailure } from "../failure";
import { PAY_STATUS_CLOSED, PAY_STATUS_OPEN } from "../sparkpay/constants";
import { SparkPayOrderNotClosableError } from "../sparkpay/errors";

/** What a new verified state did to the order's close job, if it has one, and the close event that makes. */
export interface CloseJobUpdate {
  job: CloseJob | null;
  instance_id: string | null;
  event: CloseEvent | null;
}

/**
 * What a new verified state means for the order's current close job, the way [2/5 order truth] reads a query:
 * - every job gets a history entry (event `notified`, the pay_status) and the query as its `order`;
 * - a `scheduled` job whose order is no longer open ends without a close sent: `closed` (confirmed by the order query)
 *   when it shows CLOSED, else `not_closable` with the query's pay_status; its instance, when it wakes, stops;
 * - a `closed` job whose order no longer shows CLOSED records the late payment at once (as the re-check would);
 * - a `closing` job is left to its round, whose own query decides.
 */
export async function applyToCloseJob(
  db: D1Database,
  order: OrderSnapshot & { merchant_no: string; request_no: string },
  now: number,
): Promise<CloseJobUpdate> {
  const found = await getJob(db, order.merchant_no, order.request_no);
  if (!found) return { job: null, instance_id: null, event: null };
  const instanceId = found.instance_id;
  let job: StoredJob | undefined = (await recordNotified(db, instanceId, found.status, order, now)) ?? found;
  let event: CloseEvent | null = null;
  if (job.status === "scheduled" && order.pay_status !== PAY_STATUS_OPEN) {
    job =
      order.pay_status === PAY_STATUS_CLOSED
        ? await transition(db, instanceId, ["scheduled"], "closed", { confirmed_by: "order-query", order }, now)
        : await transition(
            db,
            instanceId,
            ["scheduled"],
            "not_closable",
            { error: describeFailure(new SparkPayOrderNotClosableError(order, undefined, 0)), order },
            now,
          );
    event = job ? closeEvent(instanceId, publicJob(job)) : null;
  } else if (job.status === "closed" && order.pay_status !== PAY_STATUS_CLOSED && job.late_payment_at === undefined) {
    job = await recordLatePayment(db, instanceId, order, now);
    event = job?.late_payment_at === undefined ? null : latePaymentEvent(instanceId, publicJob(job));
  }
  return { job: job ? publicJob(job) : null, instance_id: instanceId, event };
}
