/**
 * `npm run soak`: the deploy bundle in workerd against the sandbox, 10,000 close requests at
 * concurrency 50, 5% of them hitting injected faults. Prints what a payment engineer asks after a
 * bad day: successes, typed errors, wrong answers, 500s, duplicate nonces, memory, leaked secrets.
 * Exits 1 if any failure count is not zero.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
// Node 20 has no WebSocket client (the global arrived in Node 22), and the V8 inspector speaks CDP
// over WebSocket: hence `ws`, pinned to the version Miniflare already brings.
import WebSocket from "ws";
import { faultRequestNo, messageMatches } from "../sandbox/faults.mjs";
import { createSandbox, FAULT_MODES, SANDBOX_APP_ID } from "../sandbox/sparkpay-sandbox.mjs";
import { buildDeployBundle } from "./build-bundle";
import { EXIT, isMain, runCli } from "./lib/cli";
import { generateCallerKey, generateRsaKeyPair } from "./lib/keygen";
import { GATEWAY_WORKER, startLocalGateway } from "./local-gateway";
import { runBurstSoak } from "./soak/burst";
import { type ReportRow, runDurableSoak } from "./soak/durable";
import { runRaceSoak } from "./soak/race";

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 50);
/** The durable phase (scripts/soak/durable.ts), after this one: on unless SOAK_DURABLE=0. */
const DURABLE = process.env.SOAK_DURABLE !== "0";
const JOBS = Number(process.env.SOAK_JOBS ?? 1_000);
/** The burst phase (scripts/soak/burst.ts), after the durable one: on unless SOAK_BURST=0. */
const BURST = process.env.SOAK_BURST !== "0";
const BURST_JOBS = Number(process.env.SOAK_BURST_JOBS ?? 1_000);
/** The race phase (scripts/soak/race.ts), last: on unless SOAK_RACE=0. */
const RACE = process.env.SOAK_RACE !== "0";
const RACE_ORDERS = Number(process.env.SOAK_RACE_ORDERS ?? 1_000);
/**
 * Every 20th request carries a fault: exactly 5%, spread evenly over the run. The `rare` modes (100 MB
 * bodies, the gzip bomb) are sent RARE_SENDS times each in the whole run; the others take turns.
 */
const FAULT_EVERY = 20;
const RARE_SENDS = 2;
const MERCHANT = "M_SANDBOX_001";
/**
 * Growth of the gateway's JavaScript heap (after a forced GC, warm-up to end) that counts as a
 * failure. Some growth is expected and bounded: the gateway remembers the response nonces it has
 * accepted, per isolate, until their answers would be stale anyway, and at most 50,000 of them
 * (RESPONSE_NONCE_CACHE_SIZE), a few MiB when full.
 */
const HEAP_GROWTH_LIMIT_MIB = 8;

import type { FaultExpectation } from "../sandbox/faults.mjs";

