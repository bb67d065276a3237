/**
 * The soak's durable phase (`SOAK_DURABLE=0` skips it): the deploy bundle in Miniflare with D1 (migrations applied)
 * and the close Workflow, SOAK_JOBS close jobs (default 1,000) PUT with close_at spread over the next minute, 5% with
 * injected faults. Waits for every job to end, then checks: each ends in the state its fault implies, every webhook's
 * Gateway-Signature verifies, one event id per job, no HTTP 500. Workflows sleep for real here (Miniflare offers no
 * introspection from Node), so the phase takes about two and a half minutes.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { migrationStatements } from "../lib/migrations";
import { durableClosesBindings, startLocalGateway } from "../local-gateway";
import { fetchRetryingResets } from "./http";

const MERCHANT = "M_SANDBOX_001";
/** A merchant_no SparkPay does not know: a definitive refusal, 40008. */
const UNKNOWN_MERCHANT = "M_NOBODY";
const FAULT_EVERY = 20;
/** The smallest give-up time the gateway accepts: a job whose SparkPay never recovers ends `failed` after it. */
const GIVE_UP_AFTER_S = 60;
const SPREAD_S = 60;
const PUT_CONCURRENCY = 20;
const POLL_CONCURRENCY = 20;
const FINISH_TIMEOUT_MS = 240_000;
const WEBHOOK_HOST = "webhooks.soak.test";
const WEBHOOK_URL = `https://${WEBHOOK_HOST}/hooks/sparkpay-closes`;

/**
 * What each planned job must end as. `outage` (503 on an order's first 5 close attempts) fails round 1's three
 * attempts and closes in round 2, 30 s later; `http503` never recovers, so the job fails at the give-up time;
 * the unknown merchant is refused for good in round 1.
 */
const EXPECT: Record<string, { status: "closed" | "failed"; code?: string | number; attempts?: number }> = {
  none: { status: "closed", attempts: 1 },
  outage: { status: "closed", attempts: 2 },
  http503: { status: "failed", code: "UPSTREAM_SERVER_ERROR" },
  unknown_merchant: { status: "failed", code: 40008, attempts: 1 },
};
const FAULTS = ["outage", "http503", "unknown_merchant"];

/**
 * A webhook receiver in this process: the gateway's outbound fetches all go through the sandbox router, which hands
 * requests for WEBHOOK_HOST here. Verifies each Gateway-Signature with node:crypto and records event ids per order.
 */
export function createReceiver(secret: string) {
  const stats = { deliveries: 0, verified: 0, badSignatures: [] as string[] };
  /** request_no -> close events seen */
  const byOrder = new Map<string, { ids: Set<string>; statuses: Set<string> }>();
  /** request_no -> its order.updated events: event id -> the pay_status each delivery carried, and their number */
  const orderUpdates = new Map<
    string,
    Map<string, { payStatuses: Set<string>; deliveries: number; notified: boolean }>
  >();
  return {
    stats,
    byOrder,
    orderUpdates,
    async handle(request: Request): Promise<Response> {
      const body = await request.text();
      stats.deliveries++;
      const header = request.headers.get("gateway-signature") ?? "";
      const t = /(?:^|,)t=(\d+)(?:,|$)/.exec(header)?.[1];
      const v1 = /(?:^|,)v1=([0-9a-f]{64})(?:,|$)/.exec(header)?.[1];
      const want = t && createHmac("sha256", secret).update(`${t}.${body}`).digest();
      const ok = want !== undefined && v1 !== undefined && timingSafeEqual(Buffer.from(v1, "hex"), want as Buffer);
      // biome-ignore lint/suspicious/noExplicitAny: a webhook body read as it came; each field is checked where read
      let event: any;
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      const requestNo = String(event?.data?.request_no ?? "");
      if (!ok) {
        stats.badSignatures.push(`${requestNo || "?"}: ${header || "no Gateway-Signature"}`);
        return new Response(null, { status: 400 });
      }
      stats.verified++;
      if (event?.type === "order.updated") {
        const events = orderUpdates.get(requestNo) ?? new Map();
        const seen = events.get(String(event.id)) ?? { payStatuses: new Set(), deliveries: 0, notified: false };
        seen.payStatuses.add(String(event.data.pay_status));
        seen.deliveries++;
        // A field only the notification carries (sandbox/notifier.mjs adds it): its content must never pass.
        seen.notified ||= "notify_time" in event.data || "sparkpay_new_field" in event.data;
        events.set(String(event.id), seen);
        orderUpdates.set(requestNo, events);
        return new Response(null, { status: 204 });
      }
      const seen = byOrder.get(requestNo) ?? { ids: new Set<string>(), statuses: new Set<string>() };
      seen.ids.add(String(event?.id));
      seen.statuses.add(String(event?.data?.status));
      byOrder.set(requestNo, seen);
      return new Response(null, { status: 204 });
    },
  };
}

