import { createExecutionContext, introspectWorkflow, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloseJob } from "../../src/closes/job";
import app from "../../src/index";
import { recordOrderState } from "../../src/notifications/store";
import {
  callGateway,
  captureLogs,
  closeOrder,
  deliveries,
  MERCHANT,
  sandboxOrder,
  uniqueId,
  verifySignature,
} from "./helpers";

/**
 * SparkPay's payment notifications, end to end: the sandbox (SparkPay's side, node:crypto) encrypts and signs each
 * one and keeps it in its outbox; the test posts it to the gateway as SparkPay would, hands the gateway's answer back
 * to the sandbox, waits for the notification's Workflow and reads what the merchant's webhook receiver got.
 */

const NOTIFY_URL = "https://gateway.test/v1/sparkpay/notifications";
const SANDBOX = "https://sandbox.control/__sandbox";

interface Outgoing {
  id: string;
  request_no: string;
  attempt: number;
  body: string;
}

interface OrderUpdated {
  id: string;
  type: string;
  created: number;
  data: { request_no: string; merchant_no: string; pay_status: string; close_job?: CloseJob; [field: string]: unknown };
}

async function sandboxSettings(notify: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${SANDBOX}/settings`, { method: "PUT", body: JSON.stringify({ notify }) });
  expect(response.status).toBe(200);
}

async function control(requestNo: string, action: "pay" | "expire" | "notify", body: Record<string, unknown> = {}) {
  const response = await fetch(`${SANDBOX}/orders/${MERCHANT}/${requestNo}/${action}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

/** The next notification of the order waiting in the sandbox's outbox (it appears once the order changes). */
async function nextNotification(requestNo: string, after = new Set<string>()): Promise<Outgoing> {
  for (let tries = 0; tries < 200; tries++) {
    const { outbox } = (await (await fetch(`${SANDBOX}/notifications`)).json()) as { outbox: Outgoing[] };
    const found = outbox.find((entry) => entry.request_no === requestNo && !after.has(entry.id));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no notification of ${requestNo} in the sandbox's outbox`);
}

/** SparkPay's POST of a notification to the gateway, with the gateway's settings overridden as asked. */
async function post(body: string, overrides: Partial<Env> = {}, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const request = new Request(NOTIFY_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.7", ...headers },
    body,
  });
  const response = await app.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Posts the outbox entry, tells the sandbox the answer (so it stops or retries), and returns the answer. */
async function deliver(entry: Outgoing, overrides: Partial<Env> = {}) {
  const answer = await post(entry.body, overrides);
  await fetch(`${SANDBOX}/notifications/${entry.id}`, {
    method: "POST",
    body: JSON.stringify({ status: answer.status, text: answer.text }),
  });
  return answer;
}

/** Runs `act` with the notification Workflow introspected, and waits for every instance it started to complete. */
async function withInstances<T>(act: () => Promise<T>): Promise<{ result: T; outputs: Record<string, unknown>[] }> {
  const introspector = await introspectWorkflow(env.NOTIFY_WORKFLOW);
  try {
    await introspector.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const result = await act();
    const outputs: Record<string, unknown>[] = [];
    for (const instance of introspector.get()) {
      await instance.waitForStatus("complete");
      outputs.push((await instance.getOutput()) as Record<string, unknown>);
    }
    return { result, outputs };
  } finally {
    await introspector.dispose();
  }
}

/** The order.updated events the receiver got for the order, each checked against the webhook secret. */
async function orderEvents(requestNo: string): Promise<OrderUpdated[]> {
  const events: OrderUpdated[] = [];
  for (const delivery of await deliveries(requestNo)) {
    expect(await verifySignature(delivery.signature, delivery.body, env.CLOSE_WEBHOOK_SECRET)).toBe(true);
    const event = JSON.parse(delivery.body) as OrderUpdated;
    if (event.type === "order.updated") events.push(event);
  }
  return events;
}

const closesUrl = (requestNo: string) => `https://gateway.test/v1/closes/${MERCHANT}/${requestNo}`;
async function job(requestNo: string, method = "GET", body?: unknown) {
  const { response } = await callGateway({
    method,
    url: closesUrl(requestNo),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as CloseJob };
}

beforeAll(async () => {
  // Kept for the tests to post; an answer other than SUCCESS is retried after 10 ms × the schedule, and one nobody
  // answers (another file's payment) lapses after a minute.
  await sandboxSettings({ url: "outbox", mgf1: "SHA-256", sign_in: "head", retry_scale: 0.001, timeout_ms: 60_000 });
});
afterAll(async () => {
  await sandboxSettings({ url: null, mgf1: "SHA-256", sign_in: "head", retry_scale: 1 });
});

describe("notifications: received, confirmed, delivered", () => {
  it("a paid order: 200 SUCCESS as text, then one signed order.updated carrying the verified query's data", async () => {
    const request = uniqueId("NT");
    await control(request, "pay");
    const entry = await nextNotification(request);
    const { result: answer, outputs } = await withInstances(() => deliver(entry));
    expect(answer.status).toBe(200);
    expect(answer.text).toBe("SUCCESS");
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(outputs).toEqual([expect.objectContaining({ status: "confirmed", pay_status: "SUCCESS" })]);
    const events = await orderEvents(request);
    expect(events).toHaveLength(1);
    const { paid_after_close: _sandboxOnly, ...shown } = (await sandboxOrder(MERCHANT, request)) as Record<
      string,
      unknown
    >;
    expect(events[0]).toMatchObject({
      id: expect.stringMatching(/^evt_ord_[0-9a-f]{40}$/),
      type: "order.updated",
      data: { ...shown, merchant_no: MERCHANT, request_no: request, pay_status: "SUCCESS" },
    });
    expect(events[0]?.data.close_job).toBeUndefined();
    expect(events[0]?.data).not.toHaveProperty("notify_time"); // the notification's own fields are not believed
  });

  it("MGF1-SHA-1 (Java's default): read with SPARKPAY_NOTIFY_OAEP_MGF1=SHA-1, refused under SHA-256 with a hint", async () => {
    await sandboxSettings({ mgf1: "SHA-1" });
    try {
      const request = uniqueId("NT1");
      await control(request, "pay");
      const entry = await nextNotification(request);
      let refused: Awaited<ReturnType<typeof post>> | undefined;
      const lines = await captureLogs(async () => {
        refused = await post(entry.body);
      });
      expect(refused).toMatchObject({ status: 400, text: "FAIL" });
      const line = lines.find((text) => text.includes('"msg":"notification refused"'));
      expect(line).toMatch(/"stage":"aes_key"/);
      expect(line).toMatch(/set SPARKPAY_NOTIFY_OAEP_MGF1=SHA-1/);
      // The PKCS#1 form of the same key reads it too.
      const sha1 = { SPARKPAY_NOTIFY_OAEP_MGF1: "sha-1", SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.merchantPkcs1 };
      const { result: answer } = await withInstances(() => deliver(entry, sha1));
      expect(answer).toMatchObject({ status: 200, text: "SUCCESS" });
      expect((await orderEvents(request)).map((event) => event.data.pay_status)).toEqual(["SUCCESS"]);
      // And a SHA-256 notification is refused by a gateway set to SHA-1.
      await sandboxSettings({ mgf1: "SHA-256" });
      await control(request, "notify");
      const other = await nextNotification(request, new Set([entry.id]));
      expect(await post(other.body, sha1)).toMatchObject({ status: 400, text: "FAIL" });
      await deliver(other);
    } finally {
      await sandboxSettings({ mgf1: "SHA-256" });
    }
  });

  it("during a merchant-key rotation the next key decrypts what the current one cannot", async () => {
    const request = uniqueId("NTR");
    await control(request, "pay");
    const entry = await nextNotification(request);
    const rotating = { SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.otherMerchantPkcs8 + env.TEST_KEYS.merchantPkcs8 };
    const { result: answer } = await withInstances(() => deliver(entry, rotating));
    expect(answer).toMatchObject({ status: 200, text: "SUCCESS" });
    expect(await orderEvents(request)).toHaveLength(1);
    // Without the sandbox's key among them, nothing decrypts it.
    expect(await post(entry.body, { SPARKPAY_PRIVATE_KEY: env.TEST_KEYS.otherMerchantPkcs8 })).toMatchObject({
      status: 400,
      text: "FAIL",
    });
  });

  it("sign at the top level instead of in head is read the same; unknown extra fields reach nobody", async () => {
    await sandboxSettings({ sign_in: "top" });
    try {
      const request = uniqueId("NTT");
      await control(request, "pay");
      const { result: answer } = await withInstances(async () => deliver(await nextNotification(request)));
      expect(answer.status).toBe(200);
      await sandboxSettings({ sign_in: "head" });
      const extra = uniqueId("NTX");
      await control(extra, "pay");
      const first = await nextNotification(extra);
      await fetch(`${SANDBOX}/notifications/${first.id}`, { method: "POST", body: '{"status":0,"text":""}' });
      await control(extra, "notify", { fault: "extra_fields" });
      const entry = await nextNotification(extra, new Set([first.id]));
      expect((await withInstances(() => deliver(entry))).result.status).toBe(200);
      const [event] = await orderEvents(extra);
      expect(event?.data).not.toHaveProperty("sparkpay_new_field");
      expect(event?.data).not.toHaveProperty("risk_level");
      expect(await orderEvents(request)).toHaveLength(1);
    } finally {
      await sandboxSettings({ sign_in: "head" });
    }
  });
});

describe("notifications: every refusal looks the same, and nothing reaches the merchant", () => {
  it("tampered ciphertext, a wrong sign, another merchant's key, a wrong shape: the same 400 FAIL, logged by stage only", async () => {
    const request = uniqueId("NTF");
    await control(request, "pay");
    const genuine = await nextNotification(request);
    const seen = new Set([genuine.id]);
    const bodies: Record<string, string> = {};
    for (const fault of ["tampered", "badsign", "wrong_key"]) {
      await control(request, "notify", { fault });
      const entry = await nextNotification(request, seen);
      seen.add(entry.id);
      bodies[fault] = entry.body;
    }
    const parsed = JSON.parse(genuine.body) as { head: Record<string, string>; body: string };
    bodies.not_json = "{";
    bodies.no_aes_key = JSON.stringify({ ...parsed, head: { ...parsed.head, aes_key: undefined } });
    bodies.sign_replaced = JSON.stringify({ ...parsed, head: { ...parsed.head, sign: parsed.head.sign?.slice(4) } });
    const answers: Array<{ status: number; text: string; headers: string }> = [];
    const { outputs, result: lines } = await withInstances(() =>
      captureLogs(async () => {
        for (const body of Object.values(bodies)) {
          const answer = await post(body);
          const headers = [...answer.headers].filter(([name]) => name !== "x-request-id").join("|");
          answers.push({ status: answer.status, text: answer.text, headers });
        }
      }),
    );
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 400, text: "FAIL" });
    expect(outputs).toEqual([]); // no instance started: nothing was believed
    const refused = lines.filter((line) => line.includes('"msg":"notification refused"'));
    expect(refused.map((line) => /"stage":"(\w+)"/.exec(line)?.[1])).toEqual([
      "body",
      "signature",
      "aes_key",
      "shape",
      "shape",
      "signature",
    ]);
    const order = await sandboxOrder(MERCHANT, request);
    for (const line of lines) {
      expect(line).not.toContain((order as Record<string, string> | undefined)?.payment_order_no ?? "—");
      expect(line).not.toContain(request);
      expect(line).not.toMatch(/at \S+:\d+/);
    }
    expect(await orderEvents(request)).toEqual([]);
    await deliver(genuine); // the sandbox's retries stop
  });

  it("a body over 64 KiB: 400 FAIL, unread", async () => {
    const request = uniqueId("NTH");
    await control(request, "pay");
    const first = await nextNotification(request);
    await control(request, "notify", { fault: "huge" });
    const huge = await nextNotification(request, new Set([first.id]));
    expect(huge.body.length).toBeGreaterThan(64 * 1024);
    expect(await post(huge.body)).toMatchObject({ status: 400, text: "FAIL" });
    await deliver(first);
  });

  it("GET is 405; past the per-source limit 429 with Retry-After; without platform keys 503 and /healthz says so", async () => {
    const { response } = await callGateway({ method: "GET", url: NOTIFY_URL });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    const tight = { NOTIFY_RATE_LIMITER: env.TEST_TIGHT_LIMITER };
    const source = { "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 250)}` };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post("{}", tight, source)).status);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    const limited = await post("{}", tight, source);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    const off = { SPARKPAY_VERIFY_RESPONSES: "off" };
    const unverifiable = await post("{}", off);
    expect(unverifiable.status).toBe(503);
    expect(unverifiable.text).toMatch(/SPARKPAY_VERIFY_RESPONSES is off/);
    const { response: health } = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: off });
    expect(((await health.json()) as { notifications: unknown }).notifications).toMatchObject({ receivable: false });
  });

  it("/healthz: receivable, the MGF1 setting, and the notify_url to give SparkPay", async () => {
    const read = async (overrides: Partial<Env>) => {
      const { response } = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: overrides });
      return ((await response.json()) as { notifications: unknown }).notifications;
    };
    expect(await read({})).toEqual({ receivable: true, oaep_mgf1: "SHA-256", notify_url: null });
    expect(
      await read({ GATEWAY_PUBLIC_URL: "https://pay.example.com/gw/", SPARKPAY_NOTIFY_OAEP_MGF1: "SHA-1" }),
    ).toEqual({
      receivable: true,
      oaep_mgf1: "SHA-1",
      notify_url: "https://pay.example.com/gw/v1/sparkpay/notifications",
    });
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/healthz",
      env: { GATEWAY_PUBLIC_URL: "http://pay.example.com", SPARKPAY_NOTIFY_OAEP_MGF1: "SHA-512" },
    });
    const { checks } = (await response.json()) as { checks: Record<string, { message?: string }> };
    expect(checks.GATEWAY_PUBLIC_URL?.message).toMatch(/^GATEWAY_PUBLIC_URL must be the gateway's https:\/\/ URL/);
    expect(checks.SPARKPAY_NOTIFY_OAEP_MGF1?.message).toMatch(/must be `SHA-256` or `SHA-1`/);
  });
});

