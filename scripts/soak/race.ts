/**
 * The soak's race phase (`SOAK_RACE=0` skips it): SOAK_RACE_ORDERS orders (default 1,000), each given a random
 * interleaving of a customer payment (for about two thirds of them, at a random moment in the next minute) and a close
 * (synchronous for half, at a random moment in the same minute; durable for the other half, close_at spread over
 * it), 5% with one of the sandbox's faults on top. Afterwards every answer, job and webhook is checked against the
 * sandbox's ground truth, the orders themselves: nothing called closed that was paid before its close, no 409 or
 * `not_closable` for an order the sandbox closed (and that stayed closed: one paid after its close is paid, and may
 * be reported so), no late payment the re-check missed, no HTTP 500. Workflows sleep for
 * real (the re-check too: RECHECK_AFTER_S), so the phase takes about three minutes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { pool, type ReportRow, startDurableGateway } from "./durable";

const MERCHANT = "M_SANDBOX_001";
const WINDOW_MS = 60_000;
/** Longer than any payment can come after a close in the window: every late payment precedes its re-check. */
const RECHECK_AFTER_S = 65;
const GIVE_UP_AFTER_S = 60;
const FAULT_EVERY = 20;
/** Faults that leave the sandbox's orders truthful (they change how closes are answered, not what orders are). */
const FAULTS = ["lost", "flaky", "outage", "reset", "badsigfirst", "slow"];
const PAY_SHARE = 2 / 3;
const POLL_CONCURRENCY = 20;

/** The sandbox's order, as its ground truth (sandbox/orders.mjs). */
interface TrueOrder {
  pay_status: string;
  closed_time: number | null;
  pay_time: number | null;
  paid_after_close: boolean;
}

interface Plan {
  requestNo: string;
  durable: boolean;
  fault: string | null;
  /** Milliseconds into the window, or null: no payment. */
  payAtMs: number | null;
  closeAtMs: number;
  // biome-ignore lint/suspicious/noExplicitAny: the gateway's answer as it came; each field is checked where read
  answer?: { status: number; body: any };
  // biome-ignore lint/suspicious/noExplicitAny: GET /v1/closes's answer as it came; each field is checked where read
  job?: any;
}

const ENDED = new Set(["closed", "failed", "not_closable"]);

