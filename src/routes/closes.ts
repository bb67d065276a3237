import type { Context } from "hono";
import { Hono } from "hono/tiny";
import * as v from "valibot";
import { CLOSE_AT_RULE } from "../closes/scheduler";
import type { AppEnv } from "../env";
import { methodNotAllowed } from "../errors";
import { refuseInvalid } from "../middleware/invalid-request";
import { limitBody, parseJsonObject, requireJsonMediaType } from "../middleware/json-body";
import { orderPath } from "../middleware/order-path";

/** Durable closes: one job per order that closes it at close_at, whatever happens to SparkPay meanwhile. */
export const CLOSES_ROUTE = "/v1/closes/:merchant_no/:request_no" as const;
/** Every job an order had: the current one, and the earlier ones a cancel or a failure ended. */
export const CLOSE_JOBS_ROUTE = `${CLOSES_ROUTE}/jobs` as const;
/** The job's latest event, sent again on request. */
export const CLOSE_WEBHOOK_ROUTE = `${CLOSES_ROUTE}/webhook` as const;

const REOPEN_RULE = "reopen must be true or false: true closes an order whose close job was cancelled.";

/** PUT's optional body. `v.object` ignores unknown keys, as the close route's body does. */
export const ScheduleCloseRequestSchema = v.object({
  close_at: v.optional(v.pipe(v.number(CLOSE_AT_RULE), v.safeInteger(CLOSE_AT_RULE))),
  /** Close an order whose close job was cancelled after all: without it, a PUT on a cancelled job is 409. */
  reopen: v.optional(v.boolean(REOPEN_RULE)),
});
export type ScheduleCloseRequest = v.InferOutput<typeof ScheduleCloseRequestSchema>;

/** PUT's body: empty without one; 400 naming the field when close_at or reopen breaks its rule. */
async function readSchedule(c: Context<AppEnv>): Promise<ScheduleCloseRequest> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  requireJsonMediaType(c.req.header("Content-Type"));
  const body = await parseJsonObject(() => JSON.parse(text));
  const parsed = v.safeParse(ScheduleCloseRequestSchema, body);
  if (!parsed.success) refuseInvalid(parsed.issues);
  return parsed.output;
}

/**
 * PUT, GET and DELETE /v1/closes/{merchant_no}/{request_no}: the order's close job (src/closes/scheduler.ts decides
 * what each does). Caller key, both rate limits, key scope and the identifier rule for the path, as for the close
 * route.
 */
export const closes = new Hono<AppEnv>()
  .put(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>(), limitBody(), async (c) => {
    const services = c.get("services");
    const scheduler = services.closeScheduler();
    // A job is never accepted with a promise of a webhook the gateway could not send (503 naming the setting).
    services.webhooks();
    const { close_at: closeAt, reopen } = await readSchedule(c);
    const by = `caller:${c.get("caller").id}` as const;
    const { job, created } = await scheduler.schedule(c.req.valid("param"), closeAt, by, { reopen });
    Object.assign(c.get("logFields"), { close_status: job.status });
    return c.json(job, created ? 202 : 200);
  })
  .get(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>("read"), async (c) => {
    return c.json(await c.get("services").closeScheduler().find(c.req.valid("param")), 200);
  })
  // A cancel spends no merchant budget: "the customer paid in time: cancel it" must not wait behind polling or closes.
  .delete(CLOSES_ROUTE, orderPath<typeof CLOSES_ROUTE>("none"), async (c) => {
    const job = await c
      .get("services")
      .closeScheduler()
      .cancel(c.req.valid("param"), `caller:${c.get("caller").id}`);
    return c.json(job, 200);
  })
  .get(CLOSE_JOBS_ROUTE, orderPath<typeof CLOSE_JOBS_ROUTE>("read"), async (c) => {
    return c.json({ jobs: await c.get("services").closeScheduler().list(c.req.valid("param")) }, 200);
  })
  .post(CLOSE_WEBHOOK_ROUTE, orderPath<typeof CLOSE_WEBHOOK_ROUTE>(), async (c) => {
    const services = c.get("services");
    const job = await services.closeScheduler().redeliver(c.req.valid("param"), services.webhooks());
    return c.json(job, 200);
  })
  .all(CLOSE_WEBHOOK_ROUTE, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  })
  .all(CLOSE_JOBS_ROUTE, (c) => {
    throw methodNotAllowed(c.req.method, ["GET"]);
  })
  .all(CLOSES_ROUTE, (c) => {
    throw methodNotAllowed(c.req.method, ["PUT", "GET", "DELETE"]);
  });
