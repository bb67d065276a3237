// @ts-check
/**
 * `npm run soak`: the deploy bundle in workerd against the sandbox, 10,000 close requests at
 * concurrency 50, 5% of them hitting injected faults. Prints what a payment engineer asks after a
 * bad day: successes, typed errors, wrong answers, 500s, duplicate nonces, memory, leaked secrets.
 * Exits 1 if any failure count is not zero.
 */
import { readFileSync } from "node:fs";
import { faultRequestNo, messageMatches } from "../sandbox/faults.mjs";
import { createSandbox, FAULT_MODES, SANDBOX_APP_ID } from "../sandbox/sparkpay-sandbox.mjs";
import { buildDeployBundle } from "./build-bundle.mjs";
import { generateCallerKey, generateRsaKeyPair } from "./lib/keygen.mjs";
import { startLocalGateway } from "./local-gateway.mjs";

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 50);
/** Every 20th request carries a fault: exactly 5%, spread evenly over the run and over the modes. */
const FAULT_EVERY = 20;
const MERCHANT = "M_SANDBOX_001";

/** What the caller must see with no fault; every fault's expectation is in the sandbox's fault table. */
const NO_FAULT = { status: 200 };
/** The slow fault's delay here: well inside the default per-attempt timeout. */
const SLOW_MS = 200;
const FAULTS = Object.keys(FAULT_MODES);

/** @param {number} pid */
function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

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
const { mf, url, pid } = await startLocalGateway({
  scriptPath: buildDeployBundle(),
  upstream: (request) => sandbox.handle(request),
  bindings: {
    SPARKPAY_APP_ID: SANDBOX_APP_ID,
    SPARKPAY_PRIVATE_KEY: merchant.privateKeyPem,
    SPARKPAY_PLATFORM_PUBLIC_KEY: platform.publicKeyPem + rotated.publicKeyPem,
    GATEWAY_API_KEYS: callerKey,
  },
  onStdio: (stdout, stderr) => {
    for (const stream of [stdout, stderr]) stream.on("data", (chunk) => (logText += chunk.toString()));
  },
});

/** @param {string} requestNo @param {string} requestId */
async function close(requestNo, requestId) {
  const response = await fetch(`${url}/v4/pay/orders/close`, {
    method: "POST",
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json", "X-Request-Id": requestId },
    body: JSON.stringify({ request_no: requestNo, merchant_no: MERCHANT }),
  });
  return { response, text: await response.text() };
}

// Warm up (key import, JIT), then take the "before" memory reading.
const run = Date.now().toString(36);
for (let i = 0; i < 100; i++) await close(`WARM_${run}_${i}`, `warm_${run}_${i}`);
const memoryBefore = rssMiB(pid);
const statsBefore = { ...sandbox.stats };

const plan = Array.from({ length: REQUESTS }, (_, i) =>
  i % FAULT_EVERY === FAULT_EVERY - 1 ? FAULTS[Math.floor(i / FAULT_EVERY) % FAULTS.length] : "none",
);
const tally = {
  successes: 0,
  byCode: /** @type {Record<string, number>} */ ({}),
  wrong: /** @type {string[]} */ ([]),
  status500: 0,
  secrets: /** @type {string[]} */ ([]),
};
const secretPatterns = [
  { name: "caller key", test: (/** @type {string} */ text) => text.includes(callerKey) },
  { name: "private key material", test: (/** @type {string} */ text) => /MII[A-Za-z0-9+/]{20}/.test(text) },
  { name: "signature-like Base64", test: (/** @type {string} */ text) => /[A-Za-z0-9+/]{40,}={0,2}/.test(text) },
];

const started = performance.now();
let next = 0;
async function worker() {
  while (next < plan.length) {
    const i = next++;
    const mode = /** @type {string} */ (plan[i]);
    const requestNo = mode === "none" ? `SOAK_${run}_${i}` : faultRequestNo(mode, `${run}_${i}`);
    const requestId = `soak_${run}_${i}`;
    const { response, text } = await close(requestNo, requestId);
    /** @type {Partial<import("../sandbox/faults.mjs").FaultExpectation>} */
    const expected = FAULT_MODES[mode]?.expect ?? NO_FAULT;
    /** @type {any} */
    let body;
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
    const right =
      response.status === expected.status &&
      response.headers.get("x-request-id") === requestId &&
      (expected.status === 200
        ? body?.code === 0 &&
          body?.data?.request_no === requestNo &&
          body?.data?.merchant_no === MERCHANT &&
          (response.headers.get("x-close-confirmed-by") === "order-query") === !!expected.confirmed
        : body?.code === expected.code &&
          body?.request_id === requestId &&
          messageMatches(expected.message, body?.message));
    if (!right) tally.wrong.push(`${mode}: HTTP ${response.status} ${text.slice(0, 160)}`);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (performance.now() - started) / 1000;
await new Promise((resolve) => setTimeout(resolve, 500)); // let the last log lines arrive
const memoryAfter = rssMiB(pid);
for (const pattern of secretPatterns)
  if (pattern.test(logText)) tally.secrets.push(`${pattern.name} in the log stream`);
const logLines = logText.split("\n").filter((line) => line.startsWith("{")).length;
await mf.dispose();

const faults = plan.filter((mode) => mode !== "none").length;
const duplicateNonces = sandbox.stats.duplicate_nonces - statsBefore.duplicate_nonces;
const rows = [
  ["requests", REQUESTS],
  ["concurrency", CONCURRENCY],
  ["with an injected fault", `${faults} (${((100 * faults) / REQUESTS).toFixed(1)}%)`],
  ["duration", `${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)} req/s)`],
  ["successes (200)", tally.successes],
  [
    "typed errors by code",
    Object.entries(tally.byCode)
      .sort()
      .map(([code, n]) => `${code}=${n}`)
      .join(", ") || "none",
  ],
  ["wrong answers", tally.wrong.length],
  ["HTTP 500s", tally.status500],
  ["duplicate nonces seen by SparkPay", duplicateNonces],
  [
    "SparkPay requests (closes + queries)",
    `${sandbox.stats.requests - statsBefore.requests} (${sandbox.stats.queries - statsBefore.queries} queries)`,
  ],
  ["log lines", logLines],
  ["workerd RSS before -> after", `${memoryBefore.toFixed(1)} MiB -> ${memoryAfter.toFixed(1)} MiB`],
  ["secrets found in responses or logs", tally.secrets.length === 0 ? "none" : tally.secrets.length],
];
const width = Math.max(...rows.map(([label]) => String(label).length));
console.log("\nSoak: gateway deploy bundle in workerd (Miniflare) against the SparkPay sandbox\n");
for (const [label, value] of rows) console.log(`  ${String(label).padEnd(width)}  ${value}`);
for (const line of [...tally.wrong.slice(0, 5), ...tally.secrets.slice(0, 5)]) console.log(`  ! ${line}`);
const failed = tally.wrong.length + tally.status500 + duplicateNonces + tally.secrets.length;
console.log(failed === 0 ? "\nAll failure counts are zero." : `\n${failed} failures.`);
process.exit(failed === 0 ? 0 : 1);