describe("notifications: one event per order and verified pay_status", () => {
  it("SparkPay's retries, a replay, a duplicate and a stale copy make one order.updated per state", async () => {
    const request = uniqueId("NTD");
    await closeOrder(request); // CLOSED: one notification
    await withInstances(async () => {
      const closed = await nextNotification(request);
      expect((await post(closed.body)).status).toBe(200); // SparkPay lost this answer: it retries
      await fetch(`${SANDBOX}/notifications/${closed.id}`, { method: "POST", body: '{"status":0,"text":""}' });
      const retry = await nextNotification(request, new Set([closed.id]));
      expect(retry.body).toBe(closed.body);
      expect(await deliver(retry)).toMatchObject({ status: 200, text: "SUCCESS" });
      await control(request, "notify", { fault: "replay" });
      expect((await deliver(await nextNotification(request, new Set([closed.id, retry.id])))).status).toBe(200);
    });
    // One notification, however often it came: one row, counted three times, handled by one instance.
    const rows = await env.CLOSE_JOBS_DB.prepare(
      "SELECT received, instance_id FROM sparkpay_notifications WHERE request_no = ?1",
    )
      .bind(request)
      .all();
    expect(rows.results).toEqual([{ received: 3, instance_id: expect.stringMatching(/^ntf_[0-9a-f]{40}$/) }]);
    await sandboxSettings({ retry_scale: 0.001 });
    // The customer pays after the close (the sandbox lets late payments through by default): a new state, a new event.
    const seen = new Set<string>();
    await withInstances(async () => {
      await control(request, "pay");
      const paid = await nextNotification(request);
      seen.add(paid.id);
      await deliver(paid);
      // A stale copy of the first state, and a fresh notification of the same state: confirmed, but nothing new.
      await control(request, "notify", { fault: "stale" });
      const stale = await nextNotification(request, seen);
      seen.add(stale.id);
      await deliver(stale);
      await control(request, "notify");
      await deliver(await nextNotification(request, seen));
    });
    const events = await orderEvents(request);
    expect(events.map((event) => event.data.pay_status)).toEqual(["CLOSED", "SUCCESS"]);
    expect(new Set(events.map((event) => event.id)).size).toBe(2);
  });

  it("an older observation never replaces a newer one, and makes no event", async () => {
    const request = uniqueId("NTO");
    const db = env.CLOSE_JOBS_DB;
    const order = (pay_status: string) => ({ merchant_no: MERCHANT, request_no: request, pay_status, data: {} });
    const now = Math.floor(Date.now() / 1000);
    expect(await recordOrderState(db, "ntf_newer", order("SUCCESS"), 2_000, now)).toMatchObject({
      pay_status: "SUCCESS",
    });
    expect(await recordOrderState(db, "ntf_older", order("PAYING"), 1_000, now)).toBeUndefined();
    const state = await db.prepare("SELECT pay_status FROM order_states WHERE request_no = ?1").bind(request).first();
    expect(state).toEqual({ pay_status: "SUCCESS" });
    // The same step run again finds its own event.
    expect(await recordOrderState(db, "ntf_newer", order("SUCCESS"), 2_000, now)).toMatchObject({
      pay_status: "SUCCESS",
    });
  });

  it("D1 out of reach: 503 FAIL with Retry-After (worth SparkPay's retry), then the retry is received", async () => {
    const request = uniqueId("NTU");
    await control(request, "pay");
    const entry = await nextNotification(request);
    const failing = {
      prepare: env.CLOSE_JOBS_DB.prepare.bind(env.CLOSE_JOBS_DB),
      batch: async () => {
        throw new Error("D1 DB is overloaded. Requests queued for too long.");
      },
    } as unknown as D1Database;
    let answer: Awaited<ReturnType<typeof post>> | undefined;
    const lines = await captureLogs(async () => {
      answer = await post(entry.body, { CLOSE_JOBS_DB: failing });
    });
    expect(answer).toMatchObject({ status: 503, text: "FAIL" });
    expect(answer?.headers.get("retry-after")).toBe("10");
    expect(lines.some((line) => line.includes('"msg":"notification not recorded"'))).toBe(true);
    const { result } = await withInstances(() => deliver(entry));
    expect(result.status).toBe(200);
    expect(await orderEvents(request)).toHaveLength(1);
  });
});

