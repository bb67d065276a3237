/**
 * The soak's burst phase (`SOAK_BURST=0` skips it): SOAK_BURST_JOBS close jobs (default 1,000) all due in the same
 * second, against a SparkPay that takes SPARKPAY_LATENCY_MS per call (the sandbox's slow fault), with the round gate at
 * BURST_CAP. Meanwhile a dashboard polls every job, synchronous closes go on at a steady pace, and CANCEL_RACES other
 * orders get a reschedule and a cancel sent at the same moment. Checks: every burst job closed; SparkPay never saw
 * more than BURST_CAP of their calls at once; every synchronous close answered 200 (its latency, before and during
 * the burst, is reported); each racing pair's answers say which came first, and the job and SparkPay agree (cancelled,
 * never closed); no HTTP 500.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { pool, type ReportRow, startDurableGateway } from "./durable";
import { fetchRetryingResets } from "./http";

const MERCHANT = "M_SANDBOX_001";
const BURST_CAP = 20;
const SPARKPAY_LATENCY_MS = 100;
const CANCEL_RACES = 100;
/** The burst is due this long after the phase starts: every PUT is in by then. */
const LEAD_S = 40;
const PUT_CONCURRENCY = 20;
const POLL_EVERY_MS = 5_000;
const POLL_CONCURRENCY = 10;
/** Synchronous closes, one after another from SYNC_WORKERS workers, before and during the burst. */
const SYNC_WORKERS = 2;
/** The baseline: the seconds before the burst is due. */
const BASELINE_S = 6;
const FINISH_TIMEOUT_MS = 240_000;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
}

function latencyLine(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const fmt = (n: number) => n.toFixed(0);
  return `p50 ${fmt(percentile(sorted, 0.5))} ms, p99 ${fmt(percentile(sorted, 0.99))} ms, max ${fmt(sorted.at(-1) ?? 0)} ms (${ms.length} closes)`;
}