/**
 * The deploy bundle in Miniflare with D1 (the migrations applied) and the close Workflow, its webhooks going to a
 * receiver in this process (createReceiver, with a fresh secret), everything else to the sandbox.
 */
export async function startDurableGateway(options: {
  scriptPath: string;
  sandbox: { handle(request: Request): Promise<Response> };
  bindings: Record<string, string>;
}) {
  const secret = randomBytes(24).toString("hex"); // 48 characters
  const receiver = createReceiver(secret);
  const { mf, url } = await startLocalGateway({
    scriptPath: options.scriptPath,
    upstream: (request) =>
      new URL(request.url).hostname === WEBHOOK_HOST ? receiver.handle(request) : options.sandbox.handle(request),
    bindings: { ...options.bindings, CLOSE_WEBHOOK_URL: WEBHOOK_URL, CLOSE_WEBHOOK_SECRET: secret },
    worker: durableClosesBindings("soak-close-jobs"),
    onStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.resume(); // one log line per request and round: not read here
    },
  });
  try {
    const db = await mf.getD1Database("CLOSE_JOBS_DB");
    for (const statement of migrationStatements(new URL("../../migrations", import.meta.url).pathname))
      await db.prepare(statement).run();
  } catch (error) {
    await mf.dispose();
    throw error;
  }
  return { mf, url, receiver };
}

/** Runs `task` over `items` with `concurrency` workers. */
export async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** One row of the soak's report: what, and how many or how it went. */
export type ReportRow = [string, string | number];