export async function runRaceSoak(options: {
  scriptPath: string;
  sandbox: { handle(request: Request): Promise<Response>; pay(merchantNo: string, requestNo: string): boolean };
  orders: Map<string, TrueOrder>;
  bindings: Record<string, string>;
  callerKey: string;
  count: number;
  run: string;
}): Promise<{ rows: ReportRow[]; problems: string[]; failures: number }> {
  const { scriptPath, sandbox, orders, bindings, callerKey, count, run } = options;
  const { mf, url, receiver } = await startDurableGateway({
    scriptPath,
    sandbox,
    bindings: {
      ...bindings,
      CLOSE_GIVE_UP_AFTER_S: String(GIVE_UP_AFTER_S),
      CLOSE_RECHECK_AFTER_S: String(RECHECK_AFTER_S),
    },
  });
  try {
    const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
    const random = (below: number) => Math.floor(Math.random() * below);
    const plan: Plan[] = Array.from({ length: count }, (_, i) => {
      // Every 20th order has a fault, alternately a synchronous (even i) and a durable one (odd i).
      const faultSlot = FAULT_EVERY - 1 - (Math.floor(i / FAULT_EVERY) % 2);
      const fault = i % FAULT_EVERY === faultSlot ? (FAULTS[random(FAULTS.length)] ?? null) : null;
      return {
        requestNo: fault ? faultRequestNo(fault, `R${run}_${i}`) : `RACE_${run}_${i}`,
        durable: i % 2 === 1,
        fault,
        payAtMs: Math.random() < PAY_SHARE ? random(WINDOW_MS) : null,
        closeAtMs: 2_000 + random(WINDOW_MS - 2_000),
      };
    });
    const jobPath = (p: Plan) => `${url}/v1/closes/${MERCHANT}/${p.requestNo}`;
    const started = Date.now();
    const startS = Math.ceil(started / 1000);
    const tally = { status500: 0, putProblems: [] as string[], polls: 0 };

    // The durable closes first (each sleeps in its Workflow until close_at), then the clock runs for the rest.
    await pool(
      plan.filter((p) => p.durable),
      20,
      async (p) => {
        p.closeAtMs = Math.max(p.closeAtMs, (startS + 2) * 1000 - started);
        const closeAt = Math.floor((started + p.closeAtMs) / 1000);
        const response = await fetch(jobPath(p), {
          method: "PUT",
          headers,
          body: JSON.stringify({ close_at: closeAt }),
        });
        if (response.status === 500) tally.status500++;
        if (response.status !== 202) tally.putProblems.push(`PUT ${p.requestNo}: HTTP ${response.status}`);
        await response.body?.cancel();
      },
    );
    const at = (ms: number, action: () => Promise<void> | void) =>
      sleep(Math.max(0, started + ms - Date.now())).then(action);
    await Promise.all([
      ...plan.flatMap((p) =>
        p.payAtMs === null ? [] : [at(p.payAtMs, () => void sandbox.pay(MERCHANT, p.requestNo))],
      ),
      ...plan
        .filter((p) => !p.durable)
        .map((p) =>
          at(p.closeAtMs, async () => {
            const response = await fetch(`${url}/v4/pay/orders/close`, {
              method: "POST",
              headers,
              body: JSON.stringify({ request_no: p.requestNo, merchant_no: MERCHANT }),
            });
            if (response.status === 500) tally.status500++;
            p.answer = { status: response.status, body: await response.json().catch(() => undefined) };
          }),
        ),
    ]);

    // Every durable job ends, then its re-check has had its time (RECHECK_AFTER_S after the last close).
    const deadline = Date.now() + 240_000;
    let open = plan.filter((p) => p.durable);
    while (open.length > 0 && Date.now() < deadline) {
      await sleep(2_000);
      await pool(open, POLL_CONCURRENCY, async (p) => {
        const response = await fetch(jobPath(p), { headers: { Authorization: headers.Authorization } });
        tally.polls++;
        if (response.status === 500) tally.status500++;
        if (response.status === 200) p.job = await response.json();
        else await response.body?.cancel();
      });
      open = open.filter((p) => !ENDED.has(p.job?.status));
    }
    const lastClosed = Math.max(0, ...plan.map((p) => (p.job?.closed_at ?? 0) * 1000));
    await sleep(Math.max(0, lastClosed + (RECHECK_AFTER_S + 10) * 1000 - Date.now()));
    await pool(
      plan.filter((p) => p.durable),
      POLL_CONCURRENCY,
      async (p) => {
        const response = await fetch(jobPath(p), { headers: { Authorization: headers.Authorization } });
        if (response.status === 200) p.job = await response.json();
        else await response.body?.cancel();
      },
    );
    await sleep(3_000); // the last webhooks
    const seconds = (Date.now() - started) / 1000;

    // Checked against the sandbox's orders: what SparkPay's side knows happened.
    const wrong = { paidCalledClosed: [] as string[], closedCalledNotClosable: [] as string[], missed: [] as string[] };
    const other: string[] = [];
    const counts = {
      sync: {} as Record<string, number>,
      durable: {} as Record<string, number>,
      late: 0,
      caught: 0,
      /** Closed by the sandbox, paid before the gateway's own query: reported as the paid order it had become. */
      paidAfterCloseReported: 0,
    };
    const truthOf = (p: Plan) => orders.get(`${MERCHANT}/${p.requestNo.toLowerCase()}`);
    for (const p of plan) {
      const truth = truthOf(p);
      const closedFirst = truth?.closed_time !== null && truth?.closed_time !== undefined;
      const paidBeforeClose = truth?.pay_time !== null && truth?.pay_time !== undefined && !truth.paid_after_close;
      /** What "not closable" must never be said of: an order the sandbox closed and that stayed closed. */
      const staysClosed = truth?.pay_status === "CLOSED";
      if (!p.durable) {
        const status = p.answer?.status ?? 0;
        const label = status === 200 ? "200" : `${status} ${p.answer?.body?.code ?? "?"}`;
        counts.sync[label] = (counts.sync[label] ?? 0) + 1;
        if (status === 200 && (!closedFirst || paidBeforeClose))
          wrong.paidCalledClosed.push(`${p.requestNo}: 200, but the sandbox's order is ${truth?.pay_status}`);
        if (status === 409 && staysClosed)
          wrong.closedCalledNotClosable.push(`${p.requestNo}: 409, but the sandbox closed it`);
        if (status === 409 && closedFirst && !staysClosed) counts.paidAfterCloseReported++;
        if (status === 409 && p.answer?.body?.order?.pay_status === "CLOSED")
          other.push(`${p.requestNo}: 409 with an order that says CLOSED`);
        continue;
      }
      const status = String(p.job?.status ?? "unknown");
      counts.durable[status] = (counts.durable[status] ?? 0) + 1;
      if (status === "closed" && (!closedFirst || paidBeforeClose))
        wrong.paidCalledClosed.push(`${p.requestNo}: job closed, but the sandbox's order is ${truth?.pay_status}`);
      if (status === "not_closable" && staysClosed)
        wrong.closedCalledNotClosable.push(`${p.requestNo}: not_closable, but the sandbox closed it`);
      if (status === "not_closable" && closedFirst && !staysClosed) counts.paidAfterCloseReported++;
      if (status === "failed" && p.fault !== "reset")
        other.push(`${p.requestNo}: failed (${p.job?.error?.code}) with fault ${p.fault ?? "none"}`);
      if (!ENDED.has(status)) other.push(`${p.requestNo}: ${status} when the phase ended`);
      if (status === "closed" && truth?.paid_after_close) {
        counts.late++;
        if (p.job?.late_payment_at && p.job?.order?.pay_status === truth.pay_status) counts.caught++;
        else wrong.missed.push(`${p.requestNo}: paid after its close, and the job does not say so`);
      }
      const seen = receiver.byOrder.get(p.requestNo);
      const wantEvents = (ENDED.has(status) ? 1 : 0) + (p.job?.late_payment_at ? 1 : 0);
      if ((seen?.ids.size ?? 0) !== wantEvents)
        other.push(`${p.requestNo}: ${seen?.ids.size ?? 0} webhook event ids, want ${wantEvents}`);
    }
    const list = (record: Record<string, number>) =>
      Object.entries(record)
        .sort()
        .map(([key, n]) => `${key}=${n}`)
        .join(", ");
    const paidOrders = plan.filter((p) => truthOf(p)?.pay_time != null).length;
    const rows: ReportRow[] = [
      [
        "orders",
        `${count}: ${count / 2} synchronous, ${count / 2} durable; ${paidOrders} paid within the minute; ` +
          `${plan.filter((p) => p.fault).length} with a fault (${FAULTS.join(", ")})`,
      ],
      ["synchronous answers", list(counts.sync)],
      ["durable end states", list(counts.durable)],
      ["late payments (paid after a durable close)", `${counts.late}, ${counts.caught} caught by the re-check`],
      ["closed, then paid before the gateway's query", `${counts.paidAfterCloseReported} (reported as the paid order)`],
      ["called closed, paid before the close", wrong.paidCalledClosed.length],
      ["not closable, though the sandbox closed it", wrong.closedCalledNotClosable.length],
      ["late payments the re-check missed", wrong.missed.length],
      ["other problems (webhooks, unended jobs)", other.length],
      ["webhooks verified", `${receiver.stats.verified} of ${receiver.stats.deliveries}`],
      ["HTTP 500s", tally.status500],
      ["duration", `${seconds.toFixed(1)} s (${tally.polls} GET polls)`],
    ];
    const problems = [
      ...tally.putProblems.slice(0, 3),
      ...wrong.paidCalledClosed.slice(0, 3),
      ...wrong.closedCalledNotClosable.slice(0, 3),
      ...wrong.missed.slice(0, 3),
      ...other.slice(0, 5),
      ...receiver.stats.badSignatures.slice(0, 3),
    ];
    const failures =
      tally.putProblems.length +
      wrong.paidCalledClosed.length +
      wrong.closedCalledNotClosable.length +
      wrong.missed.length +
      other.length +
      receiver.stats.badSignatures.length +
      tally.status500;
    return { rows, problems, failures };
  } finally {
    await mf.dispose();
  }
}
