import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INSTANCE_ID_PATTERN, instanceId, instanceIdPrefix, orderKey } from "../../src/closes/ids";
import { type Actor, publicJob, type StoredJob } from "../../src/closes/job";
import { cancel, createJob, getJob, reschedule } from "../../src/closes/store";
import { recordAttempts, transition } from "../../src/closes/transitions";

const db = env.CLOSE_JOBS_DB;
const MERCHANT = "M_CLOSE_001";
const CALLER: Actor = "caller:0123456789ab";
const OTHER_CALLER: Actor = "caller:ba9876543210";
const T0 = 1_790_000_000;
const CALLER_KEY = env.GATEWAY_API_KEYS.split(",")[0]!;

/** A request_no no other test uses: every test works on orders of its own in the shared database. */
function requestNo(prefix = "R"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

function create(request_no: string, overrides: Partial<Parameters<typeof createJob>[1]> = {}) {
  return createJob(db, { merchant_no: MERCHANT, request_no, close_at: T0 + 600, now: T0, by: CALLER, ...overrides });
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return (await db
    .prepare(sql)
    .bind(...params)
    .first<number>("n")) as number;
}

/** Every job the order ever had, and every history row of its jobs. */
async function rowsOf(request: string) {
  const key = orderKey(MERCHANT, request);
  return {
    jobs: await count("SELECT count(*) AS n FROM close_jobs WHERE order_key = ?", key),
    history: await count(
      "SELECT count(*) AS n FROM close_history WHERE job_id IN (SELECT id FROM close_jobs WHERE order_key = ?)",
      key,
    ),
  };
}

/** A job that has reached `closing`. */
async function closingJob(request = requestNo()): Promise<StoredJob> {
  const { job } = await create(request);
  const closing = await transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 600);
  expect(closing?.status).toBe("closing");
  return closing!;
}