export async function runDurableSoak(options: {
  scriptPath: string;
  sandbox: { handle(request: Request): Promise<Response> };
  bindings: Record<string, string>;
  callerKey: string;
  jobs: number;
  run: string;
}): Promise<{ rows: ReportRow[]; problems: string[]; failures: number }> {
  const { scriptPath, sandbox, bindings, callerKey, jobs, run } = options;
  const { mf, url, receiver } = await startDurableGateway({
    scriptPath,
    sandbox,
    bindings: { ...bindings, CLOSE_GIVE_UP_AFTER_S: String(GIVE_UP_AFTER_S) },
  });
  try {
    const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
    const startS = Math.floor(Date.now() / 1000);
    const plan = Array.from({ length: jobs }, (_, i) => {
      const mode = i % FAULT_EVERY === FAULT_EVERY - 1 ? FAULTS[Math.floor(i / FAULT_EVERY) % FAULTS.length] : "none";
      const requestNo =
        mode === "none" || mode === "unknown_merchant"
          ? `DSOAK_${run}_${i}`
          : faultRequestNo(String(mode), `D${run}_${i}`);
      return {
        mode: String(mode),
        merchantNo: mode === "unknown_merchant" ? UNKNOWN_MERCHANT : MERCHANT,
        requestNo,
        closeAt: startS + 2 + Math.floor((i * SPREAD_S) / jobs),
        // biome-ignore lint/suspicious/noExplicitAny: GET /v1/closes's answer as it came; each field is checked where read
        job: undefined as any,
      };
    });
    const tally = { accepted: 0, status500: 0, putProblems: [] as string[], polls: 0 };
    const resets = { count: 0 };
    const fetch = fetchRetryingResets(resets);
    const path = (p: { merchantNo: string; requestNo: string }) =>
      `${url}/v1/closes/${encodeURIComponent(p.merchantNo)}/${encodeURIComponent(p.requestNo)}`;

    const putStarted = performance.now();
    await pool(plan, PUT_CONCURRENCY, async (p) => {
      const response = await fetch(path(p), {
        method: "PUT",
        headers,
        body: JSON.stringify({ close_at: p.closeAt }),
      });
      const text = await response.text();
      if (response.status === 500) tally.status500++;
      if (response.status === 202) tally.accepted++;
      else tally.putProblems.push(`PUT ${p.requestNo}: HTTP ${response.status} ${text.slice(0, 160)}`);
    });
    const putSeconds = (performance.now() - putStarted) / 1000;

    // Poll until every job has ended (closed or failed), or the time is up.
    const deadline = Date.now() + FINISH_TIMEOUT_MS;
    let open = plan.filter((p) => tally.putProblems.every((line) => !line.includes(` ${p.requestNo}:`)));
    while (open.length > 0 && Date.now() < deadline) {
      await sleep(2_000);
      await pool(open, POLL_CONCURRENCY, async (p) => {
        const response = await fetch(path(p), { headers: { Authorization: headers.Authorization } });
        tally.polls++;
        if (response.status === 500) tally.status500++;
        const body = await response.json().catch(() => undefined);
        if (response.status === 200) p.job = body;
      });
      open = open.filter((p) => p.job?.status !== "closed" && p.job?.status !== "failed");
    }
    // The webhook is sent after the job's end is recorded: give the last ones a moment.
    const hooksDeadline = Date.now() + 30_000;
    while (Date.now() < hooksDeadline && plan.some((p) => p.job && !receiver.byOrder.has(p.requestNo)))
      await sleep(500);
    const seconds = (performance.now() - putStarted) / 1000;

    const wrong: string[] = [];
    const hookProblems: string[] = [];
    let closed = 0;
    let failed = 0;
    for (const p of plan) {
      const want = EXPECT[p.mode]!;
      const job = p.job;
      if (job?.status === "closed") closed++;
      if (job?.status === "failed") failed++;
      const why = [];
      if (job?.status !== want.status) why.push(`status ${job?.status ?? "unknown"}, want ${want.status}`);
      if (want.code !== undefined && job?.error?.code !== want.code)
        why.push(`error code ${JSON.stringify(job?.error?.code)}, want ${JSON.stringify(want.code)}`);
      if (want.attempts !== undefined && job?.attempts !== want.attempts)
        why.push(`attempts ${job?.attempts}, want ${want.attempts}`);
      if (why.length > 0) wrong.push(`${p.mode} ${p.requestNo}: ${why.join("; ")}`);
      const seen = receiver.byOrder.get(p.requestNo);
      if (seen === undefined || seen.ids.size !== 1)
        hookProblems.push(`${p.requestNo}: ${seen?.ids.size ?? 0} event ids`);
      else if (!seen.statuses.has(want.status) || seen.statuses.size !== 1)
        hookProblems.push(`${p.requestNo}: webhook status ${[...seen.statuses].join("/")}, want ${want.status}`);
    }
    const unknownOrders = [...receiver.byOrder.keys()].filter((no) => !plan.some((p) => p.requestNo === no));
    for (const no of unknownOrders) hookProblems.push(`webhook for an order not in this run: ${no}`);

    const faultCounts: Record<string, number> = {};
    for (const p of plan) if (p.mode !== "none") faultCounts[p.mode] = (faultCounts[p.mode] ?? 0) + 1;
    const faults = Object.values(faultCounts).reduce((sum, n) => sum + n, 0);
    const rows: ReportRow[] = [
      ["jobs", `${jobs}, close_at over ${SPREAD_S} s, give-up after ${GIVE_UP_AFTER_S} s`],
      [
        "with an injected fault",
        `${faults} (${Object.entries(faultCounts)
          .map(([mode, n]) => `${mode}=${n}`)
          .join(", ")})`,
      ],
      [
        "accepted (202)",
        `${tally.accepted} (${Math.round(jobs / putSeconds)} PUT/s at concurrency ${PUT_CONCURRENCY})`,
      ],
      ["closed / failed", `${closed} / ${failed}`],
      ["not ended in time", plan.filter((p) => p.job?.status !== "closed" && p.job?.status !== "failed").length],
      ["wrong end states", wrong.length],
      [
        "webhooks verified",
        `${receiver.stats.verified} of ${receiver.stats.deliveries}` +
          ` (bad signatures: ${receiver.stats.badSignatures.length})`,
      ],
      ["jobs without exactly one event id", hookProblems.length],
      ["stale connections asked again", resets.count],
      ["HTTP 500s", tally.status500],
      ["duration (first PUT to last webhook)", `${seconds.toFixed(1)} s (${tally.polls} GET polls)`],
    ];
    const problems = [
      ...tally.putProblems.slice(0, 3),
      ...wrong.slice(0, 5),
      ...receiver.stats.badSignatures.slice(0, 3),
      ...hookProblems.slice(0, 5),
    ];
    const failures =
      tally.putProblems.length +
      wrong.length +
      receiver.stats.badSignatures.length +
      hookProblems.length +
      tally.status500;
    return { rows, problems, failures };
  } finally {
    await mf.dispose();
  }
}
