import { nowSeconds } from "../clock";
import type { Actor, CloseJob } from "../closes/job";
import type { CloseScheduler } from "../closes/scheduler";
import { GatewayError } from "../errors";
import type { CreateOrderResult, SparkPayClient } from "../sparkpay/client";
import type { Edition } from "../sparkpay/constants";
import { SparkPayCreationLostError } from "../sparkpay/errors";
import type { CreateOrderResponse } from "../sparkpay/order-schemas";
import type { OrderRef } from "../sparkpay/schemas";
import type { RequestContext } from "../sparkpay/transport";
import { creationFingerprint, forwardedBody } from "./create-body";
import {
  type Claim,
  type CreationRow,
  claimCreation,
  leaveCreationUnknown,
  renewClaim,
  settleCreation,
} from "./creations";

/** What POST /v4/pay/cashier (or the Pro route) asks for, validated. */
export interface CreationRequest {
  edition: Edition;
  order: OrderRef;
  /** The caller's body as sent (close_at included). */
  body: Record<string, unknown>;
  closeAt: number | undefined;
  by: Actor;
}

/** What a creation answers: SparkPay's verified answer, whether it came from the record, and the order's close job. */
export interface Created {
  envelope: CreateOrderResponse;
  replayed: boolean;
  closeJob: CloseJob | undefined;
  sparkpayRequestId: string | undefined;
}

export interface OrderCreatorOptions {
  db: D1Database;
  client: SparkPayClient;
  /** Only asked for when a creation has close_at. */
  scheduler: () => CloseScheduler;
  /** The gateway's own receiver, the one notify_url SparkPay is given. */
  notifyUrl: string;
  /** A claim older than this was lost with its request (longer than SparkPay's deadline). */
  claimStaleAfterS: number;
  /** Told when SparkPay created the order but the record of it could not be written (the answer still goes out). */
  onRecordFailed?: (order: OrderRef, error: unknown) => void;
  now?: () => number;
}

/** How long a repeat waits for a creation in flight before asking again. */
const IN_PROGRESS_RETRY_AFTER_S = 2;

function inProgress(): GatewayError {
  return new GatewayError(
    "CREATION_IN_PROGRESS",
    "Another request is creating this order now; send the same request again shortly for its outcome.",
    { headers: { "Retry-After": String(IN_PROGRESS_RETRY_AFTER_S) } },
  );
}

/**
 * Order creation through the gateway, idempotent by request_no: one claim per order in D1 before SparkPay is asked;
 * a repeat of the same body is answered from the record, a different body is refused; a creation whose outcome was
 * left unknown is settled by Payment Order Query before anything is sent again. With close_at, the order's close job
 * exists before SparkPay is asked and is cancelled when SparkPay did not create the order.
 */
export class OrderCreator {
  private readonly options: OrderCreatorOptions;
  private readonly now: () => number;
  /** The one notify_url SparkPay is given for every order. */
  readonly notifyUrl: string;

  constructor(options: OrderCreatorOptions) {
    this.options = options;
    this.now = options.now ?? nowSeconds;
    this.notifyUrl = options.notifyUrl;
  }

  async create(request: CreationRequest, context: RequestContext): Promise<Created> {
    const { db, client, claimStaleAfterS } = this.options;
    const { edition, order } = request;
    const fingerprint = await creationFingerprint(edition, request.body);
    const claim: Claim = { order, edition, fingerprint, claimId: crypto.randomUUID() };
    const now = this.now();
    const row = await claimCreation(db, claim, now, now - claimStaleAfterS);
    if (row.claim_id !== claim.claimId) return this.repeat(request, row, fingerprint);

    if (row.claims > 1) {
      // An earlier claim of this body ended without knowing: SparkPay may have the order already.
      const shown = await this.settleUnknown(claim, () => client.findOrder(order, context, edition));
      if (shown) {
        await settleCreation(db, claim, { status: "answer_lost", order: shown }, this.now());
        throw new SparkPayCreationLostError("created", undefined, shown);
      }
    }
    const job = request.closeAt === undefined ? undefined : await this.scheduleClose(claim, request);
    // The job of an earlier, unknown try of this same body is this creation's too.
    const ownJob = job !== undefined && (job.created || row.claims > 1);
    if (!(await renewClaim(db, claim, this.now()))) throw inProgress();
    let result: CreateOrderResult;
    try {
      const body = forwardedBody(request.body, this.options.notifyUrl);
      result = await client.createOrder(edition, order, body, context);
    } catch (error) {
      await this.afterFailure(claim, error, ownJob, request.by);
      throw error;
    }
    await this.recordCreated(claim, result.envelope);
    return {
      envelope: result.envelope,
      replayed: false,
      closeJob: job?.job,
      sparkpayRequestId: result.sparkpayRequestId,
    };
  }

