import { nowSeconds } from "../clock";
import type { Logger } from "../log";
import { DEFAULT_REPAIR_STALLED_S } from "../settings/schema";
import { closeParams, type StoredJob } from "./job";
import { FIRST_ROUND_GAP_S, MAX_ROUND_GAP_S } from "./round-gaps";
import { overdueJobs, reinstance } from "./store";

/**
 * Nothing left stuck: run by the Cron Trigger (src/scheduled.ts), it finds live jobs that should have moved on and
 * whose Workflow instance is not going to move them, and gives each a new instance that carries on from D1's state
 * (a `scheduled` job closes, a `closing` one goes on with its next round). What strands a job: an instance that
 * errored (its D1 steps out of retries), was terminated by hand, or never started (the request that wrote the job was
 * cancelled before it started one); locally, every instance that was sleeping when `wrangler dev` stopped.
 *
 * A repair is idempotent: the move to the new instance checks, in the statement that makes it, that the job is still
 * as it was read (same status, same instance), and the old instance, should it wake after all, runs no job.
 */

/** How late a job must be (past its close_at, or past its next round) before its instance is looked at. */
export const REPAIR_LATE_S = 60;
/**
 * How late a job must be before an instance that still says it is running (or waiting) is given up on, by default
 * (CLOSE_REPAIR_STALLED_S): longer than a round can take (its step's 5-minute timeout, a wait for a burst slot), so a
 * slow instance is never doubled. Locally, an instance that slept through a `wrangler dev` restart says so too.
 */
export { DEFAULT_REPAIR_STALLED_S as REPAIR_STALLED_S } from "../settings/schema";
/** Jobs of each kind (scheduled, closing) looked at per run; the rest wait for the next minute. */
export const REPAIR_BATCH = 50;

/** Instance statuses that will never move the job on. */
const DEAD = new Set<string>(["errored", "terminated", "complete"]);
/** Instance statuses that are not the gateway's to override: Workflows is holding it (queued), or an operator (paused). */
const HELD = new Set<string>(["queued", "paused", "waitingForPause"]);

/** What a run did, for its log line and for tests. */
export interface RepairReport {
  /** Overdue jobs looked at. */
  checked: number;
  /** Given a new instance. */
  repaired: number;
  /** Left as they are: held, still within REPAIR_STALLED_S, or changed meanwhile. */
  left: number;
  /** Repaired, but Workflows refused the new instance: the next run tries again. */
  unstarted: number;
}

export interface CloseRepairOptions {
  db: D1Database;
  workflow: Workflow;
  logger: Logger;
  /** CLOSE_REPAIR_STALLED_S. */
  stalledS?: number;
  /** Unix seconds; injected so tests can move time. */
  now?: () => number;
}

export class CloseRepair {
  private readonly db: D1Database;
  private readonly workflow: Workflow;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly stalledS: number;

  constructor({ db, workflow, logger, stalledS = DEFAULT_REPAIR_STALLED_S, now = nowSeconds }: CloseRepairOptions) {
    this.db = db;
    this.stalledS = stalledS;
    this.workflow = workflow;
    this.logger = logger;
    this.now = now;
  }

  async run(): Promise<RepairReport> {
    const now = this.now();
    const gap = { firstS: FIRST_ROUND_GAP_S, maxS: MAX_ROUND_GAP_S };
    const jobs = await overdueJobs(this.db, now, REPAIR_LATE_S, gap, REPAIR_BATCH);
    const report: RepairReport = { checked: jobs.length, repaired: 0, left: 0, unstarted: 0 };
    for (const job of jobs) {
      const outcome = await this.repair(job, now);
      report[outcome]++;
    }
    if (report.checked > 0) this.logger.info({ msg: "close jobs repair", ...report });
    return report;
  }

  private async repair(job: StoredJob, now: number): Promise<"repaired" | "left" | "unstarted"> {
    const instance = await this.instanceStatus(job.instance_id);
    if (HELD.has(instance)) return "left";
    const lateS = now - (job.status === "scheduled" ? job.close_at : job.updated_at);
    if (!DEAD.has(instance) && instance !== "missing" && lateS < this.stalledS) return "left";
    const moved = await reinstance(this.db, job, now);
    if (!moved) return "left"; // it moved on (or was moved) since it was read
    const fields = { instance_id: job.instance_id, new_instance_id: moved.instance_id, status: job.status, instance };
    this.logger.warn({ msg: "close job repaired", ...fields });
    // One that still runs (stalled) is stopped, so it never runs beside its replacement.
    if (!DEAD.has(instance) && instance !== "missing") await this.terminate(job.instance_id);
    try {
      await this.workflow.create({ id: moved.instance_id, params: closeParams(moved) });
      return "repaired";
    } catch (error) {
      // The job names an instance that does not exist: the next run finds it `missing` and tries again.
      const reason = error instanceof Error ? error.message : typeof error;
      this.logger.error({ msg: "close job repair not started", ...fields, error: reason });
      return "unstarted";
    }
  }

  /** The instance's status, or "missing" when Workflows has no such instance. */
  private async instanceStatus(instanceId: string): Promise<string> {
    try {
      return (await (await this.workflow.get(instanceId)).status()).status;
    } catch {
      return "missing";
    }
  }

  private async terminate(instanceId: string): Promise<void> {
    try {
      await (await this.workflow.get(instanceId)).terminate();
    } catch {
      // Gone or finished already: either way it runs nothing now.
    }
  }
}
