import { introspectWorkflowInstance } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { instanceId, instanceIdPrefix, orderKey } from "../../src/closes/ids";
import type { CloseJob } from "../../src/closes/job";
import { cancel, createJob, reschedule } from "../../src/closes/store";
import type { CloseParams } from "../../src/closes/workflow";
import {
  CLOSE_URL,
  callGateway,
  captureLogs,
  closeOrder,
  deliveries,
  type ErrorEnvelope,
  MERCHANT,
  sandboxOrder,
  uniqueId,
  verifySignature,
} from "./helpers";

const DAY = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

function closesUrl(requestNo: string, merchantNo = MERCHANT): string {
  return `https://gateway.test/v1/closes/${merchantNo}/${requestNo}`;
}

/** PUT with `body` as JSON (absent: no body at all). */
async function put(requestNo: string, body?: unknown, merchantNo = MERCHANT) {
  const { response } = await callGateway({
    method: "PUT",
    url: closesUrl(requestNo, merchantNo),
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as CloseJob & ErrorEnvelope };
}

async function get(requestNo: string, merchantNo = MERCHANT) {
  const { response } = await callGateway({ method: "GET", url: closesUrl(requestNo, merchantNo) });
  return { status: response.status, body: (await response.json()) as CloseJob & ErrorEnvelope };
}

async function del(requestNo: string, merchantNo = MERCHANT) {
  const { response } = await callGateway({ method: "DELETE", url: closesUrl(requestNo, merchantNo) });
  return { status: response.status, body: (await response.json()) as CloseJob & ErrorEnvelope };
}

/** The Workflow instance id of the order's `generation`th instance. */
async function instanceOf(requestNo: string, generation = 1, merchantNo = MERCHANT): Promise<string> {
  return instanceId(await instanceIdPrefix(orderKey(merchantNo, requestNo)), generation);
}

/** Runs the order's next instance with no sleeping, and waits for it to finish. */
async function runToEnd(requestNo: string, start: () => Promise<unknown>, generation = 1, merchantNo = MERCHANT) {
  const instance = await introspectWorkflowInstance(
    env.CLOSE_WORKFLOW,
    await instanceOf(requestNo, generation, merchantNo),
  );
  try {
    await instance.modify(async (m) => {
      await m.disableSleeps();
    });
    const started = await start();
    await instance.waitForStatus("complete");
    return { started, output: await instance.getOutput() };
  } finally {
    await instance.dispose();
  }
}

const CALLER_BY = expect.stringMatching(/^caller:[0-9a-f]{12}$/);

describe("durable closes: closing now", () => {
  it("PUT without a body schedules now (202); the Workflow closes it; GET shows closed with its history", async () => {
    const request = uniqueId("DC");
    const before = nowS();
    const { started } = await runToEnd(request, () => put(request));
    const { status, body } = started as Awaited<ReturnType<typeof put>>;
    expect(status).toBe(202);
    expect(body).toMatchObject({ merchant_no: MERCHANT, request_no: request, status: "scheduled", attempts: 0 });
    expect(body.close_at).toBeGreaterThanOrEqual(before);
    expect(body.history).toEqual([
      { at: expect.any(Number), status: "scheduled", by: CALLER_BY, close_at: body.close_at },
    ]);

    const after = await get(request);
    expect(after.status).toBe(200);
    // Closed only once a verified query showed CLOSED, after SparkPay accepted the close.
    expect(after.body).toMatchObject({
      status: "closed",
      attempts: 1,
      confirmed_by: "close-and-query",
      order: { pay_status: "CLOSED" },
    });
    expect(after.body.closed_at).toBeGreaterThanOrEqual(before);
    expect(after.body.history.map(({ status, by }) => ({ status, by }))).toEqual([
      { status: "scheduled", by: CALLER_BY },
      { status: "closing", by: "gateway" },
      { status: "closed", by: "gateway" },
    ]);
    expect(JSON.stringify(after.body)).not.toMatch(/instance|generation|order_key/);
    expect((await sandboxOrder(MERCHANT, request))?.pay_status).toBe("CLOSED");

    // One signed webhook: the job as GET shows it, which now also shows the delivery.
    const [delivery, ...more] = await deliveries(request);
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({ path: "/hooks/sparkpay-closes", content_type: "application/json", status: 204 });
    const { webhook, ...jobAtItsEnd } = after.body;
    expect(JSON.parse(delivery!.body)).toEqual({
      id: `evt_${await instanceOf(request)}`,
      type: "close.closed",
      created: after.body.updated_at,
      data: jobAtItsEnd,
    });
    expect(webhook).toEqual({
      event_id: `evt_${await instanceOf(request)}`,
      type: "close.closed",
      status: "delivered",
      attempts: 1,
      at: expect.any(Number),
    });
    expect(await verifySignature(delivery!.signature, delivery!.body, env.CLOSE_WEBHOOK_SECRET!)).toBe(true);
    expect(await verifySignature(delivery!.signature, `${delivery!.body} `, env.CLOSE_WEBHOOK_SECRET!)).toBe(false);
    expect(delivery!.body).not.toContain(env.CLOSE_WEBHOOK_SECRET!);

    // A closed job stays as it is: nothing is sent again.
    expect(await put(request)).toMatchObject({ status: 200, body: { status: "closed" } });
    expect(await put(request, { close_at: nowS() + 600 })).toMatchObject({ status: 200, body: { status: "closed" } });
    // Nor can it be cancelled.
    expect(await del(request)).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
  });

  it("a close_at a minute ago means now; one meant as a delay (1800) is refused, naming close_at", async () => {
    const request = uniqueId("DC");
    const { started } = await runToEnd(request, () => put(request, { close_at: nowS() - 60 }));
    expect(started).toMatchObject({ status: 202, body: { status: "scheduled" } });
    expect((started as { body: CloseJob }).body.close_at).toBeGreaterThanOrEqual(nowS() - 5);
    expect((await get(request)).body.status).toBe("closed");

    const delay = uniqueId("DC");
    const refused = await put(delay, { close_at: 1800 });
    expect(refused).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST", param: "close_at" } });
    expect(refused.body.message).toMatch(/Unix time .*omit close_at to close now\.$/);
    expect((await get(delay)).status).toBe(404);
  });

  it("an outage longer than one request's deadline ends closed after more rounds", async () => {
    const request = uniqueId("FAULT_OUTAGE");
    const { output } = await runToEnd(request, () => put(request));
    expect(output).toMatchObject({ status: "closed" });
    expect((output as { rounds: number }).rounds).toBeGreaterThan(1);
    const job = (await get(request)).body;
    expect(job).toMatchObject({ status: "closed", attempts: (output as { rounds: number }).rounds });
    expect(job.history.map(({ status }) => status)).toEqual(["scheduled", "closing", "closed"]);
    expect((await sandboxOrder(MERCHANT, request))?.pay_status).toBe("CLOSED");
  });

  it("a definitive refusal (40008, unknown merchant) ends failed at once with SparkPay's code and message", async () => {
    const merchant = "M_NOBODY_001";
    const request = uniqueId("DC");
    const { output } = await runToEnd(request, () => put(request, undefined, merchant), 1, merchant);
    expect(output).toMatchObject({ status: "failed", rounds: 1, code: 40008 });
    const job = (await get(request, merchant)).body;
    expect(job).toMatchObject({ status: "failed", attempts: 1, error: { code: 40008, message: expect.any(String) } });
    expect(job.history.map(({ status, by, code }) => ({ status, by, code }))).toEqual([
      { status: "scheduled", by: CALLER_BY, code: undefined },
      { status: "closing", by: "gateway", code: undefined },
      { status: "failed", by: "gateway", code: 40008 },
    ]);
    const [delivery] = await deliveries(request);
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: "close.failed",
      data: { status: "failed", error: { code: 40008 } },
    });
    expect(await verifySignature(delivery!.signature, delivery!.body, env.CLOSE_WEBHOOK_SECRET!)).toBe(true);
    // A failed job's order can be scheduled again: a new job.
    const again = await runToEnd(request, () => put(request, undefined, merchant), 2, merchant);
    expect(again.started).toMatchObject({ status: 202, body: { status: "scheduled" } });
  });
});

