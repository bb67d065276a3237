import {
  applyD1Migrations,
  createExecutionContext,
  createScheduledController,
  introspectWorkflowInstance,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { instanceId, instanceIdPrefix } from "../../src/closes/ids";
import { closeParams, type StoredJob } from "../../src/closes/job";
import { CloseRepair, REPAIR_LATE_S, REPAIR_STALLED_S } from "../../src/closes/repair";
import { createJob, getJob, reinstance } from "../../src/closes/store";
import { transition } from "../../src/closes/transitions";
import type { CloseOutput } from "../../src/closes/workflow";
import worker from "../../src/index";
import { Logger } from "../../src/log";
import { captureLogs, MERCHANT, sandboxOrder, uniqueId } from "./helpers";

/**
 * The Cron Trigger's repair of stuck close jobs, against real Workflow instances. Jobs here close at T_R, years before
 * any other test's, and the injected clock sits just after it: a scan finds this file's jobs and no other test's.
 */
const T_R = 1_100_000_000;
const CALLER = "caller:0123456789ab" as const;
/** A database with this file's jobs only, for the repair's decisions (its new instances find no job and stop). */
const repairDb = env.TEST_REPAIR_DB;

beforeAll(async () => {
  await applyD1Migrations(repairDb, env.TEST_MIGRATIONS);
});

/** Every introspector a test made, disposed after it (they change how instances run). */
const watched: { dispose(): Promise<void> }[] = [];
afterEach(async () => {
  for (const instance of watched.splice(0)) await instance.dispose();
});

function repairAt(now: number, db = env.CLOSE_JOBS_DB) {
  return new CloseRepair({ db, workflow: env.CLOSE_WORKFLOW, logger: new Logger("error"), now: () => now });
}

async function newJob(db: D1Database, request = uniqueId("RP"), closeAt = T_R): Promise<StoredJob> {
  const { job } = await createJob(db, {
    merchant_no: MERCHANT,
    request_no: request,
    close_at: closeAt,
    now: T_R - 600,
    by: CALLER,
  });
  return job;
}

async function instanceOf(job: Pick<StoredJob, "order_key">, generation: number): Promise<string> {
  return instanceId(await instanceIdPrefix(job.order_key), generation);
}

/** Runs the job's instance of `generation` without sleeps or retry pauses (after `start`, which may start it). */
async function watch(
  job: StoredJob,
  generation: number,
  setup?: Parameters<Awaited<ReturnType<typeof introspectWorkflowInstance>>["modify"]>[0],
) {
  const instance = await introspectWorkflowInstance(env.CLOSE_WORKFLOW, await instanceOf(job, generation));
  watched.push(instance);
  await instance.modify(async (m) => {
    await m.disableSleeps();
    await m.disableRetryDelays();
    await setup?.(m);
  });
  return instance;
}

describe("close jobs repair: nothing left stuck", () => {
  it("starts a scheduled job whose instance never started, once it is REPAIR_LATE_S overdue; it closes and says so", async () => {
    const job = await newJob(env.CLOSE_JOBS_DB);
    expect(await repairAt(T_R + REPAIR_LATE_S - 1).run()).toMatchObject({ repaired: 0 });

    const next = await watch(job, 2);
    const report = await repairAt(T_R + REPAIR_LATE_S).run();
    expect(report).toEqual({ checked: 1, repaired: 1, left: 0, unstarted: 0 });
    await next.waitForStatus("complete");
    expect(await next.getOutput()).toMatchObject({ status: "closed", rounds: 1 });

    const after = await getJob(env.CLOSE_JOBS_DB, MERCHANT, job.request_no);
    expect(after).toMatchObject({ status: "closed", generation: 2, attempts: 1 });
    expect(after?.history.map(({ status, by, event }) => [status, by, event])).toEqual([
      ["scheduled", CALLER, undefined],
      ["scheduled", "gateway", "repaired"],
      ["closing", "gateway", undefined],
      ["closed", "gateway", undefined],
    ]);
    // A repair is not a reschedule: the job's close_at and reschedule count are as they were.
    expect(after).toMatchObject({ close_at: T_R, reschedules: 0 });
    expect((await sandboxOrder(MERCHANT, job.request_no))?.pay_status).toBe("CLOSED");
  });

  it("gives a closing job whose instance errored a new one that goes on counting rounds from D1's", async () => {
    const job = await newJob(env.CLOSE_JOBS_DB);
    // The first instance closes the order, then cannot record it (D1 failing past every retry): it errors, the job
    // stays `closing` after one round.
    {
      const first = await watch(job, 1, async (m) => {
        await m.mockStepError({ name: "record closed" }, new Error("D1 gone (test)"), 17);
      });
      await env.CLOSE_WORKFLOW.create({ id: job.instance_id, params: closeParams(job) });
      await first.waitForStatus("errored");
    }
    const stuck = await getJob(env.CLOSE_JOBS_DB, MERCHANT, job.request_no);
    expect(stuck).toMatchObject({ status: "closing", attempts: 1 });
    // Stuck since T_R + 10, as the clock of this file has it.
    await env.CLOSE_JOBS_DB.prepare("UPDATE close_jobs SET updated_at = ?1 WHERE id = ?2")
      .bind(T_R + 10, job.id)
      .run();

    const next = await watch(job, 2);
    // Its next round was due 30 s after the last: REPAIR_LATE_S after that, an errored instance is given up on.
    expect(await repairAt(T_R + 10 + 30 + REPAIR_LATE_S - 1).run()).toMatchObject({ checked: 0 });
    expect(await repairAt(T_R + 10 + 30 + REPAIR_LATE_S).run()).toMatchObject({ repaired: 1 });
    await next.waitForStatus("complete");
    expect(await next.getOutput()).toMatchObject({ status: "closed", rounds: 2 });
    const after = await getJob(env.CLOSE_JOBS_DB, MERCHANT, job.request_no);
    expect(after).toMatchObject({ status: "closed", attempts: 2, confirmed_by: expect.any(String) });
    expect(after?.history.slice(-2).map(({ status, event }) => [status, event])).toEqual([
      ["closing", "repaired"],
      ["closed", undefined],
    ]);
  });

  it("leaves an instance that says it is running until REPAIR_STALLED_S, then replaces it and stops it", async () => {
    const job = await newJob(repairDb);
    // An instance that sleeps past close_at (as one does locally after a `wrangler dev` restart).
    const sleeper = await env.CLOSE_WORKFLOW.create({
      id: job.instance_id,
      params: { ...closeParams(job), close_at: T_R + 10 * 365 * 86_400 },
    });
    expect(["running", "waiting", "queued"]).toContain((await sleeper.status()).status);

    expect(await repairAt(T_R + REPAIR_STALLED_S - 1, repairDb).run()).toEqual({
      checked: 1,
      repaired: 0,
      left: 1,
      unstarted: 0,
    });
    expect((await getJob(repairDb, MERCHANT, job.request_no))?.instance_id).toBe(job.instance_id);

    expect(await repairAt(T_R + REPAIR_STALLED_S, repairDb).run()).toMatchObject({ repaired: 1 });
    const after = await getJob(repairDb, MERCHANT, job.request_no);
    expect(after).toMatchObject({ status: "scheduled", generation: 2, instance_id: await instanceOf(job, 2) });
    expect((await sleeper.status()).status).toBe("terminated");
  });

  it("leaves a paused instance alone: an operator paused it", async () => {
    const job = await newJob(repairDb);
    const paused = await env.CLOSE_WORKFLOW.create({
      id: job.instance_id,
      params: { ...closeParams(job), close_at: T_R + 10 * 365 * 86_400 },
    });
    await paused.pause();
    // Long past REPAIR_STALLED_S (other jobs of this file may be repaired meanwhile; this one is not).
    await repairAt(T_R + 10 * REPAIR_STALLED_S, repairDb).run();
    expect((await getJob(repairDb, MERCHANT, job.request_no))?.instance_id).toBe(job.instance_id);
    await paused.terminate();
  });

  it("repairs once when two runs race: one new instance, one history entry", async () => {
    const job = await newJob(repairDb);
    const at = T_R + 2 * REPAIR_STALLED_S;
    const reports = await Promise.all([repairAt(at, repairDb).run(), repairAt(at, repairDb).run()]);
    const mine = await getJob(repairDb, MERCHANT, job.request_no);
    expect(mine?.generation).toBe(2);
    expect(mine?.history.filter((entry) => entry.event === "repaired")).toHaveLength(1);
    // Other jobs of this file may be found too; of this one, exactly one run made the move.
    expect(reports.reduce((sum, report) => sum + report.repaired, 0)).toBeGreaterThanOrEqual(1);
  });

  it("an instance whose job was repaired away stops after its round, and records nothing", async () => {
    const job = await newJob(env.CLOSE_JOBS_DB);
    const closing = await transition(env.CLOSE_JOBS_DB, job.instance_id, ["scheduled"], "closing", {}, T_R);
    const moved = await reinstance(env.CLOSE_JOBS_DB, closing!, T_R + 700);
    expect(moved?.instance_id).toBe(await instanceOf(job, 2));
    // The old instance, already past its start when the repair moved the job, wakes for its round.
    const old = await watch(job, 1, async (m) => {
      await m.mockStepResult({ name: "start closing" }, "closing");
    });
    await env.CLOSE_WORKFLOW.create({ id: job.instance_id, params: closeParams(job) });
    await old.waitForStatus("complete");
    expect((await old.getOutput()) as CloseOutput).toEqual({ status: "stopped", rounds: 1 });
    expect(await getJob(env.CLOSE_JOBS_DB, MERCHANT, job.request_no)).toMatchObject({
      status: "closing",
      attempts: 0,
      instance_id: moved?.instance_id,
    });
  });
});

describe("the Cron Trigger", () => {
  it("runs the repair with the real clock", async () => {
    const request = uniqueId("RPC");
    const now = Math.floor(Date.now() / 1000);
    const job = await newJob(repairDb, request, now - 2 * REPAIR_LATE_S);
    const lines = await captureLogs(async () => {
      await worker.scheduled(
        createScheduledController({ cron: "* * * * *" }),
        { ...env, CLOSE_JOBS_DB: repairDb },
        createExecutionContext(),
      );
    });
    expect((await getJob(repairDb, MERCHANT, request))?.generation).toBe(2);
    const repaired = lines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === "close job repaired" && line.instance_id === job.instance_id);
    expect(repaired).toEqual({
      level: "warn",
      msg: "close job repaired",
      instance_id: job.instance_id,
      new_instance_id: await instanceOf(job, 2),
      status: "scheduled",
      instance: "missing",
    });
  });

  it("says in one line, without a stack, when D1 does not answer, and does not throw", async () => {
    const broken = {
      batch: async () => {
        throw new Error("D1 DB is overloaded. Requests queued for too long.");
      },
      prepare: (sql: string) => repairDb.prepare(sql),
    } as unknown as D1Database;
    const lines = await captureLogs(async () => {
      await worker.scheduled(
        createScheduledController({ cron: "* * * * *" }),
        { ...env, CLOSE_JOBS_DB: broken },
        createExecutionContext(),
      );
    });
    const stopped = lines.filter((line) => line.includes("close jobs repair stopped"));
    expect(stopped).toHaveLength(1);
    expect(JSON.parse(stopped[0]!)).toEqual({
      level: "error",
      msg: "close jobs repair stopped",
      error: expect.stringMatching(/^CloseJobsUnavailableError: /),
    });
    expect(stopped[0]).not.toMatch(/\n\s+at /);
  });
});
