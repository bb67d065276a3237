import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { instanceId, instanceIdPrefix, orderKey } from "../../src/closes/ids";
import type { CloseJob } from "../../src/closes/job";
import type { Delivery } from "../support/webhook-receiver";
import { attempts, callGateway, closeOrder, docUrl, MERCHANT, sandboxCalls, sandboxOrder, uniqueId } from "./helpers";

/**
 * The order's verified state decides: a close SparkPay answered (refused, or "succeeded" without saying closed) whose
 * confirming query shows anything but CLOSED is 409 ORDER_NOT_CLOSABLE with the order, on the synchronous route and
 * as a durable job's `not_closable`; a durable job is `closed` only after a query shows CLOSED, and checks once more.
 * SparkPay's side is the sandbox; its paid value (SUCCESS) is the sandbox's GUESS, passed through, never interpreted.
 */

interface NotClosable {
  code: string;
  message: string;
  request_id: string;
  doc_url: string;
  order: { pay_status: string; request_no: string; merchant_no: string; [field: string]: unknown };
  refusal?: { http_status: number; code: string | number; message: string };
}

/** The customer pays the sandbox order now (it is created, unpaid, first), with options for the sandbox. */
async function pay(requestNo: string, options: Record<string, unknown> = {}) {
  const response = await fetch(`https://sandbox.control/__sandbox/orders/${MERCHANT}/${requestNo}/pay`, {
    method: "POST",
    body: JSON.stringify(options),
  });
  expect(response.status).toBe(200);
}

async function expire(requestNo: string) {
  await fetch(`https://sandbox.control/__sandbox/orders/${MERCHANT}/${requestNo}/expire`, { method: "POST" });
}

async function closeNotClosable(requestNo: string, overrides: Partial<Env> = {}) {
  const { response, requestId } = await closeOrder(requestNo, { env: overrides });
  const body = (await response.json()) as NotClosable;
  return { status: response.status, body, requestId, upstream: attempts(await sandboxCalls(requestId)) };
}