  /** A request for an order whose creation is recorded (or in flight) under another claim. */
  private async repeat(request: CreationRequest, row: CreationRow, fingerprint: string): Promise<Created> {
    if (row.fingerprint !== fingerprint) {
      throw new GatewayError(
        "REQUEST_NO_REUSED",
        `This order was already created through the gateway (${row.edition} edition) with a different body; ` +
          "a request_no names one order. Use a new request_no for a new order.",
        { param: "request_no" },
      );
    }
    if (row.status === "creating") throw inProgress();
    if (row.status === "answer_lost") throw new SparkPayCreationLostError("created", undefined, row.order);
    if (!row.answer) throw new Error("order_creations: a created row without its answer.");
    const closeJob = request.closeAt === undefined ? undefined : await this.currentJob(request);
    return { envelope: row.answer, replayed: true, closeJob, sparkpayRequestId: undefined };
  }

  /** The verified query's answer, or, when it fails, the claim left for the next try and ORDER_CREATION_UNKNOWN. */
  private async settleUnknown<T>(claim: Claim, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch {
      await leaveCreationUnknown(this.options.db, claim, this.now());
      throw new SparkPayCreationLostError("unknown", undefined);
    }
  }

  /**
   * The close job, before SparkPay is asked; without it (refused, D1 or Workflows down) nothing is created. A cancelled
   * job is opened again: a creation's close_at asks for the close afresh, and the job of an earlier try that SparkPay
   * refused was cancelled by the gateway, not the merchant.
   */
  private async scheduleClose(claim: Claim, request: CreationRequest) {
    try {
      return await this.options.scheduler().schedule(request.order, request.closeAt, request.by, { reopen: true });
    } catch (error) {
      await settleCreation(this.options.db, claim, null, this.now());
      throw error;
    }
  }

  /**
   * SparkPay created the order: its answer is recorded for repeats. Written twice at most; when D1 takes neither, the
   * caller still gets the cashier_url (the claim then goes stale, and a repeat learns the order by query).
   */
  private async recordCreated(claim: Claim, answer: CreateOrderResponse): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        return await settleCreation(this.options.db, claim, { status: "created", answer }, this.now());
      } catch (error) {
        if (tries >= 2) return this.options.onRecordFailed?.(claim.order, error);
      }
    }
  }

  /**
   * SparkPay did not create the order (a refusal, or a lost answer and a query showing no such order): the creation's
   * close job is cancelled, then the claim goes (in that order: a repeat that claims the order next must not find a
   * job that is about to be cancelled). Created after all: the outcome is recorded and the job stays. Unknown: the
   * claim is left for the next try and the job stays (closing an order that does not exist harms nothing).
   */
  private async afterFailure(claim: Claim, error: unknown, ownJob: boolean, by: Actor) {
    const { db } = this.options;
    if (error instanceof SparkPayCreationLostError && error.outcome === "created" && error.order) {
      await settleCreation(db, claim, { status: "answer_lost", order: error.order }, this.now());
      return;
    }
    if (error instanceof SparkPayCreationLostError && error.outcome === "unknown") {
      await leaveCreationUnknown(db, claim, this.now());
      return;
    }
    if (ownJob) {
      try {
        await this.options.scheduler().cancel(claim.order, by);
      } catch {
        // Already closing (close_at came first) or D1 did not answer: the job closes an order SparkPay does not have,
        // which harms nothing, and SparkPay's own refusal is what the caller must hear.
      }
    }
    await settleCreation(db, claim, null, this.now());
  }

  private async currentJob(request: CreationRequest): Promise<CloseJob | undefined> {
    try {
      return await this.options.scheduler().find(request.order);
    } catch (error) {
      if (error instanceof GatewayError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }
}