export async function runBurstSoak(options: {
  scriptPath: string;
  sandbox: { handle(request: Request): Promise<Response> };
  orders: Map<string, { pay_status: string }>;
  bindings: Record<string, string>;
  callerKey: string;
  jobs: number;
  run: string;
}): Promise<{ rows: ReportRow[]; problems: string[]; failures: number }> {
  const { scriptPath, sandbox, orders, bindings, callerKey, jobs, run } = options;
  const burstPrefix = faultRequestNo(`slow${SPARKPAY_LATENCY_MS}`, `B${run}_`);
  // SparkPay as the burst's jobs reach it: how many of their calls it is answering at once.
  const load = { now: 0, max: 0 };
  const counted = {
    async handle(request: Request): Promise<Response> {
      const body = request.method === "POST" ? await request.clone().text() : "";
      const burst = body.includes(`"${burstPrefix}`) || request.url.includes(`/${burstPrefix}`);
      if (!burst) return sandbox.handle(request);
      load.max = Math.max(load.max, ++load.now);
      try {
        return await sandbox.handle(request);
      } finally {
        load.now--;
      }
    },
  };
  const { mf, url, receiver } = await startDurableGateway({
    scriptPath,
    sandbox: counted,
    bindings: { ...bindings, CLOSE_ROUNDS_AT_ONCE: String(BURST_CAP) },
  });
  try {
    const auth = { Authorization: `Bearer ${callerKey}` };
    const headers = { ...auth, "Content-Type": "application/json" };
    const closes = (requestNo: string) => `${url}/v1/closes/${MERCHANT}/${encodeURIComponent(requestNo)}`;
    const tally = { status500: 0, problems: [] as string[], polls: 0 };
    const resets = { count: 0 };
    const fetch = fetchRetryingResets(resets);
    const note = (line: string) => tally.problems.push(line);
    const dueS = Math.floor(Date.now() / 1000) + LEAD_S;

    // The burst: every job due at dueS.
    const burst = Array.from({ length: jobs }, (_, i) => ({ requestNo: `${burstPrefix}${i}`, closedAt: 0 }));
    await pool(burst, PUT_CONCURRENCY, async (job) => {
      const response = await fetch(closes(job.requestNo), {
        method: "PUT",
        headers,
        body: JSON.stringify({ close_at: dueS }),
      });
      if (response.status === 500) tally.status500++;
      if (response.status !== 202) note(`PUT ${job.requestNo}: HTTP ${response.status} ${await response.text()}`);
      else await response.arrayBuffer();
    });

    // Cancels racing reschedules: a job well ahead, then a new close_at and a cancel at the same moment.
    const races = Array.from({ length: CANCEL_RACES }, (_, i) => ({ requestNo: `CRACE_${run}_${i}` }));
    const raceAnswers = await Promise.all(
      races.map(async (race) => {
        const first = await fetch(closes(race.requestNo), {
          method: "PUT",
          headers,
          body: JSON.stringify({ close_at: dueS + 3600 }),
        });
        await first.arrayBuffer();
        const [put, del] = await Promise.all([
          fetch(closes(race.requestNo), { method: "PUT", headers, body: JSON.stringify({ close_at: dueS + 7200 }) }),
          fetch(closes(race.requestNo), { method: "DELETE", headers: auth }),
        ]);
        // biome-ignore lint/suspicious/noExplicitAny: the answers as they came; each field is checked below
        const read = async (r: Response) => ({ status: r.status, body: (await r.json().catch(() => ({}))) as any });
        return { ...race, put: await read(put), del: await read(del) };
      }),
    );

    // Synchronous closes at a steady pace: a baseline before the burst, then through it.
    const sync = { before: [] as number[], during: [] as number[], failed: 0, n: 0 };
    let phase: "before" | "during" | "done" = "before";
    const syncWorker = async () => {
      while (phase !== "done") {
        const requestNo = `BSYNC_${run}_${sync.n++}`;
        const started = performance.now();
        const response = await fetch(`${url}/v4/pay/orders/close`, {
          method: "POST",
          headers,
          body: JSON.stringify({ merchant_no: MERCHANT, request_no: requestNo }),
        });
        await response.arrayBuffer();
        const ms = performance.now() - started;
        if (response.status === 500) tally.status500++;
        if (response.status !== 200) sync.failed++;
        if (phase === "before") sync.before.push(ms);
        else if (phase === "during") sync.during.push(ms);
      }
    };
    await sleep(Math.max(0, (dueS - BASELINE_S) * 1000 - Date.now()));
    const syncRunning = Promise.all(Array.from({ length: SYNC_WORKERS }, syncWorker));
    await sleep(Math.max(0, dueS * 1000 - Date.now()));
    phase = "during";

    // A dashboard polls every open job until all are closed.
    const deadline = Date.now() + FINISH_TIMEOUT_MS;
    let open = burst;
    while (open.length > 0 && Date.now() < deadline) {
      await pool(open, POLL_CONCURRENCY, async (job) => {
        const response = await fetch(closes(job.requestNo), { headers: auth });
        tally.polls++;
        if (response.status === 500) tally.status500++;
        const body = (await response.json().catch(() => ({}))) as { status?: string; closed_at?: number };
        if (body.status === "closed") job.closedAt = body.closed_at ?? 0;
      });
      open = open.filter((job) => job.closedAt === 0);
      if (open.length > 0) await sleep(POLL_EVERY_MS);
    }
    phase = "done";
    await syncRunning;
    const lastClosedS = Math.max(...burst.map((job) => job.closedAt));
    for (const job of open) note(`burst job ${job.requestNo} not closed in time`);
    if (load.max > BURST_CAP) note(`SparkPay answered ${load.max} burst calls at once, over the cap ${BURST_CAP}`);
    if (sync.failed > 0) note(`${sync.failed} synchronous closes during the burst did not answer 200`);

    // Each race: the answers say which came first, and the job and SparkPay agree.
    let raceProblems = 0;
    for (const race of raceAnswers) {
      const { put, del } = race;
      const job = (await (await fetch(closes(race.requestNo), { headers: auth })).json()) as {
        status?: string;
        history?: { status: string; close_at?: number }[];
      };
      const why: string[] = [];
      if (del.status !== 200 || del.body.status !== "cancelled") why.push(`DELETE ${del.status} ${del.body.status}`);
      // The PUT came first (200, moved) or after the cancel (409 naming it).
      const putFirst = put.status === 200 && put.body.close_at === dueS + 7200;
      const putAfter = put.status === 409 && /cancelled/.test(String(put.body.message));
      if (!putFirst && !putAfter) why.push(`PUT ${put.status} ${JSON.stringify(put.body).slice(0, 120)}`);
      if (job.status !== "cancelled") why.push(`job ${job.status}, want cancelled`);
      const moved = job.history?.some((entry) => entry.close_at === dueS + 7200) ?? false;
      if (moved !== putFirst) why.push(`history ${moved ? "shows" : "lacks"} the reschedule, PUT said otherwise`);
      if (orders.get(`${MERCHANT}/${race.requestNo.toLowerCase()}`)?.pay_status === "CLOSED")
        why.push("SparkPay closed a cancelled order");
      if (receiver.byOrder.has(race.requestNo)) why.push("a webhook for a cancelled job");
      if (why.length > 0) {
        raceProblems++;
        note(`race ${race.requestNo}: ${why.join("; ")}`);
      }
    }
    const putFirstCount = raceAnswers.filter((race) => race.put.status === 200).length;

    const rows: ReportRow[] = [
      ["burst jobs", `${jobs}, all due at one second, SparkPay ${SPARKPAY_LATENCY_MS} ms a call, gate ${BURST_CAP}`],
      ["closed", jobs - open.length],
      ["last closed after close_at", open.length === 0 ? `${lastClosedS - dueS} s` : "not all closed"],
      ["SparkPay calls of the burst at once (max)", `${load.max} (cap ${BURST_CAP})`],
      ["synchronous close before the burst", latencyLine(sync.before)],
      ["synchronous close during the burst", latencyLine(sync.during)],
      ["synchronous closes not 200", sync.failed],
      ["dashboard polls", tally.polls],
      [
        "cancel racing reschedule",
        `${CANCEL_RACES} pairs: reschedule first ${putFirstCount}, cancel first ${CANCEL_RACES - putFirstCount}; ${raceProblems} wrong`,
      ],
      ["stale connections asked again", resets.count],
      ["HTTP 500s", tally.status500],
    ];
    const failures = tally.problems.length + tally.status500;
    return { rows, problems: tally.problems.slice(0, 8), failures };
  } finally {
    await mf.dispose();
  }
}
