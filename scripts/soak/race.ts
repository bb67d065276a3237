/**
 * The soak's race phase (`SOAK_RACE=0` skips it): SOAK_RACE_ORDERS orders (default 1,000), each given a random
 * interleaving of a customer payment (for about two thirds of them, at a random moment in the next minute) and a close
 * (synchronous for half, at a random moment in the same minute; durable for the other half, close_at spread over
 * it), 5% with one of the sandbox's faults on top. Afterwards every answer, job and webhook is checked against the
 * sandbox's ground truth, the orders themselves: nothing called closed that was paid before its close, no 409 or
 * `not_closable` for an order the sandbox closed (and that stayed closed: one paid after its close is paid, and may
 * be reported so), no late payment the re-check missed, no HTTP 500. Every change of an order is also notified to the
 * gateway as SparkPay would (retries compressed, 10% sent again after SUCCESS, every 20th paid order with a bad or odd
 * notification on top): every order's final state must reach the merchant as one order.updated, each event id once,
 * none with the notification's own content, and the refused ones only are given up. The orders are created through
 * the gateway first (scripts/soak/creations.ts: the durable ones with close_at, with lost answers and duplicates),
 * a minute before the window. Workflows sleep for real (the re-check too: RECHECK_AFTER_S), so the phase takes about
 * four minutes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { type Creation, checkCreations, createOrders, creationFaultOf, creationRequestNo } from "./creations";
import { pool, type ReportRow, startDurableGateway } from "./durable";
import { fetchRetryingResets } from "./http";

const MERCHANT = "M_SANDBOX_001";
const WINDOW_MS = 60_000;
/** Longer than any payment can come after a close in the window: every late payment precedes its re-check. */
const RECHECK_AFTER_S = 65;
const GIVE_UP_AFTER_S = 60;
const FAULT_EVERY = 20;
/** Faults that leave the sandbox's orders truthful (they change how closes are answered, not what orders are). */
const FAULTS = ["lost", "flaky", "outage", "reset", "badsigfirst", "slow"];
const PAY_SHARE = 2 / 3;
/** Every 20th paid order also gets a bad or odd notification of its own, as an attacker or SparkPay might send. */
const NOTIFY_FAULT_EVERY = 20;
/** The notification faults the gateway must refuse (SparkPay retries them until it gives up) … */
const REFUSED_FAULTS = ["tampered", "badsign", "wrong_key"];
/** … and those it must take, making no event of their own: a replay, a stale copy, fields SparkPay might add. */
const TAKEN_FAULTS = ["replay", "stale", "extra_fields"];
/** SparkPay's retry schedule (10 s … 2 h, 3.5 h in all) compressed to about 25 s. */
const NOTIFY_RETRY_SCALE = 0.002;
/** How often SparkPay sends a notification again though the gateway answered SUCCESS. */
const NOTIFY_DUPLICATE_RATE = 0.1;
const POLL_CONCURRENCY = 20;
/** The window starts this long after the first creation: each durable order's close_at is 60 s or more ahead of it. */
const CREATE_LEAD_MS = 62_000;
/** The gateway's public origin as the orders are created: SparkPay (the sandbox) is told to notify the real one. */
const GATEWAY_PUBLIC_URL = "https://gateway.soak.example";

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
  creation: Creation;
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
  sandbox: {
    handle(request: Request): Promise<Response>;
    pay(merchantNo: string, requestNo: string): boolean;
    stats: { creations: number; duplicate_creations: number };
    notifier: {
      settings: { url: string | null; retry_scale: number; duplicate_rate: number };
      stats: {
        notifications: number;
        posts: number;
        given_up: number;
        duplicates: number;
        statuses: Record<string, number>;
      };
      notify(order: never, fault?: string | null): boolean;
    };
  };
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
      GATEWAY_PUBLIC_URL,
    },
  });
  // Every change of an order is notified to the gateway, as SparkPay notifies its notify_url.
  const { notifier } = sandbox;
  Object.assign(notifier.settings, {
    url: `${url}/v1/sparkpay/notifications`,
    retry_scale: NOTIFY_RETRY_SCALE,
    duplicate_rate: NOTIFY_DUPLICATE_RATE,
  });
  const notifyFaults: Record<string, number> = {};
  try {
    const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
    const resets = { count: 0 };
    const fetch = fetchRetryingResets(resets);
    const random = (below: number) => Math.floor(Math.random() * below);
    const plan: Plan[] = Array.from({ length: count }, (_, i) => {
      // Every 20th order has a fault, alternately a synchronous (even i) and a durable one (odd i).
      const faultSlot = FAULT_EVERY - 1 - (Math.floor(i / FAULT_EVERY) % 2);
      const fault = i % FAULT_EVERY === faultSlot ? (FAULTS[random(FAULTS.length)] ?? null) : null;
      const createFault = creationFaultOf(i);
      const requestNo = fault
        ? faultRequestNo(fault, `R${run}_${i}`)
        : creationRequestNo(createFault, `RACE_${run}_${i}`, `R${run}_${i}`);
      return {
        requestNo,
        durable: i % 2 === 1,
        fault,
        creation: { requestNo, fault: createFault, closeAtS: undefined, answers: [], settled: [] },
        payAtMs: Math.random() < PAY_SHARE ? random(WINDOW_MS) : null,
        closeAtMs: 2_000 + random(WINDOW_MS - 2_000),
      };
    });
    const jobPath = (p: Plan) => `${url}/v1/closes/${MERCHANT}/${p.requestNo}`;
    const started = Date.now() + CREATE_LEAD_MS;
    const tally = { status500: 0, polls: 0 };

    // Every order is created through the gateway first, the durable ones with close_at (each job sleeps in its
    // Workflow until then); an order SparkPay did not create takes no further part. Then the clock runs.
    for (const p of plan.filter((p) => p.durable)) p.creation.closeAtS = Math.floor((started + p.closeAtMs) / 1000);
    const creationsBefore = sandbox.stats.creations;
    const creations = plan.map((p) => p.creation);
    const creating = await createOrders({ url, headers, merchant: MERCHANT, creations, fetch });
    for (const p of plan.filter((p) => p.durable)) p.closeAtMs = (p.creation.closeAtS ?? 0) * 1000 - started;
    const racing = plan.filter((p) => p.creation.created);
    const at = (ms: number, action: () => Promise<void> | void) =>
      sleep(Math.max(0, started + ms - Date.now())).then(action);
    await Promise.all([
      ...racing.flatMap((p) =>
        p.payAtMs === null
          ? []
          : [
              at(p.payAtMs, () => {
                sandbox.pay(MERCHANT, p.requestNo);
                if (Number(p.requestNo.split("_").at(-1)) % NOTIFY_FAULT_EVERY !== 0) return;
                const faults = [...REFUSED_FAULTS, ...TAKEN_FAULTS];
                const fault = faults[random(faults.length)] as string;
                notifyFaults[fault] = (notifyFaults[fault] ?? 0) + 1;
                notifier.notify(orders.get(`${MERCHANT}/${p.requestNo.toLowerCase()}`) as never, fault);
              }),
            ],
      ),
      ...racing
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
    let open = racing.filter((p) => p.durable);
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
    for (const p of racing) {
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
    // SparkPay's notifications: every order's final state reached the merchant as one order.updated, each event id
    // delivered once, no state twice, nothing of a notification's own content passed on.
    const updates = {
      events: 0,
      deliveries: 0,
      missing: [] as string[],
      repeated: [] as string[],
      leaked: [] as string[],
    };
    for (const p of racing) {
      const truth = truthOf(p);
      const events = receiver.orderUpdates.get(p.requestNo) ?? new Map();
      const payStatuses = [...events.values()].flatMap((event) => [...event.payStatuses]);
      updates.events += events.size;
      for (const [id, event] of events) {
        updates.deliveries += event.deliveries;
        if (event.deliveries !== 1 || event.payStatuses.size !== 1)
          updates.repeated.push(`${p.requestNo}: ${id} delivered ${event.deliveries} times`);
        if (event.notified) updates.leaked.push(`${p.requestNo}: ${id} carries the notification's own fields`);
      }
      if (new Set(payStatuses).size !== payStatuses.length)
        updates.repeated.push(`${p.requestNo}: one pay_status in two events (${payStatuses.join(", ")})`);
      if (truth && truth.pay_status !== "PAYING" && !payStatuses.includes(truth.pay_status))
        updates.missing.push(
          `${p.requestNo}: is ${truth.pay_status}; order.updated said ${payStatuses.join(", ") || "nothing"}`,
        );
    }
    const refusedFaults = REFUSED_FAULTS.reduce((sum, fault) => sum + (notifyFaults[fault] ?? 0), 0);
    const notifyStats = notifier.stats;
    const notify500 = notifyStats.statuses["500"] ?? 0;
    const wrongGiveUps = notifyStats.given_up === refusedFaults ? 0 : 1;
    const list = (record: Record<string, number>) =>
      Object.entries(record)
        .sort()
        .map(([key, n]) => `${key}=${n}`)
        .join(", ");
    const paidOrders = plan.filter((p) => truthOf(p)?.pay_time != null).length;
    const created = checkCreations({
      creations,
      exists: (requestNo) => orders.has(`${MERCHANT}/${requestNo.toLowerCase()}`),
      jobStatus: (requestNo) => plan.find((p) => p.requestNo === requestNo)?.job?.status,
      sandboxStats: sandbox.stats,
      creationsBefore,
      ...creating,
    });
    const rows: ReportRow[] = [
      ...created.rows,
      [
        "orders",
        `${racing.length} created of ${count}: ${racing.filter((p) => !p.durable).length} synchronous, ` +
          `${racing.filter((p) => p.durable).length} durable; ${paidOrders} paid within the minute; ` +
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
      [
        "notifications sent (SparkPay's side)",
        `${notifyStats.notifications}, ${notifyStats.duplicates} sent again after SUCCESS; ${notifyStats.posts} posts: ` +
          list(notifyStats.statuses),
      ],
      ["notification faults injected", list(notifyFaults) || "none"],
      [
        "notifications given up by SparkPay",
        `${notifyStats.given_up} (the ${refusedFaults} the gateway must refuse: ${REFUSED_FAULTS.join(", ")})`,
      ],
      ["order.updated events", `${updates.events}, ${updates.deliveries} deliveries`],
      ["final states order.updated never reported", updates.missing.length],
      ["order.updated repeated (an id twice, a state twice)", updates.repeated.length],
      ["order.updated with the notification's content", updates.leaked.length],
      ["webhooks verified", `${receiver.stats.verified} of ${receiver.stats.deliveries}`],
      ["stale connections asked again", resets.count],
      ["HTTP 500s", `${tally.status500} to callers, ${notify500} to SparkPay's notifications`],
      ["duration", `${seconds.toFixed(1)} s (${tally.polls} GET polls)`],
    ];
    const problems = [
      ...created.problems,
      ...wrong.paidCalledClosed.slice(0, 3),
      ...wrong.closedCalledNotClosable.slice(0, 3),
      ...wrong.missed.slice(0, 3),
      ...other.slice(0, 5),
      ...receiver.stats.badSignatures.slice(0, 3),
      ...updates.missing.slice(0, 3),
      ...updates.repeated.slice(0, 3),
      ...updates.leaked.slice(0, 3),
      ...(wrongGiveUps ? [`SparkPay gave up ${notifyStats.given_up} notifications, want ${refusedFaults}`] : []),
    ];
    const failures =
      created.failures +
      wrong.paidCalledClosed.length +
      wrong.closedCalledNotClosable.length +
      wrong.missed.length +
      other.length +
      receiver.stats.badSignatures.length +
      tally.status500 +
      updates.missing.length +
      updates.repeated.length +
      updates.leaked.length +
      notify500 +
      wrongGiveUps;
    return { rows, problems, failures };
  } finally {
    notifier.settings.url = null;
    await mf.dispose();
  }
}
