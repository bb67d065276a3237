import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getJob, NEWEST_MIGRATION } from "../../src/closes/store";
import { transition } from "../../src/closes/transitions";
import { callGateway } from "./helpers";

/**
 * A database as an operator has it: the first migration applied, jobs in it, then the next migration. The code of
 * this version must not run against the older tables (/healthz says so, so a deploy rolls back), and the migration
 * must keep every job and its history.
 */
const [first, ...rest] = env.TEST_MIGRATIONS;
const db = env.TEST_MIGRATION_DB;

async function health() {
  const { response } = await callGateway({
    method: "GET",
    url: "https://gateway.test/healthz",
    env: { CLOSE_JOBS_DB: db },
  });
  return { status: response.status, body: (await response.json()) as { checks: Record<string, unknown> } };
}

describe("D1 migrations, one at a time", () => {
  it("names the newest migration as the code's own", () => {
    expect(env.TEST_MIGRATIONS.at(-1)?.name).toBe(NEWEST_MIGRATION);
  });

  it("a database one migration behind is not ready; migrated, its jobs read as before, with the new fields", async () => {
    expect(first?.name).toMatch(/^0001_/);
    expect(rest.length).toBeGreaterThan(0);
    await applyD1Migrations(db, [first!]);
    // A job closed under the first schema, as that version wrote it.
    await db.batch([
      db.prepare("INSERT INTO close_orders (order_key, current_job, generation) VALUES ('M_1/old_1', 'close_x_g1', 1)"),
      db.prepare(
        `INSERT INTO close_jobs (id, instance_id, order_key, merchant_no, request_no, generation, status, close_at,
          created_at, updated_at, attempts, closed_at, confirmed_by, revision)
        VALUES ('close_x_g1', 'close_x_g1', 'M_1/old_1', 'M_1', 'OLD_1', 1, 'closed', 100, 90, 120, 1, 120, 'close', 3)`,
      ),
      db.prepare(
        `INSERT INTO close_history (job_id, seq, at, status, actor, code) VALUES
          ('close_x_g1', 1, 90, 'scheduled', 'caller:0123456789ab', NULL),
          ('close_x_g1', 2, 100, 'closing', 'gateway', NULL),
          ('close_x_g1', 3, 120, 'closed', 'gateway', NULL)`,
      ),
    ]);
    const behind = await health();
    expect(behind.status).toBe(503);
    expect(behind.body.checks.CLOSE_JOBS_DB).toEqual({
      status: "problem",
      message: expect.stringMatching(/^CLOSE_JOBS_DB does not answer .*`wrangler d1 migrations apply/),
    });

    // Every migration but the newest: still not ready (the newest one's CHECK would refuse the repair's entries).
    await applyD1Migrations(db, env.TEST_MIGRATIONS.slice(0, -1));
    expect((await health()).status).toBe(503);
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    expect((await health()).status).toBe(200);
    const job = await getJob(db, "M_1", "OLD_1");
    expect(job).toEqual({
      id: "close_x_g1",
      instance_id: "close_x_g1",
      generation: 1,
      order_key: "M_1/old_1",
      merchant_no: "M_1",
      request_no: "OLD_1",
      status: "closed",
      close_at: 100,
      created_at: 90,
      updated_at: 120,
      attempts: 1,
      closed_at: 120,
      confirmed_by: "close",
      reschedules: 0,
      history: [
        { at: 90, status: "scheduled", by: "caller:0123456789ab" },
        { at: 100, status: "closing", by: "gateway" },
        { at: 120, status: "closed", by: "gateway" },
      ],
      history_total: 3,
    });
    // The new statuses and fields are accepted by the rebuilt tables.
    await db.batch([
      db.prepare("INSERT INTO close_orders (order_key, current_job, generation) VALUES ('M_1/new_1', 'close_y_g1', 1)"),
      db.prepare(
        `INSERT INTO close_jobs (id, instance_id, order_key, merchant_no, request_no, generation, status, close_at,
          created_at, updated_at, attempts, revision)
        VALUES ('close_y_g1', 'close_y_g1', 'M_1/new_1', 'M_1', 'NEW_1', 1, 'closing', 100, 90, 100, 0, 1)`,
      ),
      db.prepare(
        "INSERT INTO close_history (job_id, seq, at, status, actor) VALUES ('close_y_g1', 1, 90, 'closing', 'gateway')",
      ),
    ]);
    const order = { request_no: "NEW_1", merchant_no: "M_1", merchant_order_no: "MO_NEW_1", pay_status: "SUCCESS" };
    const error = { code: "ORDER_NOT_CLOSABLE", message: "The order is SUCCESS, not closed." };
    const ended = await transition(db, "close_y_g1", ["closing"], "not_closable", { error, order }, 130);
    expect(ended).toMatchObject({ status: "not_closable", order, error });
    expect(ended?.history.at(-1)).toEqual({
      at: 130,
      status: "not_closable",
      by: "gateway",
      code: error.code,
      pay_status: "SUCCESS",
    });
  });
});
