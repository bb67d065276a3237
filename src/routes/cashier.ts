import type { Context } from "hono";
import { Hono } from "hono/tiny";
import * as v from "valibot";
import { nowSeconds } from "../clock";
import { MAX_CLOSE_AHEAD_S } from "../closes/scheduler";
import type { AppEnv } from "../env";
import { GatewayError, methodNotAllowed } from "../errors";
import { callerAuth } from "../middleware/caller-auth";
import { jsonBody } from "../middleware/json-body";
import { callerLimit, merchantLimit } from "../middleware/limits";
import { merchantScope } from "../middleware/merchant-scope";
import { validate } from "../middleware/validate";
import { CREATE_MAX_BODY_BYTES, requireForwardable } from "../orders/create-body";
import { CREATE_ORDER_PATH, CREATE_PRO_ORDER_PATH, type Edition } from "../sparkpay/constants";
import { CreateOrderRequestSchema, CreateProOrderRequestSchema } from "../sparkpay/order-schemas";
import { requestContext, withSparkPayRequestId } from "./sparkpay-call";

/** Set on a creation answered from the gateway's record: a repeat of a creation that succeeded (as Stripe names it). */
export const REPLAYED_HEADER = "Idempotent-Replayed";

/** The order must exist before its close: close_at at least this far ahead. */
export const MIN_CREATE_CLOSE_AHEAD_S = 60;
const CLOSE_AT_RULE =
  `close_at must be an integer: Unix seconds, at least ${MIN_CREATE_CLOSE_AHEAD_S} s and at most ` +
  `${MAX_CLOSE_AHEAD_S / 86400} days ahead; omit it for no close.`;

/** SparkPay's body and the gateway's own `close_at` (never forwarded): a durable close of the new order. */
function withCloseAt<S extends typeof CreateOrderRequestSchema | typeof CreateProOrderRequestSchema>(schema: S) {
  return v.looseObject(
    {
      ...schema.entries,
      close_at: v.optional(v.pipe(v.number(CLOSE_AT_RULE), v.safeInteger(CLOSE_AT_RULE))),
    },
    schema.message,
  );
}
export const CreateBody = withCloseAt(CreateOrderRequestSchema);
export const CreateProBody = withCloseAt(CreateProOrderRequestSchema);
type CreateInput = { out: { json: v.InferOutput<typeof CreateBody> } };

function requireCloseAtAhead(closeAt: number, now: number): void {
  if (closeAt < now + MIN_CREATE_CLOSE_AHEAD_S || closeAt > now + MAX_CLOSE_AHEAD_S) {
    throw new GatewayError("INVALID_REQUEST", `${CLOSE_AT_RULE} It is ${closeAt - now} s from now.`, {
      param: "close_at",
    });
  }
}

/**
 * A creation: the body checked (types, exact numbers, notify_url), then the creator (src/orders/creator.ts) does the
 * rest. The answer is SparkPay's verified envelope, with `close_job` beside it when close_at asked for one.
 */
async function createOrder(c: Context<AppEnv, string, CreateInput>, edition: Edition) {
  const services = c.get("services");
  const valid = c.req.valid("json");
  // Forwarded as parsed, not as valibot's output: that puts the known fields first, and the caller's order is kept.
  const body = (await c.req.json()) as Record<string, unknown>;
  requireForwardable(body);
  const creator = services.orderCreator();
  if (valid.notify_url !== undefined && valid.notify_url !== creator.notifyUrl) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `notify_url must be the gateway's own receiver, ${creator.notifyUrl}, or left out (the gateway sets it): ` +
        "SparkPay encrypts its notifications to the merchant key, which only the gateway holds, so no other URL " +
        "could read them.",
      { param: "notify_url" },
    );
  }
  const closeAt = valid.close_at;
  if (closeAt !== undefined) {
    requireCloseAtAhead(closeAt, nowSeconds());
    services.webhooks(); // never a close job with a promise of a webhook the gateway could not send
  }
  const { merchant_no, request_no } = valid;
  const by = `caller:${c.get("caller").id}` as const;
  const created = await withSparkPayRequestId(c, () =>
    creator.create({ edition, order: { merchant_no, request_no }, body, closeAt, by }, requestContext(c)),
  );
  const logFields = c.get("logFields");
  Object.assign(logFields, { upstream_status: created.replayed ? undefined : 200, replayed: created.replayed });
  if (created.replayed) c.header(REPLAYED_HEADER, "true");
  if (!created.closeJob) return c.json(created.envelope, 200);
  logFields.close_status = created.closeJob.status;
  return c.json({ ...created.envelope, close_job: created.closeJob }, 200);
}

/** The guards of both creation routes, in the close route's order, with the creation's body limit. */
function creationRoute<S extends typeof CreateBody | typeof CreateProBody, P extends string>(schema: S) {
  return [
    callerAuth(),
    callerLimit,
    jsonBody({ maxBytes: CREATE_MAX_BODY_BYTES }),
    validate<"json", S, P>("json", schema),
    merchantScope<AppEnv, P, CreateInput>((c) => c.req.valid("json").merchant_no),
    merchantLimit,
  ] as const;
}

/**
 * Payment Order Creation, standard and Pro: SparkPay's paths and bodies, signed here so no merchant service holds the
 * key, every order's notifications routed to the gateway, idempotent by request_no.
 */
export const cashier = new Hono<AppEnv>()
  .post(CREATE_ORDER_PATH, ...creationRoute<typeof CreateBody, typeof CREATE_ORDER_PATH>(CreateBody), (c) =>
    createOrder(c, "standard"),
  )
  .post(
    CREATE_PRO_ORDER_PATH,
    ...creationRoute<typeof CreateProBody, typeof CREATE_PRO_ORDER_PATH>(CreateProBody),
    (c) => createOrder(c as unknown as Context<AppEnv, string, CreateInput>, "pro"),
  )
  .all(CREATE_ORDER_PATH, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  })
  .all(CREATE_PRO_ORDER_PATH, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  });
