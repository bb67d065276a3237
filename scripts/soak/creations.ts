/**
 * The race phase's orders, created through the gateway (POST /v4/pay/cashier) before the race begins: the durable
 * ones with close_at (their close job comes from the creation), one in ten sent twice at once, every 20th with one
 * of the sandbox's creation faults (the answer lost with the order created, lost before it was, lost with the
 * order's next queries failing, or a javascript: cashier_url), and each creation that did not settle sent again
 * until it did. Checked against the
 * sandbox: SparkPay never asked twice to create one order, every order the gateway called created exists (and none
 * it called not created), and every created order that asked for a close has its job (a job for an order SparkPay
 * does not have is cancelled).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CREATE_FAULTS } from "../../sandbox/creations.mjs";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { pool, type ReportRow } from "./durable";

/**
 * Where in each run of 20 orders the creation fault falls (the close faults take the last two): 10 or 11 in turn, so
 * that each fault meets a synchronous (even) and a durable (odd, with close_at) order.
 */
const CREATE_FAULT_SLOTS = [10, 11];
const CREATE_FAULT_EVERY = 20;
/** How often a creation is sent twice at the same moment (a retrying caller, two workers). */
const TWICE_RATE = 0.1;
/** The gateway's shortest close_at, plus a second of margin. */
const MIN_CLOSE_LEAD_S = 61;
const CONCURRENCY = 20;
/** A creation left unsettled (unknown, in progress) is sent again at most this many times, this far apart. */
const MAX_REPEATS = 6;
const REPEAT_AFTER_MS = 1_000;
/** Answers that settle a creation: created (with or without its answer), or not created. */
const SETTLED = new Set(["200", "ORDER_CREATED_ANSWER_LOST", "ORDER_NOT_CREATED"]);

export interface Creation {
  requestNo: string;
  /** The sandbox's creation fault, or null. */
  fault: string | null;
  /** Unix seconds, for a creation with a close job (it may be moved later to stay MIN_CLOSE_LEAD_S ahead). */
  closeAtS: number | undefined;
  /** Each answer, in order: "200", "200 replayed" or the error code. */
  answers: string[];
  /** What the last answer said: created (200 or ORDER_CREATED_ANSWER_LOST) or not. */
  created?: boolean;
  /** The settled answer of each sender (two for a creation sent twice): they must agree. */
  settled: string[];
  // biome-ignore lint/suspicious/noExplicitAny: the close_job of a 200, as it came; each field is checked where read
  closeJob?: any;
}

/** The creation fault of the i-th race order, or null. */
export function creationFaultOf(i: number): string | null {
  const run = Math.floor(i / CREATE_FAULT_EVERY);
  if (i % CREATE_FAULT_EVERY !== CREATE_FAULT_SLOTS[run % CREATE_FAULT_SLOTS.length]) return null;
  return CREATE_FAULTS[Math.floor(run / CREATE_FAULT_SLOTS.length) % CREATE_FAULTS.length] ?? null;
}

export function creationRequestNo(fault: string | null, plain: string, faulted: string): string {
  return fault ? faultRequestNo(fault, faulted) : plain;
}

/** Creates every order; the creations with a close_at soonest go first, so that each keeps its lead. */
export async function createOrders(options: {
  url: string;
  headers: Record<string, string>;
  merchant: string;
  creations: Creation[];
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
}): Promise<{ status500: number; seconds: number }> {
  const { url, headers, merchant, fetch } = options;
  const started = Date.now();
  let status500 = 0;
  const send = async (creation: Creation) => {
    const body = {
      merchant_no: merchant,
      request_no: creation.requestNo,
      merchant_order_no: `MO_${creation.requestNo}`,
      total_amount: "9.90",
      merchant_order_currency: "USDT",
      ...(creation.closeAtS === undefined ? {} : { close_at: creation.closeAtS }),
    };
    const response = await fetch(`${url}/v4/pay/cashier`, { method: "POST", headers, body: JSON.stringify(body) });
    if (response.status === 500) status500++;
    // biome-ignore lint/suspicious/noExplicitAny: the answer as it came; each field is checked where read
    const json = (await response.json().catch(() => ({}))) as any;
    const answer =
      response.status === 200
        ? response.headers.get("Idempotent-Replayed") === "true"
          ? "200 replayed"
          : "200"
        : String(json.code ?? response.status);
    creation.answers.push(answer);
    if (response.status === 200) creation.closeJob = json.close_job;
    return answer;
  };
  const sorted = [...options.creations].sort((a, b) => (a.closeAtS ?? 0) - (b.closeAtS ?? 0));
  await pool(sorted, CONCURRENCY, async (creation) => {
    // Once, before the first send: every repeat is the same body (another close_at would be another order's).
    const nowS = Math.floor(Date.now() / 1000);
    if (creation.closeAtS !== undefined) creation.closeAtS = Math.max(creation.closeAtS, nowS + MIN_CLOSE_LEAD_S);
    // One sender, or two at the same moment; each sends again until its creation settles.
    const settle = async () => {
      let last = (await send(creation)).replace(" replayed", "");
      for (let repeats = 0; !SETTLED.has(last) && repeats < MAX_REPEATS; repeats++) {
        await sleep(REPEAT_AFTER_MS);
        last = (await send(creation)).replace(" replayed", "");
      }
      return last;
    };
    creation.settled = await Promise.all(Math.random() < TWICE_RATE ? [settle(), settle()] : [settle()]);
    const last = creation.settled[0];
    creation.created = last === "200" || last === "ORDER_CREATED_ANSWER_LOST";
  });
  return { status500, seconds: (Date.now() - started) / 1000 };
}