describe("durable closes: giving up", () => {
  it("a job still failing CLOSE_GIVE_UP_AFTER_S after its close_at ends failed with the last error", async () => {
    const request = uniqueId("FAULT_HTTP503");
    // A job due long ago (the route never schedules in the past, so the store makes it): its first round is its last.
    const closeAt = nowS() - Number(env.CLOSE_GIVE_UP_AFTER_S) - 60;
    const by = "caller:0123456789ab" as const;
    const { job } = await createJob(env.CLOSE_JOBS_DB, {
      merchant_no: MERCHANT,
      request_no: request,
      close_at: closeAt,
      now: nowS(),
      by,
    });
    const params: CloseParams = {
      job_id: job.id,
      instance_id: job.instance_id,
      merchant_no: MERCHANT,
      request_no: request,
      close_at: closeAt,
    };
    const { output } = await runToEnd(request, () => env.CLOSE_WORKFLOW.create({ id: job.instance_id, params }));
    expect(output).toMatchObject({ status: "failed", rounds: 1, code: "UPSTREAM_SERVER_ERROR" });
    const failed = (await get(request)).body;
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { code: "UPSTREAM_SERVER_ERROR", message: "SparkPay answered HTTP 503 (3 attempts)." },
    });
    expect(failed.history.at(-1)).toMatchObject({ status: "failed", by: "gateway", code: "UPSTREAM_SERVER_ERROR" });
  });

  it("a job whose instance cannot be started is failed at once, and the next PUT starts a new job", async () => {
    const request = uniqueId("DC");
    const broken = {
      create: async () => {
        throw new Error("Workflows is down");
      },
      get: async () => ({ terminate: async () => {} }),
    } as unknown as Env["CLOSE_WORKFLOW"];
    const { response } = await callGateway({ method: "PUT", url: closesUrl(request), env: { CLOSE_WORKFLOW: broken } });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      code: "CLOSE_JOBS_UNAVAILABLE",
      message: expect.stringMatching(/PUT again/),
    });
    expect((await get(request)).body).toMatchObject({ status: "failed", error: { code: "CLOSE_JOBS_UNAVAILABLE" } });
    const again = await runToEnd(request, () => put(request), 2);
    expect(again.started).toMatchObject({ status: 202 });
    expect((await get(request)).body.status).toBe("closed");
  });
});

