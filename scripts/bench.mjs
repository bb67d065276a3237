// @ts-check
/**
 * `npm run bench`: the gateway against the runtime floor, the crypto floor and a Node peer, side by
 * side in one run on loopback, so the ratios hold on a noisy machine. Prints one table.
 *
 *   gateway        the deploy bundle (as `wrangler deploy` builds it, production LOG_LEVEL) in workerd
 *   runtime floor  a Worker that only forwards the body (scripts/bench/runtime-floor.js)
 *   crypto floor   a Worker that signs once, forwards, verifies once (scripts/bench/crypto-floor.js)
 *   Node peer      node:http + node:crypto doing the same (scripts/bench/node-peer.mjs)
 *
 * All four call the same SparkPay stand-in (scripts/bench/standin.mjs), a separate process that signs
 * each answer afresh (the gateway refuses replayed answers), at the same cost for every target.
 * Load comes from autocannon in this process. BENCH_SECONDS sets the
 * measured seconds per run (default 6).
 *
 * The gateway has the durable closes' bindings (D1 with the migrations applied, the close Workflow), as deployed.
 * After the synchronous runs, PUT /v1/closes is measured at the same concurrencies (with fetch: see loadPut): a new
 * order per request, close_at a day ahead, so each instance starts and sleeps (accepting is measured, not closing).
 * Each concurrency gets a fresh gateway, disposed after its run: the sleeping instances stay in their workerd process
 * and must not weigh on any other measurement.
 */
import { execFileSync, spawn } from "node:child_process";
import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { buildDeployBundle } from "./build-bundle.mjs";
import { generateCallerKey, generateRsaKeyPair } from "./lib/keygen.mjs";
import { migrationStatements } from "./lib/migrations.mjs";
import { COMPATIBILITY_DATE, startLocalGateway, startMiniflare } from "./local-gateway.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONCURRENCIES = [1, 10, 50];
const APP_ID = "bench_app";
const REQUEST = { request_no: "BENCH_ORDER_1", merchant_no: "M_BENCH" };
const BODY = JSON.stringify(REQUEST);
/** close_at this far ahead: every accepted job's instance only sleeps for the whole bench. */
const CLOSE_AHEAD_S = 86_400;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

const merchant = generateRsaKeyPair();
const platform = generateRsaKeyPair();
const callerKey = generateCallerKey();
const children = /** @type {import("node:child_process").ChildProcess[]} */ ([]);
const miniflares = /** @type {import("miniflare").Miniflare[]} */ ([]);

/** Starts a Node child that prints its port. @param {string} script @param {Record<string, string>} env */
function startChild(script, env) {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve) =>
    child.stdout.once("data", (data) =>
      resolve({ port: Number(String(data).trim()), pid: /** @type {number} */ (child.pid) }),
    ),
  );
}

/** CPU seconds a process has used (user + system, all threads). @param {number} pid */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** @param {string} scriptPath @param {Record<string, string>} bindings */
async function startWorker(scriptPath, bindings) {
  const started = await startMiniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    handleRuntimeStdio: drain,
  });
  miniflares.push(started.mf);
  return started;
}
/** @param {import("node:stream").Readable} stdout @param {import("node:stream").Readable} stderr */
function drain(stdout, stderr) {
  stdout.resume();
  stderr.resume();
}

const base64Der = (/** @type {string} */ pem) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