describe("synchronous close: the verified query decides", () => {
  it("a paid order: 409 ORDER_NOT_CLOSABLE with the order as SparkPay shows it and SparkPay's refusal", async () => {
    const request = uniqueId("OT");
    await pay(request);
    const { status, body, requestId, upstream } = await closeNotClosable(request);
    expect(status).toBe(409);
    expect(body).toEqual({
      code: "ORDER_NOT_CLOSABLE",
      message:
        "The order is SUCCESS, not closed. SparkPay refused the close (code 40012). Do not close it again: act on " +
        "its state in `order` (paid: fulfil it, or refund it).",
      request_id: requestId,
      doc_url: docUrl("ORDER_NOT_CLOSABLE"),
      order: expect.objectContaining({
        request_no: request,
        merchant_no: MERCHANT,
        pay_status: "SUCCESS",
        pay_time: expect.any(Number),
        real_pay_amount: "10.00",
      }),
      refusal: { http_status: 400, code: 40012, message: "order has been paid" },
    });
    expect(upstream).toEqual({ closes: 1, queries: 1 });
    // The order exactly as SparkPay's verified query sends it: every field, nothing added, dropped or mapped.
    const query = await callGateway({
      method: "GET",
      url: `https://gateway.test/v4/pay/orders/${MERCHANT}/${request}`,
    });
    expect(body.order).toEqual(((await query.response.json()) as { data: unknown }).data);
  });

  it.each([
    [40009, "parameter error", 400],
    ["ORDERPAID", "order paid", 400],
    [40012, "order has been paid", 409],
  ])(
    "whatever SparkPay's refusal (%s), the query decides, and the refusal comes along",
    async (code, message, http) => {
      const request = uniqueId("OT");
      await pay(request, { close_refusal: { status: http, code, message } });
      const { status, body } = await closeNotClosable(request);
      expect(status).toBe(409);
      expect(body.code).toBe("ORDER_NOT_CLOSABLE");
      expect(body.order.pay_status).toBe("SUCCESS");
      expect(body.refusal).toEqual({ http_status: http, code, message });
    },
  );

  it("an expired order, and a pay_status never seen before, pass through verbatim", async () => {
    const expired = uniqueId("OT");
    await closeOrder(uniqueId("OT")); // unrelated traffic in between changes nothing
    await pay(uniqueId("OT"));
    await expire(expired);
    const first = await closeNotClosable(expired);
    expect(first).toMatchObject({
      status: 409,
      body: { code: "ORDER_NOT_CLOSABLE", order: { pay_status: "EXPIRED" } },
    });
    expect(first.body.message).toMatch(/^The order is EXPIRED, not closed\./);

    const strange = uniqueId("OT");
    await pay(strange, { pay_status: "PARTIALLY_PAID_9" });
    const second = await closeNotClosable(strange);
    expect(second).toMatchObject({ status: 409, body: { order: { pay_status: "PARTIALLY_PAID_9" } } });
  });

  it("lost answers on a paid order: the retry's refusal and the query make it 409", async () => {
    const { status, body, upstream } = await closeNotClosable(uniqueId("FAULT_PAYLOST"));
    expect(status).toBe(409);
    expect(body).toMatchObject({
      code: "ORDER_NOT_CLOSABLE",
      order: { pay_status: "SUCCESS" },
      refusal: { code: 40012 },
    });
    expect(upstream).toEqual({ closes: 2, queries: 1 });
  });

  it("no answer to any close, a paid order: the close's own error, with the order attached (never dropped)", async () => {
    const { status, body, upstream } = await closeNotClosable(uniqueId("FAULT_PAIDDROP"));
    expect(status).toBe(502);
    expect(body).toMatchObject({ code: "UPSTREAM_UNREACHABLE", order: { pay_status: "SUCCESS" } });
    expect(body.refusal).toBeUndefined();
    expect(upstream).toEqual({ closes: 3, queries: 1 });
  });

  it("a contradicting success (pay_status PAYING in a close answer): 409 with the order as the query shows it", async () => {
    const { status, body } = await closeNotClosable(uniqueId("FAULT_NOTCLOSED"));
    expect(status).toBe(409);
    expect(body).toMatchObject({ code: "ORDER_NOT_CLOSABLE", order: { pay_status: "PAYING" } });
    expect(body.refusal).toBeUndefined();
  });

  it("SPARKPAY_CONFIRM_CLOSES=ambiguous trusts a signed success; =always queries after it and finds the order paid", async () => {
    const trusted = await closeOrder(uniqueId("FAULT_PAIDSUCCESS"));
    expect(trusted.response.status).toBe(200);
    expect(trusted.response.headers.get("X-Close-Confirmed-By")).toBeNull();

    const { status, body, upstream } = await closeNotClosable(uniqueId("FAULT_PAIDSUCCESS"), {
      SPARKPAY_CONFIRM_CLOSES: "always",
    });
    expect(status).toBe(409);
    expect(body).toMatchObject({ code: "ORDER_NOT_CLOSABLE", order: { pay_status: "SUCCESS" } });
    expect(upstream).toEqual({ closes: 1, queries: 1 });
  });

  it("SPARKPAY_CONFIRM_CLOSES=always on an open order: 200, X-Close-Confirmed-By: close-and-query, one more call", async () => {
    const request = uniqueId("OT");
    const { response, requestId } = await closeOrder(request, { env: { SPARKPAY_CONFIRM_CLOSES: "ALWAYS" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Close-Confirmed-By")).toBe("close-and-query");
    expect(attempts(await sandboxCalls(requestId))).toEqual({ closes: 1, queries: 1 });
    // The default asks nothing more.
    const plain = await closeOrder(uniqueId("OT"));
    expect(attempts(await sandboxCalls(plain.requestId))).toEqual({ closes: 1, queries: 0 });
  });

  it("SPARKPAY_CONFIRM_CLOSES with another value: refused by name, nothing sent", async () => {
    const request = uniqueId("OT");
    const { response, requestId } = await closeOrder(request, { env: { SPARKPAY_CONFIRM_CLOSES: "sometimes" } });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      code: "GATEWAY_MISCONFIGURED",
      message: "SPARKPAY_CONFIRM_CLOSES must be `ambiguous` or `always`.",
    });
    expect(await sandboxCalls(requestId)).toEqual([]);
  });
});

// --- Durable closes -------------------------------------------------------------------------------------------------

const closesUrl = (requestNo: string) => `https://gateway.test/v1/closes/${MERCHANT}/${requestNo}`;

async function job(requestNo: string, method = "GET") {
  const { response } = await callGateway({ method, url: closesUrl(requestNo) });
  return { status: response.status, body: (await response.json()) as CloseJob & { code?: string } };
}

/** PUTs a close now and runs its instance (sleeps disabled, so the re-check runs at once) to the end. */
async function closeDurably(requestNo: string) {
  const id = instanceId(await instanceIdPrefix(orderKey(MERCHANT, requestNo)), 1);
  const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, id);
  try {
    await instance.modify(async (m) => {
      await m.disableSleeps();
    });
    expect((await job(requestNo, "PUT")).status).toBe(202);
    await instance.waitForStatus("complete");
    return { output: (await instance.getOutput()) as Record<string, unknown>, id };
  } finally {
    await instance.dispose();
  }
}

async function events(requestNo: string): Promise<Array<{ id: string; type: string; data: CloseJob }>> {
  const response = await fetch(`https://webhooks.test/__received?request_no=${requestNo}`);
  const { deliveries } = (await response.json()) as { deliveries: Delivery[] };
  return deliveries.map((delivery) => JSON.parse(delivery.body));
}