describe("close jobs: create and get", () => {
  it("creates a scheduled job, generation 1, with its creation in the history", async () => {
    const request = requestNo();
    const { job, created } = await create(request);
    expect(created).toBe(true);
    const prefix = await instanceIdPrefix(orderKey(MERCHANT, request));
    expect(job).toEqual({
      id: instanceId(prefix, 1),
      instance_id: instanceId(prefix, 1),
      generation: 1,
      order_key: `${MERCHANT}/${request.toLowerCase()}`,
      merchant_no: MERCHANT,
      request_no: request,
      status: "scheduled",
      close_at: T0 + 600,
      created_at: T0,
      updated_at: T0,
      attempts: 0,
      reschedules: 0,
      // The creation's entry says when the job is to close.
      history: [{ at: T0, status: "scheduled", by: CALLER, close_at: T0 + 600 }],
      history_total: 1,
    });
    expect(await getJob(db, MERCHANT, request)).toEqual(job);
  });

  it("has no job for an order never scheduled", async () => {
    expect(await getJob(db, MERCHANT, requestNo())).toBeUndefined();
  });

  it("shows callers the API's fields only, in the API's order", async () => {
    const { job } = await create(requestNo());
    expect(Object.keys(publicJob(job))).toEqual([
      "merchant_no",
      "request_no",
      "status",
      "close_at",
      "created_at",
      "updated_at",
      "attempts",
      "reschedules",
      "history",
      "history_total",
    ]);
  });

  it("returns the current job, unchanged, to a create while it is scheduled", async () => {
    const request = requestNo();
    const first = await create(request);
    const again = await create(request, { close_at: T0 + 999, now: T0 + 5, by: OTHER_CALLER });
    expect(again).toEqual({ job: first.job, created: false });
    expect(await rowsOf(request)).toEqual({ jobs: 1, history: 1 });
  });

  it.each([
    ["closing", (job: StoredJob) => transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 1)],
    [
      "closed",
      (job: StoredJob) => transition(db, job.instance_id, ["scheduled"], "closed", { confirmed_by: "close" }, T0 + 1),
    ],
  ])("returns a %s job to a create, unchanged", async (status, move) => {
    const request = requestNo();
    const { job } = await create(request);
    const moved = await move(job);
    expect(moved?.status).toBe(status);
    expect(await create(request, { now: T0 + 9 })).toEqual({ job: moved, created: false });
  });

  it("starts generation 2, with a new instance id and a history of its own, after a cancel", async () => {
    const request = requestNo();
    const { job: first } = await create(request);
    await cancel(db, first, T0 + 10, CALLER);
    const { job: second, created } = await create(request, { now: T0 + 20, close_at: T0 + 900, by: OTHER_CALLER });
    expect(created).toBe(true);
    expect(second.generation).toBe(2);
    expect(second.instance_id).toBe(instanceId(await instanceIdPrefix(second.order_key), 2));
    expect(second.id).not.toBe(first.id);
    expect(second.instance_id).not.toBe(first.instance_id);
    expect(second).toMatchObject({ status: "scheduled", close_at: T0 + 900, created_at: T0 + 20, attempts: 0 });
    expect(second.history).toEqual([{ at: T0 + 20, status: "scheduled", by: OTHER_CALLER, close_at: T0 + 900 }]);
    expect(await getJob(db, MERCHANT, request)).toEqual(second);
    // The cancelled job stays on record.
    expect(await rowsOf(request)).toEqual({ jobs: 2, history: 3 });
  });

  it("starts a new job after a failed one", async () => {
    const request = requestNo();
    const { job } = await create(request);
    const error = { code: 40008, message: "unknown merchant" };
    await transition(db, job.instance_id, ["scheduled"], "failed", { error }, T0 + 5);
    const next = await create(request, { now: T0 + 6 });
    expect(next.created).toBe(true);
    expect(next.job.generation).toBe(2);
    expect(next.job.error).toBeUndefined();
  });

  it("refuses a `by` that is not a caller id or the gateway (a caller key must never be stored)", async () => {
    const request = requestNo();
    for (const by of [CALLER_KEY, `caller:${CALLER_KEY}`, "caller:", "someone"] as Actor[]) {
      await expect(create(request, { by })).rejects.toThrow(TypeError);
    }
    await expect(create(request, { now: -1 })).rejects.toThrow(TypeError);
    await expect(create(request, { close_at: 1.5 })).rejects.toThrow(TypeError);
    await expect(create(request, { merchant_no: "M/1" })).rejects.toThrow(TypeError);
    await expect(create("")).rejects.toThrow(TypeError);
    expect(await rowsOf(request)).toEqual({ jobs: 0, history: 0 });
  });

  it("refuses to act on a stored job that does not read as one", async () => {
    const request = requestNo();
    const { job } = await create(request);
    await db
      .prepare("INSERT INTO close_history (job_id, seq, at, status, actor) VALUES (?, 99, ?, 'closing', ?)")
      .bind(job.id, T0, CALLER_KEY)
      .run();
    const error = await getJob(db, MERCHANT, request).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/history\.\d+\.by/);
    expect((error as Error).message).not.toContain(CALLER_KEY);
  });
});

describe("close jobs: request_no is compared with ASCII case folding only", () => {
  it("treats request_no differing in A-Z case as one order", async () => {
    const request = requestNo("abc");
    const { job } = await create(request);
    const upper = request.toUpperCase();
    expect(await getJob(db, MERCHANT, upper)).toEqual(job);
    expect(await create(upper)).toEqual({ job, created: false });
  });

  it("keeps merchant_no case-sensitive", async () => {
    const request = requestNo();
    await create(request);
    expect(await getJob(db, MERCHANT.toLowerCase(), request)).toBeUndefined();
  });

  it("keeps the Kelvin sign (K, U+212A) apart from k and K", async () => {
    const tail = requestNo("");
    const kelvin = `\u212A${tail}`;
    expect(kelvin.toLowerCase()).toBe(`k${tail}`); // what Unicode folding would merge
    const plain = await create(`k${tail}`);
    const sign = await create(kelvin);
    expect(sign.created).toBe(true);
    expect(sign.job.instance_id).not.toBe(plain.job.instance_id);
    expect((await getJob(db, MERCHANT, `K${tail}`))?.id).toBe(plain.job.id);
    expect((await getJob(db, MERCHANT, kelvin))?.id).toBe(sign.job.id);
  });
});

