import { describe, expect, it } from "vitest";
import { callGateway, MERCHANT, type SandboxCall, sandboxCalls, uniqueId } from "./helpers";

/**
 * Order creation through the gateway (POST /v4/pay/cashier, POST /v4/pro/pay/cashier, GET /v4/pro/pay/orders/…),
 * against the sandbox, which verifies each creation's signature, stores the order and answers a cashier_url.
 */

const GATEWAY = "https://gateway.test";
const PUBLIC_ENV = { GATEWAY_PUBLIC_URL: "https://pay.example.com" };
const NOTIFY_URL = "https://pay.example.com/v1/sparkpay/notifications";
const CREATE_URL = `${GATEWAY}/v4/pay/cashier`;
const CREATE_PRO_URL = `${GATEWAY}/v4/pro/pay/cashier`;

function order(requestNo: string, extra: Record<string, unknown> = {}) {
  return {
    merchant_no: MERCHANT,
    request_no: requestNo,
    merchant_order_time: 1796365800,
    total_amount: "25.50",
    merchant_order_currency: "USDT",
    merchant_order_desc: "Two tickets",
    divide_detail: {
      seller_amount: "20.00",
      seller_addr: "0xseller",
      merchant_amount: "5.50",
      other_details: [{ receiver_addr: "0xother", amount: "0.00" }],
    },
    redirect_url: "https://shop.example.com/done",
    ...extra,
  };
}

async function create(body: unknown, { url = CREATE_URL, env = PUBLIC_ENV as Partial<Env> } = {}) {
  const { response, requestId } = await callGateway({ url, body: JSON.stringify(body), env });
  // biome-ignore lint/suspicious/noExplicitAny: the gateway's answer as it came; each test checks what it reads
  const json = (await response.json()) as any;
  return { response, json, calls: await sandboxCalls(requestId) };
}

const creations = (calls: SandboxCall[]) => calls.filter((call) => call.path.endsWith("/cashier"));

async function closeJob(requestNo: string) {
  const { response } = await callGateway({ method: "GET", url: `${GATEWAY}/v1/closes/${MERCHANT}/${requestNo}` });
  // biome-ignore lint/suspicious/noExplicitAny: the job as the gateway answered it
  return { status: response.status, job: (await response.json()) as any };
}

describe("creating an order", () => {
  it("signs and forwards the body field for field, notify_url the gateway's, and answers SparkPay's cashier_url", async () => {
    const requestNo = uniqueId("CREATE");
    const body = order(requestNo, { sparkpay_new_field: { nested: [1, "two"] } });
    const { response, json, calls } = await create(body);
    expect(response.status).toBe(200);
    expect(json).toMatchObject({ code: 0, data: { request_no: requestNo } });
    expect(json.data.cashier_url).toMatch(/\/__sandbox\/cashier\/M_SANDBOX_001\//);
    expect(json.close_job).toBeUndefined();
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const [sent] = creations(calls);
    expect(sent?.signature_valid).toBe(true);
    expect(JSON.parse(sent?.body ?? "")).toEqual({ ...body, notify_url: NOTIFY_URL });
    expect(sent?.body_keys.at(-1)).toBe("notify_url");
  });

  it("keeps a caller's notify_url in place when it is the gateway's, and refuses any other naming it", async () => {
    const requestNo = uniqueId("NOTIFY");
    const ok = await create({ notify_url: NOTIFY_URL, ...order(requestNo) });
    expect(ok.response.status).toBe(200);
    expect(creations(ok.calls)[0]?.body_keys[0]).toBe("notify_url");

    const other = await create(order(uniqueId("NOTIFY"), { notify_url: "https://shop.example.com/notify" }));
    expect(other.response.status).toBe(400);
    expect(other.json).toMatchObject({ code: "INVALID_REQUEST", param: "notify_url" });
    expect(other.json.message).toContain(NOTIFY_URL);
    expect(other.json.message).toMatch(/only the gateway holds/);
    expect(other.calls).toEqual([]);
  });

  it.each([
    [{ request_no: undefined }, "request_no", /request_no is required/],
    [{ total_amount: 25.5 }, "total_amount", /total_amount must be a string/],
    [{ merchant_order_timeout: 1.5 }, "merchant_order_timeout", /must be an integer/],
    [{ divide_detail: "none" }, "divide_detail", /divide_detail must be an object/],
    [
      { divide_detail: { other_details: [{ amount: 1 }] } },
      "divide_detail",
      /other_details\[\]\.amount must be a string/,
    ],
    [{ request_no: "has-dash" }, "request_no", /letters, digits and underscore/],
    [{ sparkpay_new_id: 2 ** 60 }, "sparkpay_new_id", /beyond 2\^53.*as a string/],
    [{ close_at: Math.floor(Date.now() / 1000) + 30 }, "close_at", /at least 60 s/],
    [{ close_at: "soon" }, "close_at", /close_at must be an integer/],
  ])("refuses %j with 400 naming the field, and sends nothing", async (change, param, message) => {
    const { response, json, calls } = await create({ ...order(uniqueId("BAD")), ...change });
    expect(response.status).toBe(400);
    expect(json).toMatchObject({ code: "INVALID_REQUEST", param });
    expect(json.message).toMatch(message);
    expect(calls).toEqual([]);
  });

  it("refuses a number JSON holds but JavaScript reads as Infinity (it would reach SparkPay as null)", async () => {
    const text = JSON.stringify(order(uniqueId("HUGE"))).replace(/}$/, ',"sparkpay_new_amount":1e400}');
    const { response, requestId } = await callGateway({ url: CREATE_URL, body: text, env: PUBLIC_ENV });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_REQUEST", param: "sparkpay_new_amount" });
    expect(await sandboxCalls(requestId)).toEqual([]);
  });

  it("takes a body up to 32 KiB (a long divide_detail) and refuses one over it with 413", async () => {
    const receivers = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ receiver_addr: `0x${String(i).padStart(40, "0")}`, amount: "0.01" }));
    const long = order(uniqueId("LONG"), { divide_detail: { other_details: receivers(300) } });
    expect(JSON.stringify(long).length).toBeGreaterThan(16 * 1024);
    expect((await create(long)).response.status).toBe(200);
    const huge = await create(order(uniqueId("HUGE"), { divide_detail: { other_details: receivers(600) } }));
    expect(huge.response.status).toBe(413);
    expect(huge.json.code).toBe("PAYLOAD_TOO_LARGE");
    expect(huge.calls).toEqual([]);
  });

  it("is refused by name while GATEWAY_PUBLIC_URL is unset: no order could be notified to the gateway", async () => {
    const { response, json, calls } = await create(order(uniqueId("NOURL")), { env: {} });
    expect(response.status).toBe(503);
    expect(json.code).toBe("GATEWAY_MISCONFIGURED");
    expect(json.message).toMatch(/GATEWAY_PUBLIC_URL/);
    expect(calls).toEqual([]);
  });

  it("passes SparkPay's refusal through, and a repeat asks SparkPay again (nothing was created)", async () => {
    const body = { ...order(uniqueId("REFUSED")), merchant_no: "M_NOT_AT_SPARKPAY" };
    const first = await create(body);
    expect(first.response.status).toBe(400);
    expect(first.json.code).toBe(40008);
    const again = await create(body);
    expect(again.json.code).toBe(40008);
    expect(creations(again.calls)).toHaveLength(1);
  });
});