/** What the caller must see with no fault; every fault's expectation is in the sandbox's fault table. */
const NO_FAULT: FaultExpectation = { status: 200, closes: 1, queries: 0 };
/** The slow fault's delay here: well inside the default per-attempt timeout. */
const SLOW_MS = 200;
/** The modes whose expectation holds with the default settings: the soak's gateway runs with those. */
const FAULTS = Object.keys(FAULT_MODES).filter((mode) => !FAULT_MODES[mode]?.settings);
const COMMON_FAULTS = FAULTS.filter((mode) => !FAULT_MODES[mode]?.rare);
const RARE_FAULTS = FAULTS.filter((mode) => FAULT_MODES[mode]?.rare);

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The whole soak; resolves with the exit code: 1 when any failure count is not zero. */
async function main(): Promise<number> {
  const merchant = generateRsaKeyPair();
  const platform = generateRsaKeyPair();
  const rotated = generateRsaKeyPair();
  const callerKey = generateCallerKey();
  const sandbox = createSandbox({
    merchantPublicKey: merchant.publicKeyPem,
    platformPrivateKey: platform.privateKeyPem,
    rotatedPlatformPrivateKey: rotated.privateKeyPem,
    slowMs: SLOW_MS,
  });

  let logText = "";
  const scriptPath = buildDeployBundle();
  const bindings = {
    SPARKPAY_APP_ID: SANDBOX_APP_ID,
    SPARKPAY_PRIVATE_KEY: merchant.privateKeyPem,
    SPARKPAY_PLATFORM_PUBLIC_KEY: platform.publicKeyPem + rotated.publicKeyPem,
    GATEWAY_API_KEYS: callerKey,
  };
  const { mf, url, pid, inspectorPort } = await startLocalGateway({
    scriptPath,
    upstream: (request) => sandbox.handle(request),
    bindings,
    onStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.on("data", (chunk) => (logText += chunk.toString()));
    },
    inspector: true,
  });

  async function close(requestNo: string, requestId: string) {
    const response = await fetch(`${url}/v4/pay/orders/close`, {
      method: "POST",
      headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json", "X-Request-Id": requestId },
      body: JSON.stringify({ request_no: requestNo, merchant_no: MERCHANT }),
    });
    return { response, text: await response.text() };
  }

  /**
   * The gateway isolate's JavaScript heap in MiB after a full garbage collection, read through workerd's
   * V8 inspector: GET /json lists one target per Worker, and the gateway's target speaks CDP over WebSocket.
   */
  async function gatewayHeapMiB() {
    const targets = (await (
      await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(5_000) })
    ).json()) as { id: string; title: string; webSocketDebuggerUrl: string }[];
    const name = `core:user:${GATEWAY_WORKER}`;
    const target = targets.find((candidate) => candidate.id === name || candidate.title.endsWith(` ${name}`));
    if (!target) throw new Error(`no target ${name} among ${targets.map((candidate) => candidate.id).join(", ")}`);
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    const giveUp = setTimeout(() => socket.terminate(), 15_000);
    // biome-ignore lint/suspicious/noExplicitAny: CDP results, read by the caller of each method
    const pending = new Map<number, { resolve: (result: any) => void; reject: (error: Error) => void }>();
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString());
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) call?.reject(new Error(`${message.error.message} (${message.error.code})`));
      else call?.resolve(message.result);
    });
    // An error is followed by "close", which fails whatever is still waiting for an answer.
    socket.on("error", () => {});
    socket.on("close", () => {
      for (const call of pending.values()) call.reject(new Error("the inspector connection closed before answering"));
    });
    let lastId = 0;
    const send = (method: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: a CDP result, as above
      new Promise<any>((resolve, reject) => {
        if (socket.readyState !== WebSocket.OPEN) return reject(new Error("the inspector connection is not open"));
        pending.set(++lastId, { resolve, reject });
        socket.send(JSON.stringify({ id: lastId, method }));
      });
    try {
      await once(socket, "open");
      // workerd runs the collection as a task the next time it enters the isolate, and an idle isolate
      // is entered only for a request: poke GET /healthz (no SparkPay call) until the GC has answered.
      let collected = false;
      const collecting = send("HeapProfiler.collectGarbage").then(() => (collected = true));
      collecting.catch(() => {}); // awaited in the loop; a failure during a poke is not "unhandled"
      while (!collected) {
        await (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).arrayBuffer();
        await Promise.race([collecting, sleep(100)]);
      }
      const { usedSize } = await send("Runtime.getHeapUsage");
      return usedSize / 2 ** 20;
    } finally {
      clearTimeout(giveUp);
      socket.close();
    }
  }

  /**
   * A heap reading, or why there is none (printed, and counted as a failure: never silently skipped).
   */
  async function readHeap(when: string): Promise<{ mib?: number; error?: string }> {
    try {
      return { mib: await gatewayHeapMiB() };
    } catch (error) {
      const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
      const why = cause ? `${message} (${cause.code ?? cause.message})` : message;
      return { error: `no JS heap reading ${when}: the inspector on 127.0.0.1:${inspectorPort} failed: ${why}` };
    }
  }

  // Warm up (key import, JIT), then take the "before" memory readings.
  const run = Date.now().toString(36);
  for (let i = 0; i < 100; i++) await close(`WARM_${run}_${i}`, `warm_${run}_${i}`);
  const memoryBefore = rssMiB(pid);
  const heapBefore = await readHeap("after the warm-up");
  const statsBefore = { ...sandbox.stats };

  /** Fault slot (the k-th faulted request) -> rare mode: RARE_SENDS rounds of them, spread evenly over the run. */
  const faultSlots = Math.floor(REQUESTS / FAULT_EVERY);
  const rareCount = Math.min(RARE_SENDS * RARE_FAULTS.length, faultSlots);
  const rareAt = new Map(
    Array.from({ length: rareCount }, (_, j) => [
      Math.floor(((j + 0.5) * faultSlots) / rareCount),
      RARE_FAULTS[j % RARE_FAULTS.length] as string,
    ]),
  );
  let commonSent = 0;
  const plan = Array.from({ length: REQUESTS }, (_, i) => {
    if (i % FAULT_EVERY !== FAULT_EVERY - 1) return "none";
    return rareAt.get(Math.floor(i / FAULT_EVERY)) ?? (COMMON_FAULTS[commonSent++ % COMMON_FAULTS.length] as string);
  });
  const tally = {
    sent: 0,
    again: {} as Record<string, number>,
    successes: 0,
    byCode: {} as Record<string, number>,
    wrong: [] as { label: string; line: string }[],
    status500: 0,
    secrets: [] as string[],
  };
  /** Runs of 40+ Base64 characters with more than 16 distinct ones: not hex, not one letter repeated. */
  const signatureLike = (text: string) =>
    (text.match(/[A-Za-z0-9+/]{40,}={0,2}/g) ?? []).some((run) => new Set(run).size > 16);
  const secretPatterns = [
    { name: "caller key", test: (text: string) => text.includes(callerKey) },
    { name: "private key material", test: (text: string) => /MII[A-Za-z0-9+/]{20}/.test(text) },
    { name: "signature-like Base64", test: signatureLike },
  ];

  /**
   * What is wrong with an answer; empty when it is what the request and its fault call for.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the answer's body as it came; each field is checked where read
  function problemsOf(expected: FaultExpectation, response: Response, body: any, requestNo: string): string[] {
    const problems = [];
    if (response.status !== expected.status) problems.push(`status ${response.status}, want ${expected.status}`);
    // The gateway's own id (the caller's is only logged): present, and the one an error envelope names.
    const requestId = response.headers.get("x-request-id");
    if (!requestId) problems.push("no X-Request-Id");
    if (response.status !== 200 && body?.request_id !== requestId) problems.push("request_id is not X-Request-Id");
    if (expected.status === 200) {
      if (body?.code !== 0) problems.push(`code ${JSON.stringify(body?.code)}, want 0`);
      if (body?.data?.request_no !== requestNo || body?.data?.merchant_no !== MERCHANT) problems.push("not this order");
      const confirmed = response.headers.get("x-close-confirmed-by") === "order-query";
      if (confirmed !== !!expected.confirmed)
        problems.push(`X-Close-Confirmed-By ${confirmed ? "present" : "missing"}`);
    } else {
      if (body?.code !== expected.code) problems.push(`code ${JSON.stringify(body?.code)}, want ${expected.code}`);
      if (!messageMatches(expected.message, body?.message)) problems.push("message does not match");
      // The order's verified state is never dropped: the pay_status the confirming query showed, verbatim.
      if (expected.pay_status !== undefined && body?.order?.pay_status !== expected.pay_status)
        problems.push(`order.pay_status ${JSON.stringify(body?.order?.pay_status)}, want ${expected.pay_status}`);
    }
    for (const [name, value] of Object.entries(expected.headers ?? {})) {
      const actual = response.headers.get(name);
      if (actual !== value)
        problems.push(`${name}: ${actual === null ? "missing" : JSON.stringify(actual)}, want "${value}"`);
    }
    return problems;
  }

  /**
   * Sends one close and checks its answer against `expected`, counting it in the tally.
   */
  async function closeAndCheck(label: string, requestNo: string, requestId: string, expected: FaultExpectation) {
    const { response, text } = await close(requestNo, requestId);
    tally.sent++;
    // biome-ignore lint/suspicious/noExplicitAny: as in problemsOf
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status === 500) tally.status500++;
    if (response.status === 200) tally.successes++;
    else tally.byCode[String(body?.code)] = (tally.byCode[String(body?.code)] ?? 0) + 1;
    for (const pattern of secretPatterns)
      if (pattern.test(text + JSON.stringify([...response.headers])))
        tally.secrets.push(`${pattern.name} in response ${requestId}`);
    const problems = problemsOf(expected, response, body, requestNo);
    if (problems.length > 0)
      tally.wrong.push({
        label,
        line: `${label}: ${problems.join("; ")} | HTTP ${response.status} ${text.slice(0, 160)}`,
      });
  }

  const started = performance.now();
  let next = 0;
  async function worker() {
    while (next < plan.length) {
      const i = next++;
      const mode = plan[i] as string;
      const requestNo = mode === "none" ? `SOAK_${run}_${i}` : faultRequestNo(mode, `${run}_${i}`);
      const requestId = `soak_${run}_${i}`;
      const expected = FAULT_MODES[mode]?.expect ?? NO_FAULT;
      await closeAndCheck(mode, requestNo, requestId, expected);
      if (expected.again) {
        // The same close once more, after the first answer: e.g. a replayed signed answer must be refused.
        tally.again[mode] = (tally.again[mode] ?? 0) + 1;
        await closeAndCheck(`${mode} (again)`, requestNo, `${requestId}_again`, expected.again);
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the last log lines arrive
  const memoryAfter = rssMiB(pid);
  const heapAfter = await readHeap("at the end");
  for (const pattern of secretPatterns)
    if (pattern.test(logText)) tally.secrets.push(`${pattern.name} in the log stream`);
  const logLines = logText.split("\n").filter((line) => line.startsWith("{")).length;
  await mf.dispose();

  const listCounts = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort()
      .map(([key, n]) => `${key}=${n}`)
      .join(", ") || "none";
  const countLabels = (labels: string[]) => {
    const counts: Record<string, number> = {};
    for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
    return counts;
  };
  const faults = plan.filter((mode) => mode !== "none").length;
  const rareSent = countLabels(plan.filter((mode) => RARE_FAULTS.includes(mode)));
  const againSent = Object.values(tally.again).reduce((sum, n) => sum + n, 0);
  const duplicateNonces = sandbox.stats.duplicate_nonces - statsBefore.duplicate_nonces;
  const heapProblems = [heapBefore.error, heapAfter.error].filter((error) => error !== undefined);
  const heapGrowth = heapProblems.length === 0 ? Number(heapAfter.mib) - Number(heapBefore.mib) : NaN;
  if (heapGrowth > HEAP_GROWTH_LIMIT_MIB)
    heapProblems.push(`the JS heap grew by ${heapGrowth.toFixed(2)} MiB, more than ${HEAP_GROWTH_LIMIT_MIB} MiB`);
  const heapFailures = heapProblems.length > 0 ? 1 : 0;
  const mib = (value: number | undefined) => (value === undefined ? "not read" : `${value.toFixed(2)} MiB`);
  const heapLine =
    `${mib(heapBefore.mib)} -> ${mib(heapAfter.mib)}` +
    (Number.isNaN(heapGrowth)
      ? ""
      : ` (${heapGrowth < 0 ? "" : "+"}${heapGrowth.toFixed(2)} MiB; limit +${HEAP_GROWTH_LIMIT_MIB})`);
  const wrongByLabel = countLabels(tally.wrong.map((wrong) => wrong.label));
  const rows = [
    ["requests", `${tally.sent} (${REQUESTS} planned + ${againSent} sent again)`],
    ["concurrency", CONCURRENCY],
    ["with an injected fault", `${faults} of the ${REQUESTS} planned (${((100 * faults) / REQUESTS).toFixed(1)}%)`],
    [`rare modes (${RARE_SENDS} each per run)`, listCounts(rareSent)],
    ["sent again (expect.again)", listCounts(tally.again)],
    ["duration", `${seconds.toFixed(1)} s (${Math.round(tally.sent / seconds)} req/s)`],
    ["successes (200)", tally.successes],
    ["typed errors by code", listCounts(tally.byCode)],
    ["wrong answers", tally.wrong.length === 0 ? 0 : `${tally.wrong.length} (${listCounts(wrongByLabel)})`],
    ["HTTP 500s", tally.status500],
    ["duplicate nonces seen by SparkPay", duplicateNonces],
    [
      "SparkPay requests (closes + queries)",
      `${sandbox.stats.requests - statsBefore.requests} (${sandbox.stats.queries - statsBefore.queries} queries)`,
    ],
    ["log lines", logLines],
    ["workerd RSS before -> after", `${memoryBefore.toFixed(1)} MiB -> ${memoryAfter.toFixed(1)} MiB`],
    ["JS heap after GC, before -> after", heapLine],
    ["secrets found in responses or logs", tally.secrets.length === 0 ? "none" : tally.secrets.length],
  ];
  const width = Math.max(...rows.map(([label]) => String(label).length));
  console.log("\nSoak: gateway deploy bundle in workerd (Miniflare) against the SparkPay sandbox\n");
  for (const [label, value] of rows) console.log(`  ${String(label).padEnd(width)}  ${value}`);
  // One example of each kind of wrong answer, the heap's problems, then the first secrets found.
  const wrongExamples = Object.keys(wrongByLabel).map(
    (label) => tally.wrong.find((wrong) => wrong.label === label)?.line,
  );
  for (const line of [...wrongExamples, ...heapProblems, ...tally.secrets.slice(0, 5)]) console.log(`  ! ${line}`);
  let failed = tally.wrong.length + tally.status500 + duplicateNonces + tally.secrets.length + heapFailures;

  if (DURABLE) {
    console.log("\nDurable closes: D1 and the close Workflow in Miniflare, webhooks verified in this process\n");
    const durable = await runDurableSoak({ scriptPath, sandbox, bindings, callerKey, jobs: JOBS, run });
    failed += printPhase(durable);
  }
  if (BURST) {
    console.log("\nBurst: close jobs all due in one second, the round gate, polls, cancels racing reschedules\n");
    const burst = await runBurstSoak({
      scriptPath,
      sandbox,
      orders: sandbox.orders,
      bindings,
      callerKey,
      jobs: BURST_JOBS,
      run,
    });
    failed += printPhase(burst);
  }
  if (RACE) {
    console.log("\nRace: payments and closes of the same orders, interleaved at random, checked against the sandbox\n");
    const race = await runRaceSoak({
      scriptPath,
      sandbox,
      orders: sandbox.orders,
      bindings,
      callerKey,
      count: RACE_ORDERS,
      run,
    });
    failed += printPhase(race);
  }
  console.log(failed === 0 ? "\nAll failure counts are zero." : `\n${failed} failures.`);
  return failed === 0 ? EXIT.ok : EXIT.failure;
}

/** A later phase's report, as the first phase's: one row per line, then its first problems; its failure count. */
function printPhase(phase: { rows: ReportRow[]; problems: string[]; failures: number }): number {
  const width = Math.max(...phase.rows.map(([label]) => label.length));
  for (const [label, value] of phase.rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  for (const line of phase.problems) console.log(`  ! ${line}`);
  return phase.failures;
}

if (isMain(import.meta.url)) {
  // exitWhenDone: whatever the gateway's workerd or the inspector socket leave open must not keep the process alive.
  runCli("soak", "Usage: npm run soak (settings: SOAK_* variables, see docs/soak.md)", main, { exitWhenDone: true });
}