describe("close jobs: reschedule and cancel", () => {
  it("reschedules a scheduled job under a new instance id, keeping the job and its history", async () => {
    const request = requestNo();
    const { job } = await create(request);
    const moved = await reschedule(db, job, T0 + 3600, T0 + 30, OTHER_CALLER);
    expect(moved).toMatchObject({
      id: job.id,
      generation: 2,
      instance_id: instanceId(await instanceIdPrefix(job.order_key), 2),
      status: "scheduled",
      close_at: T0 + 3600,
      created_at: T0,
      updated_at: T0 + 30,
    });
    // Each entry says when the job was to close from then on; the reschedule also what it replaced.
    expect(moved?.history).toEqual([
      { at: T0, status: "scheduled", by: CALLER, close_at: T0 + 600 },
      { at: T0 + 30, status: "scheduled", by: OTHER_CALLER, close_at: T0 + 3600, previous_close_at: T0 + 600 },
    ]);
    expect(await getJob(db, MERCHANT, request)).toEqual(moved);
    // The replaced instance, should it wake, runs nothing.
    expect(await transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 600)).toBeUndefined();
    expect((await getJob(db, MERCHANT, request))?.status).toBe("scheduled");
  });

  it.each([
    ["cancelled", (job: StoredJob) => cancel(db, job, T0 + 1, CALLER)],
    ["closing", (job: StoredJob) => transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 1)],
  ])("does not reschedule a %s job", async (_status, move) => {
    const request = requestNo();
    const { job } = await create(request);
    const before = await move(job);
    expect(await reschedule(db, job, T0 + 3600, T0 + 30, CALLER)).toBeUndefined();
    expect(await getJob(db, MERCHANT, request)).toEqual(before);
  });

  it("moves the job once for racing reschedules made from one read: the others find it changed", async () => {
    const request = requestNo();
    const { job } = await create(request);
    const moves = await Promise.all([1, 2, 3, 4].map((i) => reschedule(db, job, T0 + 1000 * i, T0 + i, CALLER)));
    const made = moves.filter((moved) => moved !== undefined);
    expect(made).toHaveLength(1);
    const current = await getJob(db, MERCHANT, request);
    expect(current).toEqual(made[0]);
    expect(current?.generation).toBe(2);
    expect(current?.history).toHaveLength(2);
    // Read again, the next reschedule moves it on to an id of its own.
    const next = await reschedule(db, current!, T0 + 9000, T0 + 9, CALLER);
    expect(next?.generation).toBe(3);
    expect(next?.instance_id).not.toBe(current?.instance_id);
  });

  it("cancels a scheduled job once: a second cancel changes nothing and succeeds", async () => {
    const request = requestNo();
    const { job } = await create(request);
    const cancelled = await cancel(db, job, T0 + 40, CALLER);
    expect(cancelled).toMatchObject({ status: "cancelled", updated_at: T0 + 40, instance_id: job.instance_id });
    expect(cancelled?.history).toEqual([
      { at: T0, status: "scheduled", by: CALLER, close_at: T0 + 600 },
      { at: T0 + 40, status: "cancelled", by: CALLER },
    ]);
    expect(await cancel(db, job, T0 + 50, OTHER_CALLER)).toEqual(cancelled);
    expect(await getJob(db, MERCHANT, request)).toEqual(cancelled);
  });

  it("cancels a rescheduled job (the job, whichever instance runs it)", async () => {
    const { job } = await create(requestNo());
    await reschedule(db, job, T0 + 3600, T0 + 1, CALLER);
    expect((await cancel(db, job, T0 + 2, CALLER))?.status).toBe("cancelled");
  });

  it("does not cancel a job that is closing: it returns it as it is", async () => {
    const job = await closingJob();
    expect(await cancel(db, job, T0 + 700, CALLER)).toEqual(job);
  });

  it("has nothing to cancel for an unknown job", async () => {
    expect(await cancel(db, { id: "close_unknown_g1" }, T0, CALLER)).toBeUndefined();
  });
});