describe("creating an order again", () => {
  it("answers a repeat of the same body from the record (Idempotent-Replayed), whatever its key order", async () => {
    const requestNo = uniqueId("REPEAT");
    const body = order(requestNo);
    const first = await create(body);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await create(reordered);
    expect(again.response.status).toBe(200);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(again.calls).toEqual([]);
  });

  it("refuses another body for the same order (request_no in any case) with 409 REQUEST_NO_REUSED", async () => {
    const requestNo = uniqueId("REUSED");
    await create(order(requestNo));
    const changed = await create(order(requestNo.toLowerCase(), { total_amount: "99.00" }));
    expect(changed.response.status).toBe(409);
    expect(changed.json).toMatchObject({ code: "REQUEST_NO_REUSED", param: "request_no" });
    expect(changed.calls).toEqual([]);
    const pro = await create(order(requestNo), { url: CREATE_PRO_URL });
    expect(pro.json.code).toBe("REQUEST_NO_REUSED");
  });

  it("creates one order when the same creation arrives twice at once", async () => {
    const body = order(uniqueId("TWICE"));
    const [a, b] = await Promise.all([create(body), create(body)]);
    const statuses = [a, b].map(({ response, json }) => `${response.status} ${json.code}`).sort();
    expect(["200 0,200 0", "200 0,409 CREATION_IN_PROGRESS"]).toContain(statuses.join(","));
    expect(creations([...a.calls, ...b.calls])).toHaveLength(1);
  });
});

describe("a creation whose answer was lost", () => {
  it("never relays a cashier_url that is no web page's (javascript:): the order exists, its link is unreadable", async () => {
    const requestNo = uniqueId("FAULT_CREATEJSLINK");
    const { response, json } = await create(order(requestNo));
    expect(response.status).toBe(502);
    expect(json).toMatchObject({ code: "ORDER_CREATED_ANSWER_LOST", order: { request_no: requestNo } });
    expect(JSON.stringify(json)).not.toContain("javascript:");
  });

  it("says the order was created when the query shows it, and says so again on a repeat, sending nothing", async () => {
    const requestNo = uniqueId("FAULT_CREATELOST");
    const first = await create(order(requestNo));
    expect(first.response.status).toBe(502);
    expect(first.json).toMatchObject({ code: "ORDER_CREATED_ANSWER_LOST", order: { request_no: requestNo } });
    expect(first.json.order.pay_status).toBe("PAYING");
    expect(first.json.message).toMatch(/cashier_url could not be read/);
    expect(first.calls.map((call) => call.method)).toEqual(["POST", "GET"]);
    const again = await create(order(requestNo));
    expect(again.json.code).toBe("ORDER_CREATED_ANSWER_LOST");
    expect(again.calls).toEqual([]);
  });

  it("says not created only when the query shows no such order, and lets the same request try again", async () => {
    const requestNo = uniqueId("FAULT_CREATEDROP");
    const first = await create(order(requestNo));
    expect(first.response.status).toBe(502);
    expect(first.json.code).toBe("ORDER_NOT_CREATED");
    const again = await create(order(requestNo));
    expect(again.json.code).toBe("ORDER_NOT_CREATED");
    expect(creations(again.calls)).toHaveLength(1);
  });

  it("says unknown when the query cannot tell, and a repeat asks SparkPay before creating anything", async () => {
    const requestNo = uniqueId("FAULT_CREATEUNKNOWN");
    const first = await create(order(requestNo));
    expect(first.response.status).toBe(502);
    expect(first.json.code).toBe("ORDER_CREATION_UNKNOWN");
    const again = await create(order(requestNo));
    expect(again.json.code).toBe("ORDER_CREATED_ANSWER_LOST");
    expect(again.calls.map((call) => call.method)).toEqual(["GET"]);
  });
});