describe("durable close: closed only when a query shows CLOSED; not_closable otherwise", () => {
  it("an open order: closed, confirmed by close-and-query, with the order; the re-check finds it still CLOSED", async () => {
    const request = uniqueId("OTD");
    const { output } = await closeDurably(request);
    expect(output).toMatchObject({ status: "closed", rounds: 1, recheck: "closed" });
    const { body } = await job(request);
    expect(body).toMatchObject({ status: "closed", confirmed_by: "close-and-query", order: { pay_status: "CLOSED" } });
    expect(body.late_payment_at).toBeUndefined();
    expect(body.history.at(-1)).toMatchObject({ status: "closed", pay_status: "CLOSED" });
    expect((await events(request)).map(({ type }) => type)).toEqual(["close.closed"]);
  });

  it("a paid order: not_closable with the order and a close.not_closable webhook; PUT 200 unchanged, DELETE 409", async () => {
    const request = uniqueId("OTD");
    await pay(request);
    const { output, id } = await closeDurably(request);
    expect(output).toMatchObject({ status: "not_closable", rounds: 1, code: "ORDER_NOT_CLOSABLE" });
    const { body } = await job(request);
    expect(body).toMatchObject({
      status: "not_closable",
      attempts: 1,
      error: { code: "ORDER_NOT_CLOSABLE", message: expect.stringMatching(/^The order is SUCCESS, not closed\./) },
      order: { pay_status: "SUCCESS", request_no: request },
    });
    expect(body.closed_at).toBeUndefined();
    expect(body.history.map(({ status, pay_status }) => ({ status, pay_status }))).toEqual([
      { status: "scheduled", pay_status: undefined },
      { status: "closing", pay_status: undefined },
      { status: "not_closable", pay_status: "SUCCESS" },
    ]);
    const [event, ...more] = await events(request);
    expect(more).toEqual([]);
    const { webhook, ...jobAtItsEnd } = body;
    expect(event).toEqual({ id: `evt_${id}`, type: "close.not_closable", created: body.updated_at, data: jobAtItsEnd });
    expect(webhook).toMatchObject({ event_id: `evt_${id}`, type: "close.not_closable", status: "delivered" });
    // Nothing to retry: PUT leaves it, DELETE cannot cancel it, and the order stays as the customer left it.
    expect(await job(request, "PUT")).toEqual({ status: 200, body });
    expect(await job(request, "DELETE")).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
    expect((await sandboxOrder(MERCHANT, request))?.pay_status).toBe("SUCCESS");
  });

  it("lost answers on a paid order end not_closable in one round, not 72 h of closes", async () => {
    const request = uniqueId("FAULT_PAYLOST");
    const { output } = await closeDurably(request);
    expect(output).toMatchObject({ status: "not_closable", rounds: 1 });
  });

  it("a signed close success while the order is paid: the job's query finds it, not_closable", async () => {
    const request = uniqueId("FAULT_PAIDSUCCESS");
    const { output } = await closeDurably(request);
    expect(output).toMatchObject({ status: "not_closable", rounds: 1 });
    expect((await job(request)).body).toMatchObject({ order: { pay_status: "SUCCESS" } });
  });

  it("an unverifiable answer is transient: the next round closes (confirmed by the query), never failed", async () => {
    const request = uniqueId("FAULT_BADSIGFIRST");
    const { output } = await closeDurably(request);
    expect(output).toMatchObject({ status: "closed", rounds: 2 });
    const { body } = await job(request);
    expect(body).toMatchObject({ status: "closed", attempts: 2, confirmed_by: "order-query" });
    expect(body.history.map(({ status }) => status)).toEqual(["scheduled", "closing", "closed"]);
  });

  it("a payment after the close: the re-check records it (status stays closed) and sends close.late_payment", async () => {
    const request = uniqueId("FAULT_LATEPAY");
    const { output, id } = await closeDurably(request);
    expect(output).toMatchObject({ status: "closed", recheck: "late_payment" });
    const { body } = await job(request);
    expect(body).toMatchObject({
      status: "closed",
      confirmed_by: "close-and-query",
      late_payment_at: expect.any(Number),
      order: { pay_status: "SUCCESS", closed_time: expect.any(Number), pay_time: expect.any(Number) },
    });
    expect(body.history.at(-1)).toEqual({
      at: body.late_payment_at,
      status: "closed",
      by: "gateway",
      pay_status: "SUCCESS",
      event: "late_payment",
    });
    const sent = await events(request);
    expect(sent.map(({ id, type }) => ({ id, type }))).toEqual([
      { id: `evt_${id}`, type: "close.closed" },
      { id: `evt_${id}_late_payment`, type: "close.late_payment" },
    ]);
    const { webhook, ...jobAtLatePayment } = body;
    expect(sent[1]?.data).toMatchObject(jobAtLatePayment);
    // The job shows the delivery of its latest event.
    expect(webhook).toMatchObject({ event_id: `evt_${id}_late_payment`, status: "delivered", attempts: 1 });
    expect(sent[0]?.data.order?.pay_status).toBe("CLOSED");
  });
});