describe("close jobs: the Workflow's transitions", () => {
  it("records scheduled -> closing -> closed, by the gateway", async () => {
    const request = requestNo();
    const job = await closingJob(request);
    expect(job.updated_at).toBe(T0 + 600);
    expect(await recordAttempts(db, job.instance_id, 2, T0 + 700)).toMatchObject({ attempts: 2, updated_at: T0 + 700 });
    const closed = await transition(
      db,
      job.instance_id,
      ["closing"],
      "closed",
      { attempts: 3, confirmed_by: "order-query" },
      T0 + 800,
    );
    expect(publicJob(closed!)).toEqual({
      merchant_no: MERCHANT,
      request_no: request,
      status: "closed",
      close_at: T0 + 600,
      created_at: T0,
      updated_at: T0 + 800,
      attempts: 3,
      closed_at: T0 + 800,
      confirmed_by: "order-query",
      reschedules: 0,
      history: [
        { at: T0, status: "scheduled", by: CALLER, close_at: T0 + 600 },
        { at: T0 + 600, status: "closing", by: "gateway" },
        { at: T0 + 800, status: "closed", by: "gateway" },
      ],
      history_total: 3,
    });
    expect(await getJob(db, MERCHANT, request)).toEqual(closed);
  });

  it("records a failure with SparkPay's code and message, the code in the history", async () => {
    const job = await closingJob();
    const failed = await transition(
      db,
      job.instance_id,
      ["closing"],
      "failed",
      { attempts: 1, error: { code: 40008, message: "Merchant does not exist" } },
      T0 + 601,
    );
    expect(failed).toMatchObject({ status: "failed", attempts: 1 });
    expect(failed?.error).toEqual({ code: 40008, message: "Merchant does not exist" });
    expect(failed?.closed_at).toBeUndefined();
    expect(failed?.history.at(-1)).toEqual({ at: T0 + 601, status: "failed", by: "gateway", code: 40008 });
  });

  it("keeps a text code as text, and takes an explicit history code", async () => {
    const job = await closingJob();
    const error = { code: "UPSTREAM_TIMEOUT", message: "gave up after 72 h" };
    const failed = await transition(
      db,
      job.instance_id,
      ["closing"],
      "failed",
      { error },
      T0 + 9,
      "gateway",
      "GIVE_UP",
    );
    expect(failed?.error).toEqual(error);
    expect(failed?.history.at(-1)).toEqual({ at: T0 + 9, status: "failed", by: "gateway", code: "GIVE_UP" });
  });

  it("is idempotent: the same transition again changes nothing and adds no history", async () => {
    const request = requestNo();
    const job = await closingJob(request);
    const again = await transition(db, job.instance_id, ["scheduled"], "closing", { attempts: 7 }, T0 + 999);
    expect(again).toEqual(job);
    const fields = { confirmed_by: "close" as const, closed_at: T0 + 650 };
    const closed = await transition(db, job.instance_id, ["closing"], "closed", fields, T0 + 700);
    const repeated = await transition(
      db,
      job.instance_id,
      ["closing"],
      "closed",
      { confirmed_by: "order-query" },
      T0 + 800,
    );
    expect(repeated).toEqual(closed);
    expect(closed).toMatchObject({ closed_at: T0 + 650, confirmed_by: "close", updated_at: T0 + 700 });
    expect(await rowsOf(request)).toEqual({ jobs: 1, history: 3 });
  });

  it("does not move a job from a status not in `from`", async () => {
    const request = requestNo();
    const { job } = await create(request);
    const cancelled = await cancel(db, job, T0 + 1, CALLER);
    expect(await transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 2)).toEqual(cancelled);
    const error = { code: "X", message: "x" };
    expect(await transition(db, job.instance_id, ["scheduled", "closing"], "failed", { error }, T0 + 3)).toEqual(
      cancelled,
    );
    expect(await rowsOf(request)).toEqual({ jobs: 1, history: 2 });
  });

  it("refuses transitions that make no sense, and a closed or failed job without its details", async () => {
    const { job } = await create(requestNo());
    const id = job.instance_id;
    await expect(transition(db, id, [], "closing", {}, T0)).rejects.toThrow(TypeError);
    await expect(transition(db, id, ["closing"], "closing", {}, T0)).rejects.toThrow(TypeError);
    await expect(
      transition(db, id, ["cancelled" as "closing"], "closed", { confirmed_by: "close" }, T0),
    ).rejects.toThrow(TypeError);
    await expect(transition(db, id, ["scheduled"], "closed", {} as { confirmed_by: "close" }, T0)).rejects.toThrow(
      TypeError,
    );
    await expect(
      transition(db, id, ["scheduled"], "failed", {} as { error: { code: 1; message: "" } }, T0),
    ).rejects.toThrow(TypeError);
    expect((await getJob(db, MERCHANT, job.request_no))?.history).toHaveLength(1);
  });

  it("counts attempts only while closing, and never down", async () => {
    const { job } = await create(requestNo());
    expect((await recordAttempts(db, job.instance_id, 1, T0 + 1))?.attempts).toBe(0);
    const closing = await transition(db, job.instance_id, ["scheduled"], "closing", { attempts: 2 }, T0 + 2);
    expect(closing?.attempts).toBe(2);
    expect(await recordAttempts(db, job.instance_id, 1, T0 + 3)).toEqual(closing);
    expect((await recordAttempts(db, job.instance_id, 4, T0 + 4))?.attempts).toBe(4);
    expect(closing?.history).toHaveLength(2);
    expect(await recordAttempts(db, "close_unknown_g1", 4, T0)).toBeUndefined();
  });
});