describe("durable closes: webhooks", () => {
  it("retries a refused webhook with the same event id and body, each time freshly signed", async () => {
    const request = uniqueId("WHFAIL2");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      await instance.modify(async (m) => {
        await m.disableSleeps();
        await m.disableRetryDelays();
      });
      expect((await put(request)).status).toBe(202);
      await instance.waitForStatus("complete");
      expect(await instance.getOutput()).toMatchObject({
        status: "closed",
        webhook: `evt_${await instanceOf(request)}`,
      });
    } finally {
      await instance.dispose();
    }
    const received = await deliveries(request);
    expect(received.map(({ status }) => status)).toEqual([503, 503, 204]);
    expect((await get(request)).body.webhook).toMatchObject({ status: "delivered", attempts: 3 });
    expect(new Set(received.map(({ event_id }) => event_id)).size).toBe(1);
    expect(new Set(received.map(({ body }) => body)).size).toBe(1);
    for (const { signature, body } of received) {
      expect(await verifySignature(signature, body, env.CLOSE_WEBHOOK_SECRET!)).toBe(true);
    }
  });

  it("gives up on a receiver that never accepts, leaving the job closed", async () => {
    const request = uniqueId("WHFAIL99");
    const { output } = await runToEnd(request, async () => {
      const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
      await instance.modify(async (m) => {
        await m.disableRetryDelays();
      });
      return put(request);
    });
    expect(output).toMatchObject({ status: "closed", webhook: "undelivered" });
    expect((await deliveries(request)).length).toBe(14);
    const job = (await get(request)).body;
    expect(job.status).toBe("closed");
    // The job says so: every try refused, the last error named.
    expect(job.webhook).toEqual({
      event_id: `evt_${await instanceOf(request)}`,
      type: "close.closed",
      status: "failed",
      attempts: 14,
      at: expect.any(Number),
      last_error: "The webhook receiver answered HTTP 503.",
    });
  });

  it("POST …/webhook sends the latest event again, the same id and body, and the job records the try", async () => {
    const request = uniqueId("WH");
    await runToEnd(request, () => put(request));
    const redeliver = async (settings: Partial<Env> = {}, requestNo = request) => {
      const { response } = await callGateway({ method: "POST", url: `${closesUrl(requestNo)}/webhook`, env: settings });
      return { status: response.status, body: (await response.json()) as CloseJob & ErrorEnvelope };
    };
    const again = await redeliver();
    expect(again.status).toBe(200);
    expect(again.body.webhook).toMatchObject({ type: "close.closed", status: "delivered", attempts: 2 });
    const [first, second, ...more] = await deliveries(request);
    expect(more).toEqual([]);
    expect(second?.event_id).toBe(first?.event_id);
    expect(JSON.parse(second!.body).data).toEqual(JSON.parse(first!.body).data);
    expect(await verifySignature(second!.signature, second!.body, env.CLOSE_WEBHOOK_SECRET!)).toBe(true);
    // Webhooks off: nowhere to deliver. A job that has not ended: nothing to deliver yet.
    expect(await redeliver({ CLOSE_WEBHOOK_URL: "" })).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
    const open = uniqueId("WH");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(open));
    try {
      expect((await put(open, { close_at: nowS() + 3600 })).status).toBe(202);
      const early = await redeliver({}, open);
      expect(early).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
      expect(early.body.message).toMatch(/no event to deliver yet/);
      expect((await del(open)).status).toBe(200);
    } finally {
      await instance.dispose();
    }
    expect((await redeliver({}, uniqueId("WH"))).status).toBe(404);
  });

  it.each([
    ["CLOSE_WEBHOOK_URL", { CLOSE_WEBHOOK_URL: "http://hooks.example.com/x" }, "CLOSE_WEBHOOK_URL must be"],
    ["CLOSE_WEBHOOK_URL", { CLOSE_WEBHOOK_URL: "https://user:pw@hooks.example.com/x" }, "CLOSE_WEBHOOK_URL must be"],
    ["CLOSE_WEBHOOK_URL", { CLOSE_WEBHOOK_URL: "https://hooks.example.com/x?a=1" }, "CLOSE_WEBHOOK_URL must be"],
    ["CLOSE_WEBHOOK_SECRET", { CLOSE_WEBHOOK_SECRET: "too-short" }, "at least 32"],
    ["CLOSE_WEBHOOK_SECRET", { CLOSE_WEBHOOK_SECRET: "" }, "CLOSE_WEBHOOK_SECRET is not set"],
  ])(
    "a bad %s: /healthz not ready naming it, PUT refused naming it, POST close still closes",
    async (name, settings, message) => {
      const { response } = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: settings });
      const health = (await response.json()) as { status: string; checks: Record<string, { message?: string }> };
      expect(response.status).toBe(503);
      expect(health.checks[name]).toEqual({ status: "problem", message: expect.stringContaining(message) });
      expect(health.status).toBe("not_ready");
      expect(JSON.stringify(health)).not.toContain(env.CLOSE_WEBHOOK_SECRET!);

      const request = uniqueId("DC");
      const refused = await callGateway({ method: "PUT", url: closesUrl(request), body: null, env: settings });
      expect(refused.response.status).toBe(503);
      expect(await refused.response.json()).toMatchObject({
        code: "GATEWAY_MISCONFIGURED",
        message: expect.stringContaining(name),
      });
      expect((await get(request)).status).toBe(404); // no job was made

      const closed = await closeOrder(uniqueId("WH"), { env: settings });
      expect(closed.response.status).toBe(200);
    },
  );

  it("/healthz accepts a webhook URL with a path, and http:// on loopback", async () => {
    for (const url of ["https://hooks.example.com/a/b", "http://127.0.0.1:9000/hooks"]) {
      const { response } = await callGateway({
        method: "GET",
        url: "https://gateway.test/healthz",
        env: { CLOSE_WEBHOOK_URL: url },
      });
      const health = (await response.json()) as { checks: Record<string, unknown> };
      expect(health.checks).toMatchObject({
        CLOSE_WEBHOOK_URL: { status: "ok" },
        CLOSE_WEBHOOK_SECRET: { status: "ok" },
      });
    }
  });
});