// --- targets -----------------------------------------------------------------------------
const standin = /** @type {{ port: number, pid: number }} */ (
  await startChild("./bench/standin.mjs", {
    BENCH_PLATFORM_PRIVATE_KEY: platform.privateKeyPem,
    BENCH_REQUEST_NO: REQUEST.request_no,
    BENCH_MERCHANT_NO: REQUEST.merchant_no,
  })
);
const upstream = `http://127.0.0.1:${standin.port}`;
const bundle = buildDeployBundle();
const gatewayBindings = {
  SPARKPAY_APP_ID: APP_ID,
  SPARKPAY_BASE_URL: upstream,
  SPARKPAY_PRIVATE_KEY: merchant.privateKeyPem,
  SPARKPAY_PLATFORM_PUBLIC_KEY: platform.publicKeyPem,
  GATEWAY_API_KEYS: callerKey,
  LOG_LEVEL: "info", // production's level
};
/** The durable closes' bindings, named as in wrangler.toml. */
const closeJobsWorker = {
  d1Databases: { CLOSE_JOBS_DB: "bench-close-jobs" },
  workflows: { CLOSE_WORKFLOW: { name: "sparkpay-close-jobs", className: "CloseWorkflow" } },
};
const migrations = migrationStatements(new URL("../migrations", import.meta.url).pathname);
async function startGateway() {
  const started = await startLocalGateway({
    scriptPath: bundle,
    bindings: gatewayBindings,
    worker: closeJobsWorker,
    onStdio: drain,
  });
  miniflares.push(started.mf);
  return started;
}
/** The gateway with the close-job tables in its D1 (each Miniflare starts with an empty one). */
async function startMigratedGateway() {
  const started = await startGateway();
  const db = await started.mf.getD1Database("CLOSE_JOBS_DB");
  for (const statement of migrations) await db.prepare(statement).run();
  return started;
}
const sampleMessage = `1700000000\nnonce\n${BODY}\n`;
const cryptoFloorScript = new URL("./bench/crypto-floor.js", import.meta.url).pathname;
const cryptoFloorBindings = {
  UPSTREAM: `${upstream}/v4/pay/orders/close`,
  MERCHANT_PKCS8_BASE64: base64Der(merchant.privateKeyPem),
  PLATFORM_SPKI_BASE64: base64Der(platform.publicKeyPem),
  PLATFORM_SAMPLE_MESSAGE: sampleMessage,
  PLATFORM_SAMPLE_SIGNATURE: createSign("RSA-SHA256").update(sampleMessage).sign(platform.privateKeyPem, "base64"),
};
const runtimeFloorScript = new URL("./bench/runtime-floor.js", import.meta.url).pathname;
const runtimeFloorBindings = { UPSTREAM: `${upstream}/v4/pay/orders/close` };
const targets = [
  { name: "gateway", ...(await startMigratedGateway()) },
  { name: "crypto floor", ...(await startWorker(cryptoFloorScript, cryptoFloorBindings)) },
  { name: "runtime floor", ...(await startWorker(runtimeFloorScript, runtimeFloorBindings)) },
];
const peer = /** @type {{ port: number, pid: number }} */ (
  await startChild("./bench/node-peer.mjs", {
    BENCH_MERCHANT_PRIVATE_KEY: merchant.privateKeyPem,
    BENCH_PLATFORM_PUBLIC_KEY: platform.publicKeyPem,
    BENCH_UPSTREAM: `${upstream}/v4/pay/orders/close`,
    BENCH_APP_ID: APP_ID,
  })
);
const allTargets = [...targets, { name: "Node peer", url: `http://127.0.0.1:${peer.port}`, pid: peer.pid }];

// --- load --------------------------------------------------------------------------------
/** @param {string} url @param {number} connections @param {number} duration */
function load(url, connections, duration) {
  return autocannon({
    url: `${url}/v4/pay/orders/close`,
    method: "POST",
    connections,
    duration,
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
    body: BODY,
  });
}

/**
 * @type {Array<{
 *   target: string,
 *   connections: number,
 *   rps: number,
 *   p50: number,
 *   p99: number,
 *   cpuMsPerRequest: number,
 *   failed: number,
 * }>}
 */