describe("close_at: the order's expiry in the same call", () => {
  const soon = () => Math.floor(Date.now() / 1000) + 3600;

  it("answers the order with its close job, scheduled before SparkPay was asked, and never forwards close_at", async () => {
    const requestNo = uniqueId("EXPIRY");
    const closeAt = soon();
    const { response, json, calls } = await create(order(requestNo, { close_at: closeAt }));
    expect(response.status).toBe(200);
    expect(json.close_job).toMatchObject({ status: "scheduled", close_at: closeAt, request_no: requestNo });
    expect(creations(calls)[0]?.body_keys).not.toContain("close_at");
    const { job } = await closeJob(requestNo);
    expect(job.status).toBe("scheduled");
    expect(job.created_at).toBeLessThanOrEqual(json.close_job.created_at);
    const again = await create(order(requestNo, { close_at: closeAt }));
    expect(again.json.close_job.status).toBe("scheduled");
  });

  it.each([
    ["SparkPay refuses", "M_NOT_AT_SPARKPAY", "REFUSAL", 40008],
    ["SparkPay has no such order after a lost answer", MERCHANT, "FAULT_CREATEDROP", "ORDER_NOT_CREATED"],
  ])(
    "cancels the job when %s, and the same creation again is SparkPay's to answer",
    async (_, merchantNo, prefix, code) => {
      const requestNo = uniqueId(prefix);
      const { json } = await create({ ...order(requestNo, { close_at: soon() }), merchant_no: merchantNo });
      expect(json.code).toBe(code);
      const { response } = await callGateway({ method: "GET", url: `${GATEWAY}/v1/closes/${merchantNo}/${requestNo}` });
      expect(((await response.json()) as { status: string }).status).toBe("cancelled");
      // The same creation again is SparkPay's to answer, not refused for the job the gateway cancelled.
      const again = await create({ ...order(requestNo, { close_at: soon() }), merchant_no: merchantNo });
      expect(again.json.code).toBe(code);
    },
  );

  it("keeps the job when the order was created though its answer was lost", async () => {
    const requestNo = uniqueId("FAULT_CREATELOST");
    const { json } = await create(order(requestNo, { close_at: soon() }));
    expect(json.code).toBe("ORDER_CREATED_ANSWER_LOST");
    expect((await closeJob(requestNo)).job.status).toBe("scheduled");
  });
});

describe("the Pro edition", () => {
  it("creates at /v4/pro/pay/cashier and queries at /v4/pro/pay/orders/…, SparkPay's Pro answer as it is", async () => {
    const requestNo = uniqueId("PRO");
    const body = { merchant_no: MERCHANT, request_no: requestNo, pricing_amount: "10", pricing_currency: "EUR" };
    const created = await create(body, { url: CREATE_PRO_URL });
    expect(created.response.status).toBe(200);
    expect(creations(created.calls)[0]?.path).toBe("/v4/pro/pay/cashier");
    expect(JSON.parse(creations(created.calls)[0]?.body ?? "")).toEqual({ ...body, notify_url: NOTIFY_URL });
    const { response, requestId } = await callGateway({
      method: "GET",
      url: `${GATEWAY}/v4/pro/pay/orders/${MERCHANT}/${requestNo}`,
    });
    expect(response.status).toBe(200);
    const queried = (await response.json()) as { data: Record<string, unknown> };
    expect(queried.data).toMatchObject({ request_no: requestNo, pay_status: "PAYING", merchant_customer_no: MERCHANT });
    expect((await sandboxCalls(requestId))[0]?.path).toBe(`/v4/pro/pay/orders/${MERCHANT}/${requestNo}`);
  });

  it("answers 405 for another method, and the Pro query keeps the identifier rule", async () => {
    const wrong = await callGateway({ method: "GET", url: CREATE_PRO_URL });
    expect(wrong.response.status).toBe(405);
    expect(wrong.response.headers.get("allow")).toBe("POST");
    const bad = await callGateway({ method: "GET", url: `${GATEWAY}/v4/pro/pay/orders/${MERCHANT}/bad-id` });
    expect(bad.response.status).toBe(400);
  });
});
