import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/closes/job";
import { CloseScheduler } from "../../src/closes/scheduler";
import { getJob } from "../../src/closes/store";
import { transition } from "../../src/closes/transitions";
import { GatewayError } from "../../src/errors";
import { Logger } from "../../src/log";

/**
 * The close-job state machine against the real D1 and the real Workflow binding, with its clock injected: times are
 * years ahead, so every instance it starts sleeps for the length of the test run and closes nothing.
 */
const T0 = 2_000_000_000;
const MERCHANT = "M_SCHED_001";
const CALLER: Actor = "caller:0123456789ab";
const quiet = new Logger("error");

function scheduler(now = T0, workflow: Workflow = env.CLOSE_WORKFLOW) {
  return new CloseScheduler({ db: env.CLOSE_JOBS_DB, workflow, logger: quiet, now: () => now });
}

const order = () => ({ merchant_no: MERCHANT, request_no: `S_${crypto.randomUUID().replaceAll("-", "")}` });

async function instanceStatus(id: string): Promise<string> {
  return (await (await env.CLOSE_WORKFLOW.get(id)).status()).status;
}

/** What the scheduler threw, as its code (GatewayError) or the error itself. */
async function refusal(run: Promise<unknown>): Promise<string | unknown> {
  try {
    await run;
  } catch (error) {
    return error instanceof GatewayError ? error.code : error;
  }
  return "no refusal";
}