describe("close jobs: one job per order, whatever the concurrency", () => {
  it("lets exactly one of racing creates create; the others get its job", async () => {
    const request = requestNo();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create(i % 2 ? request : request.toUpperCase(), { now: T0 + i })),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const winner = results.find((result) => result.created)!.job;
    for (const { job } of results) expect(job).toEqual(winner);
    expect(await rowsOf(request)).toEqual({ jobs: 1, history: 1 });
  });

  it("lets exactly one of racing creates after a cancel start generation 2", async () => {
    const request = requestNo();
    const { job } = await create(request);
    await cancel(db, job, T0 + 1, CALLER);
    const results = await Promise.all([create(request, { now: T0 + 2 }), create(request, { now: T0 + 3 })]);
    expect(results.map((result) => result.created).sort()).toEqual([false, true]);
    expect(results[0].job).toEqual(results[1].job);
    expect(results[0].job.generation).toBe(2);
    expect(await rowsOf(request)).toEqual({ jobs: 2, history: 3 });
  });

  it("never issues an instance id twice, and every one fits Cloudflare's rule", async () => {
    const request = requestNo();
    const seen: string[] = [];
    let { job } = await create(request);
    for (let round = 0; round < 3; round++) {
      seen.push(job.instance_id);
      const moved = await reschedule(db, job, T0 + 100 + round, T0 + round, CALLER);
      seen.push(moved!.instance_id);
      await cancel(db, moved!, T0 + round, CALLER);
      ({ job } = await create(request, { now: T0 + round }));
    }
    seen.push(job.instance_id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(job.generation).toBe(7);
    for (const id of seen) {
      expect(id).toMatch(INSTANCE_ID_PATTERN);
      expect(id).toMatch(/^close_[0-9a-f]{40}_g\d+$/);
    }
    // Different orders never share a prefix.
    const other = await create(requestNo());
    expect(other.job.instance_id.slice(0, 46)).not.toBe(job.instance_id.slice(0, 46));
  });
});

describe("close jobs: bounded histories", () => {
  /** Appends `count` history entries to the job straight in D1, as that many reschedules would have. */
  async function appendHistory(job: StoredJob, count: number) {
    await db.batch([
      db
        .prepare(
          `WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?2 + 1)
INSERT INTO close_history (job_id, seq, at, status, actor) SELECT ?1, i, ?3, 'scheduled', 'gateway' FROM n`,
        )
        .bind(job.id, count, T0),
      db.prepare("UPDATE close_jobs SET revision = ?2 WHERE id = ?1").bind(job.id, count + 1),
    ]);
  }

  it("a job with 40,000 history entries still reads (the latest 100, and the total), transitions and closes", async () => {
    const request = requestNo();
    const { job } = await create(request);
    await appendHistory(job, 40_000);
    const read = await getJob(db, MERCHANT, request);
    expect(read).toMatchObject({ history_total: 40_001, reschedules: 40_000 });
    expect(read?.history).toHaveLength(100);
    // The most recent, oldest first.
    expect(read?.history[0]?.at).toBe(T0);
    const closing = await transition(db, job.instance_id, ["scheduled"], "closing", {}, T0 + 600);
    expect(closing).toMatchObject({ status: "closing", history_total: 40_002 });
    const closed = await transition(
      db,
      job.instance_id,
      ["closing"],
      "closed",
      { confirmed_by: "order-query" },
      T0 + 700,
    );
    expect(closed).toMatchObject({ status: "closed", history_total: 40_003 });
    expect(closed?.history).toHaveLength(100);
    expect(closed?.history.slice(-2).map(({ status }) => status)).toEqual(["closing", "closed"]);
  });

  it("a job rescheduled 100 times is not rescheduled again (the store refuses; the job stays)", async () => {
    const request = requestNo();
    const { job } = await create(request);
    await appendHistory(job, 99);
    const last = await reschedule(db, job, T0 + 7200, T0 + 1, CALLER);
    expect(last).toMatchObject({ reschedules: 100, close_at: T0 + 7200 });
    expect(await reschedule(db, last!, T0 + 9000, T0 + 2, CALLER)).toBeUndefined();
    expect(await getJob(db, MERCHANT, request)).toEqual(last);
  });
});