describe("durable closes: bindings", () => {
  it.each([
    ["CLOSE_JOBS_DB", "[[d1_databases]]"],
    ["CLOSE_WORKFLOW", "[[workflows]]"],
  ])(
    "%s not bound: /v1/closes answers 503 naming it, /healthz is not ready, POST close still closes",
    async (binding, table) => {
      const unbound = { [binding]: undefined } as unknown as Partial<Env>;
      const message = `${binding} is not bound; declare it under ${table} in wrangler.toml for this environment.`;
      for (const method of ["PUT", "GET", "DELETE"]) {
        const { response } = await callGateway({ method, url: closesUrl(uniqueId("DC")), body: null, env: unbound });
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ code: "GATEWAY_MISCONFIGURED", message });
      }
      const health = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: unbound });
      expect(health.response.status).toBe(503);
      expect(await health.response.json()).toMatchObject({
        status: "not_ready",
        checks: { [binding]: { status: "problem", message } },
      });
      expect((await closeOrder(uniqueId("BIND"), { env: unbound })).response.status).toBe(200);
    },
  );
});

describe("durable closes: migrations", () => {
  it("a D1 database without the migrations: /healthz not ready naming CLOSE_JOBS_DB; POST close still closes", async () => {
    // Cloudflare's D1 as it answers before `wrangler d1 migrations apply`: every statement fails, no such table.
    const noTables = () => {
      throw new Error("D1_ERROR: no such table: close_jobs: SQLITE_ERROR");
    };
    const unmigrated = {
      prepare: () => ({ bind: noTables, run: noTables, all: noTables, first: noTables }),
      batch: async () => noTables(),
    } as unknown as Env["CLOSE_JOBS_DB"];
    const settings = { CLOSE_JOBS_DB: unmigrated } as Partial<Env>;
    const health = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: settings });
    expect(health.response.status).toBe(503);
    expect(await health.response.json()).toMatchObject({
      status: "not_ready",
      checks: {
        CLOSE_JOBS_DB: {
          status: "problem",
          message: expect.stringMatching(/^CLOSE_JOBS_DB does not answer .*`wrangler d1 migrations apply/),
        },
      },
    });
    expect((await closeOrder(uniqueId("MIG"), { env: settings })).response.status).toBe(200);
    // The real database, migrated by the test setup, answers.
    const ready = await callGateway({ method: "GET", url: "https://gateway.test/healthz" });
    expect(await ready.response.json()).toMatchObject({ status: "ready", checks: { CLOSE_JOBS_DB: { status: "ok" } } });
  });
});

describe("durable closes: a round that throws", () => {
  it("a close step failing on every retry counts as a transient round (INTERNAL_ERROR); the next round closes", async () => {
    const request = uniqueId("DC");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      await instance.modify(async (m) => {
        await m.disableSleeps();
        await m.disableRetryDelays();
        await m.mockStepError({ name: "close #1" }, new Error("a close round that throws (test)"));
      });
      await put(request);
      await instance.waitForStatus("complete");
      expect(await instance.getOutput()).toMatchObject({ status: "closed", rounds: 2 });
    } finally {
      await instance.dispose();
    }
    const job = (await get(request)).body;
    expect(job).toMatchObject({ status: "closed", attempts: 2 });
    expect(job.history.map(({ status }) => status)).toEqual(["scheduled", "closing", "closed"]);
  });
});

describe("durable closes: scheduling, rescheduling, cancelling", () => {
  it("schedules, leaves, reschedules, cancels, and schedules a new job after a cancel", async () => {
    const request = uniqueId("DC");
    const closeAt = nowS() + 3600;
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      const created = await put(request, { close_at: closeAt });
      expect(created).toMatchObject({ status: 202, body: { status: "scheduled", close_at: closeAt } });

      expect(await put(request, { close_at: closeAt })).toMatchObject({ status: 200, body: { close_at: closeAt } });
      expect(await put(request)).toMatchObject({ status: 200, body: { close_at: closeAt } });
      expect((await get(request)).body.history).toHaveLength(1);

      const moved = await put(request, { close_at: closeAt + 60 });
      expect(moved).toMatchObject({ status: 200, body: { status: "scheduled", close_at: closeAt + 60 } });
      expect(moved.body.history.map(({ status }) => status)).toEqual(["scheduled", "scheduled"]);
      // The first instance was replaced.
      await instance.waitForStatus("terminated");
    } finally {
      await instance.dispose();
    }
    const second = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request, 2));
    try {
      const cancelled = await del(request);
      expect(cancelled).toMatchObject({ status: 200, body: { status: "cancelled" } });
      expect(cancelled.body.history.map(({ status, by }) => ({ status, by }))).toEqual([
        { status: "scheduled", by: CALLER_BY },
        { status: "scheduled", by: CALLER_BY },
        { status: "cancelled", by: CALLER_BY },
      ]);
      await second.waitForStatus("terminated");
    } finally {
      await second.dispose();
    }
    expect(await del(request)).toMatchObject({ status: 200, body: { status: "cancelled" } });
    expect((await sandboxOrder(MERCHANT, request))?.pay_status).not.toBe("CLOSED");
    // Cancelled stays cancelled: a PUT (a client's retry, say) is refused, saying how to close it after all.
    const retried = await put(request);
    expect(retried).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
    expect(retried.body.message).toMatch(/was cancelled .*stays cancelled\. .*PUT again with \{"reopen": true\}\.$/);
    expect((await put(request, { close_at: nowS() + 60 })).status).toBe(409);
    expect((await get(request)).body.status).toBe("cancelled");
    expect((await put(request, { reopen: "yes" })).body).toMatchObject({ code: "INVALID_REQUEST", param: "reopen" });

    const third = await runToEnd(request, () => put(request, { reopen: true }), 3);
    expect(third.started).toMatchObject({
      status: 202,
      body: { status: "scheduled", history: [{ status: "scheduled" }] },
    });
    expect((await get(request)).body.status).toBe("closed");
  });

  it("a job that is closing cannot be moved into the future (409) but may be asked to close now (200)", async () => {
    const request = uniqueId("FAULT_OUTAGE");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      await instance.modify(async (m) => {
        await m.disableSleeps([{ name: "wait for close_at" }]);
      });
      expect((await put(request)).status).toBe(202);
      // The first round fails (503s), so the job waits in `closing` for its next round.
      await instance.waitForStepResult({ name: "close #1" });
      const job = (await get(request)).body;
      expect(job.status).toBe("closing");
      expect(await put(request, { close_at: nowS() + 600 })).toMatchObject({
        status: 409,
        body: { code: "CLOSE_CONFLICT", message: expect.stringContaining("closing") },
      });
      expect(await put(request)).toMatchObject({ status: 200, body: { status: "closing" } });
      expect(await del(request)).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
    } finally {
      await instance.dispose();
    }
  });

  it.each(["rescheduled", "cancelled"])(
    "an instance whose job was %s stops quietly, changing nothing",
    async (change) => {
      const request = uniqueId("DC");
      const by = "caller:0123456789ab" as const;
      const now = nowS();
      const { job } = await createJob(env.CLOSE_JOBS_DB, {
        merchant_no: MERCHANT,
        request_no: request,
        close_at: now,
        now,
        by,
      });
      if (change === "rescheduled") await reschedule(env.CLOSE_JOBS_DB, job, now + 3600, now, by);
      else await cancel(env.CLOSE_JOBS_DB, job, now, by);
      const before = (await get(request)).body;
      const params: CloseParams = {
        job_id: job.id,
        instance_id: job.instance_id,
        merchant_no: MERCHANT,
        request_no: request,
        close_at: now,
      };
      const { output } = await runToEnd(request, () => env.CLOSE_WORKFLOW.create({ id: job.instance_id, params }));
      expect(output).toEqual({ status: "stopped", rounds: 0 });
      expect((await get(request)).body).toEqual(before);
      expect(await sandboxOrder(MERCHANT, request)).toBeUndefined();
      expect(await deliveries(request)).toEqual([]);
    },
  );

  it("a PUT racing a DELETE: the answer says which won, and the history shows it", async () => {
    const request = uniqueId("DC");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      const closeAt = nowS() + 3600;
      expect((await put(request, { close_at: closeAt })).status).toBe(202);
      const [moved, deleted] = await Promise.all([put(request, { close_at: closeAt + 60 }), del(request)]);
      expect(deleted).toMatchObject({ status: 200, body: { status: "cancelled" } });
      const job = (await get(request)).body;
      expect(job.status).toBe("cancelled");
      if (moved.status === 200) {
        // The PUT came first: its reschedule, then the cancel.
        expect(job.history.map(({ status }) => status)).toEqual(["scheduled", "scheduled", "cancelled"]);
      } else {
        // The DELETE came first: the PUT is told the job was cancelled, and changed nothing.
        expect(moved).toMatchObject({ status: 409, body: { code: "CLOSE_CONFLICT" } });
        expect(moved.body.message).toMatch(/was cancelled/);
        expect(job.history.map(({ status }) => status)).toEqual(["scheduled", "cancelled"]);
      }
    } finally {
      await instance.dispose();
    }
  });

  it("racing PUTs make one job", async () => {
    const request = uniqueId("DC");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      const closeAt = nowS() + 3600;
      const results = await Promise.all(Array.from({ length: 5 }, () => put(request, { close_at: closeAt })));
      expect(results.map(({ status }) => status).sort()).toEqual([200, 200, 200, 200, 202]);
      expect(new Set(results.map(({ body }) => body.created_at)).size).toBe(1);
      expect((await get(request)).body.history).toHaveLength(1);
      expect((await del(request)).body.status).toBe("cancelled");
    } finally {
      await instance.dispose();
    }
  });
});

describe("durable closes: refusals", () => {
  it.each([
    ["GET", get],
    ["DELETE", del],
  ] as const)("%s of an order without a job is 404 NOT_FOUND", async (_method, call) => {
    expect(await call(uniqueId("DC"))).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
  });

  it.each([
    ["a string", { close_at: "1790000000" }],
    ["a fraction", { close_at: 1790000000.5 }],
    ["null", { close_at: null }],
    ["an object", { close_at: { at: 1 } }],
    ["a boolean", { close_at: true }],
    ["more than 30 days ahead", { close_at: Math.floor(Date.now() / 1000) + 31 * DAY }],
  ])("close_at as %s is 400 INVALID_REQUEST naming close_at", async (_name, body) => {
    const request = uniqueId("DC");
    const result = await put(request, body);
    expect(result).toMatchObject({ status: 400, body: { code: "INVALID_REQUEST" } });
    expect(result.body.message).toContain("close_at");
    expect((await get(request)).status).toBe(404);
  });

  it("a body that is not a JSON object is refused", async () => {
    const { response } = await callGateway({ method: "PUT", url: closesUrl(uniqueId("DC")), body: "[1]" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorEnvelope).code).toBe("INVALID_JSON");
  });

  it.each([
    ["merchant_no", closesUrl("R_1", "bad-merchant")],
    ["request_no", closesUrl("bad-request")],
    ["request_no", closesUrl("R".repeat(65))],
  ])("a bad %s in the path is 400 naming it", async (field, url) => {
    for (const method of ["PUT", "GET", "DELETE"]) {
      const { response } = await callGateway({ method, url });
      expect(response.status).toBe(400);
      const body = (await response.json()) as ErrorEnvelope;
      expect(body.code).toBe("INVALID_REQUEST");
      expect(body.message).toContain(field);
    }
  });

  it("needs a caller key", async () => {
    const { response } = await callGateway({ method: "GET", url: closesUrl("R_1"), headers: { Authorization: "" } });
    expect(response.status).toBe(401);
  });

  it("answers 405 with Allow for other methods", async () => {
    const { response } = await callGateway({ method: "POST", url: closesUrl("R_1") });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("PUT, GET, DELETE");
  });

  it.each(["CLOSE_JOBS_DB", "CLOSE_WORKFLOW"])("without %s: 503 GATEWAY_MISCONFIGURED naming it", async (name) => {
    for (const method of ["PUT", "GET", "DELETE"]) {
      const { response } = await callGateway({ method, url: closesUrl(uniqueId("DC")), env: { [name]: undefined } });
      expect(response.status).toBe(503);
      const body = (await response.json()) as ErrorEnvelope;
      expect(body).toMatchObject({ code: "GATEWAY_MISCONFIGURED", message: expect.stringContaining(name) });
    }
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/healthz",
      env: { [name]: undefined },
    });
    const health = (await response.json()) as { checks: Record<string, unknown> };
    expect(health.checks[name]).toEqual({
      status: "problem",
      message: expect.stringContaining(`${name} is not bound`),
    });
  });
});

describe("durable closes: reads have their own budget", () => {
  it("400 polls, then a close and cancels for the same merchant succeed; a cancel needs no merchant budget", async () => {
    // A merchant of its own and limiters of their own: 3 closes and 400 reads a minute.
    const merchant = "M_SANDBOX_002";
    const limits = { env: { MERCHANT_RATE_LIMITER: env.TEST_TIGHT_LIMITER, READ_RATE_LIMITER: env.TEST_READ_LIMITER } };
    const send = async (method: string, url: string, body?: string) => {
      const { response } = await callGateway({ method, url, body: body ?? null, ...limits });
      return { status: response.status, body: (await response.json()) as CloseJob & ErrorEnvelope };
    };
    const [first, second] = [uniqueId("RB"), uniqueId("RB")];
    const later = JSON.stringify({ close_at: nowS() + 3600 });
    expect((await send("PUT", closesUrl(first, merchant), later)).status).toBe(202);
    expect((await send("PUT", closesUrl(second, merchant), later)).status).toBe(202);
    for (let poll = 1; poll <= 400; poll++) {
      const { status } = await send("GET", closesUrl(poll % 2 ? first : second, merchant));
      if (status !== 200) throw new Error(`poll ${poll}: HTTP ${status}`);
    }
    const starved = await send("GET", closesUrl(first, merchant));
    expect(starved).toMatchObject({ status: 429, body: { code: "RATE_LIMITED" } });
    expect(starved.body.message).toMatch(/merchant_no's reads/);
    // Closes have their own budget: the third close of the minute goes through, the fourth does not.
    const close = () => send("POST", CLOSE_URL, JSON.stringify({ request_no: uniqueId("RB"), merchant_no: merchant }));
    expect((await close()).status).toBe(200);
    expect((await close()).status).toBe(429);
    // And a cancel is never refused for want of either budget.
    expect(await send("DELETE", closesUrl(first, merchant))).toMatchObject({
      status: 200,
      body: { status: "cancelled" },
    });
    expect(await send("DELETE", closesUrl(second, merchant))).toMatchObject({
      status: 200,
      body: { status: "cancelled" },
    });
  });
});

describe("durable closes: D1 trouble is answered truthfully", () => {
  /** A D1 that throws what Cloudflare's does when overloaded, counting the statements it was asked to run. */
  function overloadedD1(failures = Number.POSITIVE_INFINITY) {
    const calls = { reads: 0, batches: 0 };
    const real = env.CLOSE_JOBS_DB;
    const fail = () => {
      throw new Error("D1 DB is overloaded. Requests queued for too long.");
    };
    const db = {
      prepare: (sql: string) => ({
        bind: (...values: unknown[]) => {
          const bound = real.prepare(sql).bind(...values);
          return Object.assign(bound, {
            run: async () =>
              ++calls.reads <= failures
                ? fail()
                : real
                    .prepare(sql)
                    .bind(...values)
                    .run(),
          });
        },
      }),
      batch: async (statements: D1PreparedStatement[]) =>
        ++calls.batches <= failures ? fail() : real.batch(statements),
    } as unknown as Env["CLOSE_JOBS_DB"];
    return { db, calls };
  }

  it("PUT, GET and DELETE: 503 CLOSE_JOBS_UNAVAILABLE with Retry-After, never a 500; D1's words only in the log", async () => {
    const { db, calls } = overloadedD1();
    const request = uniqueId("D1");
    const lines = await captureLogs(async () => {
      for (const method of ["PUT", "GET", "DELETE"]) {
        const { response } = await callGateway({ method, url: closesUrl(request), env: { CLOSE_JOBS_DB: db } });
        expect(response.status, method).toBe(503);
        expect(response.headers.get("Retry-After")).toBe("5");
        const body = (await response.json()) as ErrorEnvelope;
        expect(body).toMatchObject({
          code: "CLOSE_JOBS_UNAVAILABLE",
          message: expect.stringMatching(/D1\) did not answer/),
        });
        expect(body.message).not.toMatch(/overloaded|SELECT|close_jobs/);
      }
    });
    // Each route's read was tried three times before giving up.
    expect(calls.reads).toBe(9);
    const logged = lines.filter((line) => line.includes('"msg":"close jobs unavailable"'));
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatch(/"d1":"Error: D1 DB is overloaded\. Requests queued for too long\."/);
    // No stack, and no "unhandled error": each request's one access line says 503.
    expect(lines.join("\n")).not.toMatch(/at \S+:\d+|unhandled error/);
    expect(
      lines.filter((line) => line.includes('"msg":"request"')).every((line) => line.includes('"status":503')),
    ).toBe(true);
  });

  it("a read that fails once is tried again: GET answers the job", async () => {
    const request = uniqueId("D1");
    const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      expect((await put(request, { close_at: nowS() + 3600 })).status).toBe(202);
      const { db, calls } = overloadedD1(1);
      const { response } = await callGateway({ method: "GET", url: closesUrl(request), env: { CLOSE_JOBS_DB: db } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as CloseJob).status).toBe("scheduled");
      expect(calls.reads).toBe(2);
      expect((await del(request)).status).toBe(200);
    } finally {
      await instance.dispose();
    }
  });
});

describe("durable closes: an order's earlier jobs stay visible", () => {
  it("GET …/jobs lists the current job first, then the cancelled one before it; 404 for an order with none", async () => {
    const request = uniqueId("DJ");
    const jobsUrl = `${closesUrl(request)}/jobs`;
    const list = async () => {
      const { response } = await callGateway({ method: "GET", url: jobsUrl });
      return { status: response.status, body: (await response.json()) as { jobs: CloseJob[] } & ErrorEnvelope };
    };
    expect(await list()).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    const first = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request));
    try {
      expect((await put(request, { close_at: nowS() + 3600 })).status).toBe(202);
      expect((await del(request)).status).toBe(200);
    } finally {
      await first.dispose();
    }
    const second = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(request, 2));
    try {
      expect((await put(request, { close_at: nowS() + 7200, reopen: true })).status).toBe(202);
      const { status, body } = await list();
      expect(status).toBe(200);
      expect(body.jobs.map(({ status }) => status)).toEqual(["scheduled", "cancelled"]);
      expect(body.jobs[0]).toEqual((await get(request)).body);
      expect(JSON.stringify(body)).not.toMatch(/instance|generation|order_key/);
      const { response } = await callGateway({ method: "POST", url: jobsUrl });
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe("GET");
      expect((await del(request)).status).toBe(200);
    } finally {
      await second.dispose();
    }
  });
});