describe("CloseScheduler: what PUT does to each state", () => {
  it.each([
    // [case, close_at of the first PUT, close_at of the second PUT (null: no second PUT), expected]
    ["no job, no close_at: a job closing now", undefined, null, { created: true, status: "scheduled", close_at: T0 }],
    ["no job, close_at ahead: a job at close_at", T0 + 600, null, { created: true, close_at: T0 + 600 }],
    ["no job, close_at up to 300 s past: a job closing now", T0 - 300, null, { created: true, close_at: T0 }],
    ["scheduled, no close_at: left as it is", T0 + 600, undefined, { created: false, close_at: T0 + 600 }],
    ["scheduled, the same close_at: left as it is", T0 + 600, T0 + 600, { created: false, close_at: T0 + 600 }],
    ["scheduled, another close_at: rescheduled", T0 + 600, T0 + 900, { created: false, close_at: T0 + 900 }],
    ["scheduled, close_at now: moved to now", T0 + 600, T0, { created: false, close_at: T0 }],
  ] as const)("%s", async (_case, first, second, expected) => {
    const ref = order();
    const made = await scheduler().schedule(ref, first, CALLER);
    const result = second === null ? made : await scheduler().schedule(ref, second, CALLER);
    expect(result).toMatchObject({
      created: expected.created,
      job: { status: "scheduled", close_at: expected.close_at },
    });
    if (second === null) expect(made.created).toBe(true);
  });

  it.each([
    ["301 s in the past", T0 - 301, /^close_at is 301 s in the past \(at most 300 s counts as now\)/],
    [
      "a delay sent as a time",
      1800,
      /^close_at 1800 is not a Unix time .*send now \+ 1800; omit close_at to close now\.$/,
    ],
    ["more than 30 days ahead", T0 + 30 * 86_400 + 1, /^close_at must be an integer: Unix seconds, at most 30 days/],
  ])("close_at %s: 400 INVALID_REQUEST naming close_at, no job made", async (_case, closeAt, message) => {
    const ref = order();
    const error = await scheduler()
      .schedule(ref, closeAt, CALLER)
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: "INVALID_REQUEST",
      param: "close_at",
      message: expect.stringMatching(message),
    });
    expect(await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no)).toBeUndefined();
  });

  it("a job rescheduled 100 times: a new close_at is 409 CLOSE_CONFLICT naming the limit; the job stays", async () => {
    const ref = order();
    await scheduler().schedule(ref, T0 + 600, CALLER);
    const job = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    // 100 reschedules' entries, as if they had been made.
    await env.CLOSE_JOBS_DB.batch([
      env.CLOSE_JOBS_DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 101)
INSERT INTO close_history (job_id, seq, at, status, actor) SELECT ?1, i, ?2, 'scheduled', 'gateway' FROM n`,
      ).bind(job!.id, T0),
      env.CLOSE_JOBS_DB.prepare("UPDATE close_jobs SET revision = 101 WHERE id = ?1").bind(job!.id),
    ]);
    const error = await scheduler()
      .schedule(ref, T0 + 900, CALLER)
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toMatchObject({
      code: "CLOSE_CONFLICT",
      message: expect.stringMatching(/rescheduled 100 times, the limit/),
    });
    expect(await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no)).toMatchObject({ close_at: T0 + 600 });
    // Leaving it as it is still works.
    expect(await scheduler().schedule(ref, undefined, CALLER)).toMatchObject({ created: false });
  });

  it("a reschedule moves the job to a new instance and terminates the old one", async () => {
    const ref = order();
    await scheduler().schedule(ref, T0 + 600, CALLER);
    const before = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    await scheduler().schedule(ref, T0 + 900, CALLER);
    const after = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    expect(after?.id).toBe(before?.id);
    expect(after?.instance_id).not.toBe(before?.instance_id);
    expect(await instanceStatus(before!.instance_id)).toBe("terminated");
    expect(await instanceStatus(after!.instance_id)).not.toBe("terminated");
    expect(after?.history.map((entry) => entry.status)).toEqual(["scheduled", "scheduled"]);
  });

  it("a closing job: close now is answered as it is, a future close_at is 409 CLOSE_CONFLICT", async () => {
    const ref = order();
    await scheduler().schedule(ref, T0 + 600, CALLER);
    const job = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    await transition(env.CLOSE_JOBS_DB, job!.instance_id, ["scheduled"], "closing", {}, T0 + 600);
    expect(await scheduler(T0 + 601).schedule(ref, undefined, CALLER)).toMatchObject({
      created: false,
      job: { status: "closing" },
    });
    expect(await refusal(scheduler(T0 + 601).schedule(ref, T0 + 1200, CALLER))).toBe("CLOSE_CONFLICT");
    expect(await refusal(scheduler(T0 + 601).cancel(ref, CALLER))).toBe("CLOSE_CONFLICT");
  });

  it("racing PUTs make exactly one job and start one instance", async () => {
    const ref = order();
    const results = await Promise.all(Array.from({ length: 6 }, () => scheduler().schedule(ref, T0 + 600, CALLER)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.job.created_at)).size).toBe(1);
    const job = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    expect(job?.generation).toBe(1);
    expect(job?.history).toHaveLength(1);
  });

  it("a start Workflows refuses: the job is failed (CLOSE_JOBS_UNAVAILABLE) and the next PUT makes a new job", async () => {
    const ref = order();
    const refusing = {
      create: async () => {
        throw new Error("Workflows is unavailable");
      },
      get: env.CLOSE_WORKFLOW.get.bind(env.CLOSE_WORKFLOW),
    } as unknown as Workflow;
    expect(await refusal(scheduler(T0, refusing).schedule(ref, T0 + 600, CALLER))).toBe("CLOSE_JOBS_UNAVAILABLE");
    const failed = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    expect(failed).toMatchObject({ status: "failed", error: { code: "CLOSE_JOBS_UNAVAILABLE" } });
    const again = await scheduler().schedule(ref, T0 + 600, CALLER);
    expect(again).toMatchObject({ created: true, job: { status: "scheduled" } });
    expect((await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no))?.generation).toBe(2);
  });

  it("a close_at more than 30 days ahead is refused naming close_at, and nothing is stored", async () => {
    const ref = order();
    expect(await refusal(scheduler().schedule(ref, T0 + 31 * 86_400, CALLER))).toBe("INVALID_REQUEST");
    expect(await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no)).toBeUndefined();
  });
});

describe("CloseScheduler: cancel and find", () => {
  it("cancels a scheduled job once (its instance terminated); a second cancel answers it unchanged", async () => {
    const ref = order();
    await scheduler().schedule(ref, T0 + 600, CALLER);
    const cancelled = await scheduler(T0 + 1).cancel(ref, CALLER);
    expect(cancelled).toMatchObject({ status: "cancelled", updated_at: T0 + 1 });
    const job = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    expect(await instanceStatus(job!.instance_id)).toBe("terminated");
    expect(await scheduler(T0 + 2).cancel(ref, CALLER)).toEqual(cancelled);
    expect(await scheduler().find(ref)).toEqual(cancelled);
  });

  it("a cancelled job stays cancelled: PUT is 409 CLOSE_CONFLICT; with reopen, a new job (generation 2)", async () => {
    const ref = order();
    await scheduler().schedule(ref, T0 + 600, CALLER);
    await scheduler(T0 + 1).cancel(ref, CALLER);
    expect(await refusal(scheduler(T0 + 2).schedule(ref, undefined, CALLER))).toBe("CLOSE_CONFLICT");
    expect(await refusal(scheduler(T0 + 2).schedule(ref, T0 + 900, CALLER))).toBe("CLOSE_CONFLICT");
    const reopened = await scheduler(T0 + 3).schedule(ref, T0 + 900, CALLER, { reopen: true });
    expect(reopened).toMatchObject({ created: true, job: { status: "scheduled", close_at: T0 + 900 } });
    const stored = await getJob(env.CLOSE_JOBS_DB, ref.merchant_no, ref.request_no);
    expect(stored?.generation).toBe(2);
    // reopen on a live job changes nothing it would not change anyway.
    expect(await scheduler(T0 + 4).schedule(ref, undefined, CALLER, { reopen: true })).toMatchObject({
      created: false,
    });
  });

  it("an order with no job: find and cancel are 404 NOT_FOUND", async () => {
    expect(await refusal(scheduler().find(order()))).toBe("NOT_FOUND");
    expect(await refusal(scheduler().cancel(order(), CALLER))).toBe("NOT_FOUND");
  });
});