describe("notifications: close jobs hear them", () => {
  it("a scheduled job whose order is paid ends not_closable at once, without a close sent; the event carries it", async () => {
    const request = uniqueId("NTJ");
    expect((await job(request, "PUT", { close_at: Math.floor(Date.now() / 1000) + 3600 })).status).toBe(202);
    await control(request, "pay");
    await withInstances(async () => deliver(await nextNotification(request)));
    const { body } = await job(request);
    expect(body).toMatchObject({ status: "not_closable", order: { pay_status: "SUCCESS" } });
    expect(body.history.map(({ status, event }) => `${status}${event ? `:${event}` : ""}`)).toEqual([
      "scheduled",
      "scheduled:notified",
      "not_closable",
    ]);
    expect((await sandboxOrder(MERCHANT, request))?.pay_status).toBe("SUCCESS");
    const [event] = await orderEvents(request);
    expect(event?.data.close_job).toMatchObject({ status: "not_closable" });
    const types = (await deliveries(request)).map((delivery) => (JSON.parse(delivery.body) as { type: string }).type);
    expect(types.sort()).toEqual(["close.not_closable", "order.updated"]);
  });

  it("a scheduled job whose order someone else closed ends closed, confirmed by the order query", async () => {
    const request = uniqueId("NTC");
    expect((await job(request, "PUT", { close_at: Math.floor(Date.now() / 1000) + 3600 })).status).toBe(202);
    const { response } = await closeOrder(request);
    expect(response.status).toBe(200);
    await withInstances(async () => deliver(await nextNotification(request)));
    const { body } = await job(request);
    expect(body).toMatchObject({ status: "closed", confirmed_by: "order-query", order: { pay_status: "CLOSED" } });
  });

  it("a closed job whose order is paid afterwards records the late payment at once", async () => {
    const request = uniqueId("NTL");
    const { response } = await callGateway({ method: "PUT", url: closesUrl(request), body: "{}" });
    expect(response.status).toBe(202);
    for (let tries = 0; tries < 200 && (await job(request)).body.status !== "closed"; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const first = await nextNotification(request); // the close's own notification
    await withInstances(() => deliver(first));
    await fetch(`${SANDBOX}/settings`, { method: "PUT", body: JSON.stringify({ late_payments: true }) });
    try {
      await control(request, "pay");
      await withInstances(async () => deliver(await nextNotification(request, new Set([first.id]))));
    } finally {
    }
    const { body } = await job(request);
    expect(body).toMatchObject({ status: "closed", late_payment_at: expect.any(Number) });
    expect(body.history.at(-1)).toMatchObject({ event: "late_payment", pay_status: "SUCCESS" });
    const types = (await deliveries(request)).map((delivery) => (JSON.parse(delivery.body) as { type: string }).type);
    expect(types).toContain("close.late_payment");
    expect((await orderEvents(request)).map((event) => event.data.pay_status)).toEqual(["CLOSED", "SUCCESS"]);
  });
});