/** What each fault's first settled answer must be: the gateway's word against what the sandbox did. */
const EXPECTED: Record<string, string> = {
  none: "200",
  createlost: "ORDER_CREATED_ANSWER_LOST",
  createdrop: "ORDER_NOT_CREATED",
  createunknown: "ORDER_CREATION_UNKNOWN",
  createjslink: "ORDER_CREATED_ANSWER_LOST",
};

/** The creations checked, after the race: each against the sandbox's orders and the order's close job. */
export function checkCreations(options: {
  creations: Creation[];
  /** Whether the sandbox has the order. */
  exists: (requestNo: string) => boolean;
  /** The order's close job's status at the end, or undefined. */
  jobStatus: (requestNo: string) => string | undefined;
  sandboxStats: { creations: number; duplicate_creations: number };
  creationsBefore: number;
  status500: number;
  seconds: number;
}): { rows: ReportRow[]; problems: string[]; failures: number } {
  const { creations, exists, jobStatus, sandboxStats } = options;
  const wrong = { outcome: [] as string[], withoutClose: [] as string[], answers: [] as string[] };
  const answers: Record<string, number> = {};
  for (const creation of creations) {
    for (const answer of creation.answers) answers[answer] = (answers[answer] ?? 0) + 1;
    const there = exists(creation.requestNo);
    if (creation.created !== there)
      wrong.outcome.push(
        `${creation.requestNo}: the gateway said created=${creation.created}, SparkPay has it: ${there}`,
      );
    const want = EXPECTED[creation.fault ?? "none"];
    const first = creation.answers.find((a) => a !== "CREATION_IN_PROGRESS")?.replace(" replayed", "");
    if (first !== want)
      wrong.answers.push(`${creation.requestNo}: answered ${creation.answers.join(", ")}, want ${want}`);
    if (new Set(creation.settled).size !== 1)
      wrong.answers.push(`${creation.requestNo}: two senders were told ${creation.settled.join(" and ")}`);
    if (creation.closeAtS === undefined) continue;
    const status = jobStatus(creation.requestNo);
    if (there && (status === undefined || status === "cancelled"))
      wrong.withoutClose.push(`${creation.requestNo}: created with close_at, its job is ${status ?? "missing"}`);
    if (!there && status !== "cancelled")
      wrong.withoutClose.push(`${creation.requestNo}: not created, its job is ${status ?? "missing"} (want cancelled)`);
    if (creation.answers[0] === "200" && creation.closeJob?.close_at !== creation.closeAtS)
      wrong.answers.push(`${creation.requestNo}: its answer's close_job is ${JSON.stringify(creation.closeJob)}`);
  }
  const createdHere = sandboxStats.creations - options.creationsBefore;
  const calledCreated = creations.filter((creation) => creation.created).length;
  const faults = creations.filter((creation) => creation.fault).length;
  const list = Object.entries(answers)
    .sort()
    .map(([key, n]) => `${key}=${n}`)
    .join(", ");
  const rows: ReportRow[] = [
    [
      "creations",
      `${creations.length} orders, ${creations.filter((c) => c.closeAtS !== undefined).length} with close_at, ` +
        `${faults} with a creation fault (${CREATE_FAULTS.join(", ")}); ${options.seconds.toFixed(1)} s`,
    ],
    ["creation answers", list],
    ["orders SparkPay created / the gateway called created", `${createdHere} / ${calledCreated}`],
    ["orders SparkPay was asked to create twice", sandboxStats.duplicate_creations],
    ["creations the gateway's word got wrong", wrong.outcome.length + wrong.answers.length],
    ["orders without their close", wrong.withoutClose.length],
    ["HTTP 500s (creations)", options.status500],
  ];
  const problems = [...wrong.outcome.slice(0, 3), ...wrong.answers.slice(0, 3), ...wrong.withoutClose.slice(0, 3)];
  const failures =
    wrong.outcome.length +
    wrong.answers.length +
    wrong.withoutClose.length +
    sandboxStats.duplicate_creations +
    (createdHere === calledCreated ? 0 : 1) +
    options.status500;
  return { rows, problems, failures };
}