const rows = [];
for (const connections of CONCURRENCIES) {
  for (const target of allTargets) {
    await load(target.url, connections, 1); // warm-up
    const cpuBefore = cpuSeconds(target.pid);
    const result = await load(target.url, connections, SECONDS);
    const cpu = cpuSeconds(target.pid) - cpuBefore;
    const ok = result.requests.total - result.non2xx - result.errors;
    if (result.non2xx || result.errors)
      console.error(`! ${target.name} c=${connections}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    rows.push({
      target: target.name,
      connections,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      cpuMsPerRequest: (1000 * cpu) / Math.max(1, ok),
      failed: result.non2xx + result.errors,
    });
  }
}

// --- durable closes: PUT /v1/closes, each concurrency on a fresh gateway ------------------
let putCount = 0;
/**
 * PUTs close jobs from `connections` loops for `seconds`, a new order per request (request_no BENCH_PUT_<n>), close_at
 * a day ahead; each loop finishes its last request. fetch, not autocannon: under autocannon, local workerd now and
 * then leaves every connection but one waiting in workflow.create for seconds (their jobs already stored, the
 * answers sent only when some unrelated request comes in), so a run measured that stall instead of the route.
 * @param {string} url @param {number} connections @param {number} seconds
 */
async function loadPut(url, connections, seconds) {
  const body = JSON.stringify({ close_at: Math.floor(Date.now() / 1000) + CLOSE_AHEAD_S });
  const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
  const latencies = /** @type {number[]} */ ([]);
  const statuses = /** @type {Map<number, number>} */ (new Map());
  let errors = 0;
  const started = performance.now();
  const end = started + 1000 * seconds;
  const loop = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        const response = await fetch(`${url}/v1/closes/${REQUEST.merchant_no}/BENCH_PUT_${putCount++}`, {
          method: "PUT",
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - sent);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  latencies.sort((a, b) => a - b);
  const percentile = (/** @type {number} */ p) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  return {
    duration: (performance.now() - started) / 1000,
    accepted: statuses.get(202) ?? 0,
    statuses,
    errors,
    p50: percentile(0.5),
    p99: percentile(0.99),
  };
}
/** An instance starts (and goes to sleep) after its 202: CPU is read this long after each run. */
const SETTLE_MS = 1000;
/**
 * @type {Array<{
 *   connections: number,
 *   jobsPerSecond: number,
 *   p50: number,
 *   p99: number,
 *   cpuMsPerJob: number,
 *   failed: number,
 * }>}
 */
const putRows = [];
for (const connections of CONCURRENCIES) {
  const gateway = await startMigratedGateway();
  await loadPut(gateway.url, connections, 1); // warm-up
  await sleep(SETTLE_MS);
  const cpuBefore = cpuSeconds(gateway.pid);
  const result = await loadPut(gateway.url, connections, SECONDS);
  await sleep(SETTLE_MS);
  const cpu = cpuSeconds(gateway.pid) - cpuBefore;
  const failed = [...result.statuses.values()].reduce((sum, n) => sum + n, result.errors) - result.accepted;
  if (failed) {
    const codes = [...result.statuses].filter(([code]) => code !== 202).map(([code, n]) => `${n} × ${code}`);
    console.error(`! PUT /v1/closes c=${connections}: ${[...codes, `${result.errors} errors`].join(", ")}`);
  }
  putRows.push({
    connections,
    jobsPerSecond: result.accepted / result.duration,
    p50: result.p50,
    p99: result.p99,
    cpuMsPerJob: (1000 * cpu) / Math.max(1, result.accepted),
    failed,
  });
  await gateway.mf.dispose();
  miniflares.splice(miniflares.indexOf(gateway.mf), 1);
}

// --- the crypto limit ----------------------------------------------------------------------
const cryptoFloor = /** @type {{ url: string }} */ (targets[1]);
/**
 * Operations per second inside workerd, timed from outside (workerd's clock stands still while JS runs).
 * @param {"sign" | "verify"} op @param {number} n
 */
async function workerdOpsPerSecond(op, n) {
  const time = async (/** @type {number} */ count) => {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await (await fetch(`${cryptoFloor.url}/crypto?op=${op}&n=${count}`)).text();
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  const overhead = await time(0);
  return (1000 * n) / ((await time(n)) - overhead);
}
const workerdSign = await workerdOpsPerSecond("sign", 400);
const workerdVerify = await workerdOpsPerSecond("verify", 4000);
const speed = execFileSync("openssl", ["speed", "-seconds", "2", "rsa2048"], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "ignore"],
});
const [, opensslSign = "0", opensslVerify = "0"] =
  /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(speed) ?? [];

// --- cold start: a fresh workerd per target, its first request against the median of the next 200 ---
/** @param {string} url */
async function closeOnce(url) {
  const started = performance.now();
  const response = await fetch(`${url}/v4/pay/orders/close`, {
    method: "POST",
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
    body: BODY,
  });
  await response.text();
  if (response.status !== 200) throw new Error(`cold-start probe answered ${response.status}`);
  return performance.now() - started;
}
/**
 * Median over three fresh workerd processes: one first request each is too noisy alone.
 * @param {() => Promise<{ url: string, mf: import("miniflare").Miniflare }>} start
 */
async function coldAndWarm(start) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const { url, mf } = await start();
    const cold = await closeOnce(url);
    const warm = [];
    for (let j = 0; j < 100; j++) warm.push(await closeOnce(url));
    warm.sort((a, b) => a - b);
    runs.push({ cold, warm: /** @type {number} */ (warm[Math.floor(warm.length / 2)]) });
    await mf.dispose();
    miniflares.splice(miniflares.indexOf(mf), 1);
  }
  runs.sort((a, b) => a.cold - b.cold);
  return /** @type {{ cold: number, warm: number }} */ (runs[1]);
}
const coldStarts = {
  gateway: await coldAndWarm(startGateway),
  "crypto floor": await coldAndWarm(() => startWorker(cryptoFloorScript, cryptoFloorBindings)),
  "runtime floor": await coldAndWarm(() => startWorker(runtimeFloorScript, runtimeFloorBindings)),
};
const { cold: coldMs, warm: warmMs } = coldStarts.gateway;

const bundleBytes = readFileSync(bundle);
const bundleGzipKiB = gzipSync(bundleBytes, { level: 9 }).length / 1024;

// --- report --------------------------------------------------------------------------------
for (const mf of miniflares) await mf.dispose();
for (const child of children) child.kill();

const at = (/** @type {string} */ target, /** @type {number} */ connections) =>
  /** @type {(typeof rows)[number]} */ (rows.find((row) => row.target === target && row.connections === connections));
const signVerifyMs = 1000 / workerdSign + 1000 / workerdVerify;
const gatewayCpu = at("gateway", 10).cpuMsPerRequest;
const runtimeCpu = at("runtime floor", 10).cpuMsPerRequest;
const pad = (/** @type {unknown} */ value, /** @type {number} */ width) => String(value).padStart(width);
const fixed = (/** @type {number} */ value, digits = 2) => value.toFixed(digits);
const verdict = (/** @type {boolean} */ met) => (met ? "met" : "MISSED");

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}`;
console.log(`\nBenchmark: ${machine}, Node ${process.version}, ${SECONDS} s per run, loopback\n`);
console.log(
  `${"target".padEnd(14)} ${pad("conc", 4)} ${pad("req/s", 8)} ${pad("p50 ms", 7)} ` +
    `${pad("p99 ms", 7)} ${pad("CPU ms/req", 10)}`,
);
for (const row of rows) {
  const failed = row.failed ? `  (${row.failed} failed)` : "";
  console.log(
    `${row.target.padEnd(14)} ${pad(row.connections, 4)} ${pad(Math.round(row.rps), 8)} ` +
      `${pad(row.p50, 7)} ${pad(row.p99, 7)} ${pad(fixed(row.cpuMsPerRequest, 3), 10)}${failed}`,
  );
}
const ratio = (/** @type {string} */ a, /** @type {string} */ b, /** @type {number} */ c) =>
  at(a, c).rps / at(b, c).rps;
const ratios = (/** @type {string} */ floor) =>
  CONCURRENCIES.map((c) => pad(fixed(ratio("gateway", floor, c)), 5)).join("  ");
const opsPerSecond = (/** @type {number | string} */ value) => pad(Math.round(Number(value)), 7);
const cryptoFloorCpu = at("crypto floor", 10).cpuMsPerRequest;
const ownCpu = gatewayCpu - runtimeCpu;
// CPU per request in units of one sign + one verify.
const gatewayCost = gatewayCpu / signVerifyMs;
const ownCost = ownCpu / signVerifyMs;
const vsCryptoFloor = ratio("gateway", "crypto floor", 10);
const vsNodePeer10 = ratio("gateway", "Node peer", 10);
const vsNodePeer50 = ratio("gateway", "Node peer", 50);
const putAt = (/** @type {number} */ connections) =>
  /** @type {(typeof putRows)[number]} */ (putRows.find((row) => row.connections === connections));
const putRatios = (/** @type {(connections: number) => number} */ of) =>
  CONCURRENCIES.map((c) => pad(fixed(of(c)), 5)).join("  ");
const putLines = putRows.map((row) => {
  const sync = at("gateway", row.connections);
  const failed = row.failed ? `  (${row.failed} failed)` : "";
  return (
    `${"PUT /v1/closes".padEnd(14)} ${pad(row.connections, 4)} ${pad(Math.round(row.jobsPerSecond), 8)} ` +
    `${pad(row.p50, 7)} ${pad(row.p99, 7)} ${pad(fixed(row.cpuMsPerJob, 3), 10)}   ` +
    `${pad(Math.round(sync.rps), 8)} ${pad(fixed(sync.cpuMsPerRequest, 3), 10)}${failed}`
  );
});
const coldRows = Object.entries(coldStarts).map(
  ([name, { cold, warm }]) =>
    `  ${name.padEnd(14)} ${pad(fixed(cold, 1), 6)} ms vs ${pad(fixed(warm, 1), 4)} ms  (${fixed(cold / warm, 1)}×)`,
);
const report = [
  "",
  "Ratios of throughput (req/s)            c=1    c=10   c=50",
  `  gateway / crypto floor              ${ratios("crypto floor")}`,
  `  gateway / runtime floor             ${ratios("runtime floor")}`,
  `  gateway / Node peer                 ${ratios("Node peer")}`,
  "",
  "Crypto limit (RSA-2048, ops/s)        sign   verify",
  `  workerd (Web Crypto)             ${opsPerSecond(workerdSign)}  ${opsPerSecond(workerdVerify)}`,
  `  openssl speed rsa2048            ${opsPerSecond(opensslSign)}  ${opsPerSecond(opensslVerify)}`,
  "",
  "CPU per request at c=10 (workerd process, all threads)",
  `  one sign + one verify in workerd    ${fixed(signVerifyMs, 3)} ms`,
  `  gateway                             ${fixed(gatewayCpu, 3)} ms  (${fixed(gatewayCost)}× sign + verify)`,
  `  crypto floor                        ${fixed(cryptoFloorCpu, 3)} ms  ` +
    `(${fixed(cryptoFloorCpu / signVerifyMs)}×: the bound for any Worker)`,
  `  runtime floor                       ${fixed(runtimeCpu, 3)} ms  (serving + one fetch, no crypto)`,
  `  gateway − runtime floor             ${fixed(ownCpu, 3)} ms  (${fixed(ownCost)}× sign + verify)`,
  `Deploy bundle: ${fixed(bundleBytes.length / 1024, 1)} KiB minified, ${fixed(bundleGzipKiB, 1)} KiB gzip`,
  "Cold first request vs warm median (median of 3 fresh workerd processes)",
  coldRows.join("\n"),
  "",
  "Durable closes (PUT /v1/closes, close_at a day ahead; a fresh gateway per concurrency)",
  `${"".padEnd(14)} ${pad("conc", 4)} ${pad("jobs/s", 8)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ` +
    `${pad("CPU ms/job", 10)}   ${pad("sync req/s", 8)} ${pad("CPU ms/req", 10)}`,
  putLines.join("\n"),
  "                                                     c=1    c=10   c=50",
  `  accepted jobs/s / synchronous close req/s        ${putRatios((c) => putAt(c).jobsPerSecond / at("gateway", c).rps)}`,
  `  CPU per accepted job / CPU per synchronous close ${putRatios(
    (c) => putAt(c).cpuMsPerJob / at("gateway", c).cpuMsPerRequest,
  )}`,
  "",
  "Targets",
  `  gateway ≥ 0.90 × crypto floor at c=10       ${fixed(vsCryptoFloor)}   ${verdict(vsCryptoFloor >= 0.9)}`,
  `  gateway ≥ 1.0 × Node peer at c=10 and c=50   ${fixed(vsNodePeer10)}, ${fixed(vsNodePeer50)}   ` +
    verdict(vsNodePeer10 >= 1 && vsNodePeer50 >= 1),
  `  gateway CPU ≤ 1.3 × (sign + verify)         ${fixed(gatewayCost)} ` +
    `(own work only: ${fixed(ownCost)})   ${verdict(gatewayCost <= 1.3)}`,
  `  bundle ≤ 25 KiB gzip                        ${fixed(bundleGzipKiB, 1)}   ${verdict(bundleGzipKiB <= 25)}`,
  `  cold ≤ 2 × warm                             ${fixed(coldMs / warmMs, 1)}   ${verdict(coldMs / warmMs <= 2)}`,
  "",
];
console.log(report.join("\n"));
process.exit(0);
