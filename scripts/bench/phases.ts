/**
 * The phases of `npm run bench`, in the order it runs them, each returning its figures: the synchronous close on
 * every target, PUT /v1/closes and order creation on fresh gateways, the crypto limit, cold starts, the bundle's size.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import type { Miniflare } from "miniflare";
import { BODY, cpuSeconds, type Lab, type Target } from "./lab";
import { createOrder, loadClose, loadNewOrders, type NewOrderRequest, putCloseJob } from "./load";

/** Measured seconds per run (BENCH_SECONDS, default 6), and the concurrencies every load runs at. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
export const CONCURRENCIES = [1, 10, 50];
/** An instance starts (and goes to sleep) after its 202: CPU is read this long after each PUT run. */
const SETTLE_MS = 1000;

export interface CloseRow {
  target: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  failed: number;
}

/**
 * The synchronous runs split into this many rounds (BENCH_ROUNDS, default 3), the targets taking turns within each:
 * on a shared host whose speed drifts over seconds, alternating keeps the ratios between targets true.
 */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/**
 * Phase 1: the synchronous close on each target at each concurrency: a one-second warm-up per target, then ROUNDS
 * rounds of SECONDS / ROUNDS each, the targets alternating; each row sums its rounds.
 */
export async function synchronousCloses(targets: Target[], callerKey: string): Promise<CloseRow[]> {
  const rows: CloseRow[] = [];
  const seconds = Math.max(1, Math.round(SECONDS / ROUNDS));
  for (const connections of CONCURRENCIES) {
    for (const target of targets) await loadClose(target.url, callerKey, connections, 1); // warm-up
    const sums = targets.map(() => ({
      cpu: 0,
      ok: 0,
      failed: 0,
      requests: 0,
      duration: 0,
      p50: [] as number[],
      p99: [] as number[],
    }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, target] of targets.entries()) {
        const cpuBefore = cpuSeconds(target.pid);
        const result = await loadClose(target.url, callerKey, connections, seconds);
        const sum = sums[index]!;
        sum.cpu += cpuSeconds(target.pid) - cpuBefore;
        sum.ok += result.requests.total - result.non2xx - result.errors;
        sum.failed += result.non2xx + result.errors;
        sum.requests += result.requests.total;
        sum.duration += result.duration;
        sum.p50.push(result.latency.p50);
        sum.p99.push(result.latency.p99);
      }
    }
    for (const [index, target] of targets.entries()) {
      const sum = sums[index]!;
      if (sum.failed) console.error(`! ${target.name} c=${connections}: ${sum.failed} failed`);
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      rows.push({
        target: target.name,
        connections,
        rps: sum.requests / Math.max(0.001, sum.duration),
        p50: median(sum.p50),
        p99: median(sum.p99),
        cpuMsPerRequest: (1000 * sum.cpu) / Math.max(1, sum.ok),
        failed: sum.failed,
      });
    }
  }
  return rows;
}

/** A run of new orders at one concurrency: accepted per second, latency, CPU per accepted request. */
export interface NewOrderRow {
  connections: number;
  perSecond: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  failed: number;
}

/** The gateway's public origin for the creation runs (creation is refused without one). */
const BENCH_PUBLIC_URL = "https://gateway.bench.example";

/**
 * At each concurrency, `request` with a new order each time, on a fresh gateway disposed after its run: the
 * sleeping instances (a PUT's job) stay in their workerd process and must not weigh on any other measurement.
 */
async function newOrderRuns(lab: Lab, label: string, request: () => NewOrderRequest): Promise<NewOrderRow[]> {
  const rows: NewOrderRow[] = [];
  for (const connections of CONCURRENCIES) {
    const gateway = await lab.startMigratedGateway({ GATEWAY_PUBLIC_URL: BENCH_PUBLIC_URL });
    const load = request();
    await loadNewOrders(gateway.url, lab.callerKey, load, connections, 1); // warm-up
    await sleep(SETTLE_MS);
    const cpuBefore = cpuSeconds(gateway.pid);
    const result = await loadNewOrders(gateway.url, lab.callerKey, load, connections, SECONDS);
    await sleep(SETTLE_MS);
    const cpu = cpuSeconds(gateway.pid) - cpuBefore;
    const failed = [...result.statuses.values()].reduce((sum, n) => sum + n, result.errors) - result.accepted;
    if (failed) {
      const codes = [...result.statuses]
        .filter(([code]) => code !== load.accepted)
        .map(([code, n]) => `${n} × ${code}`);
      console.error(`! ${label} c=${connections}: ${[...codes, `${result.errors} errors`].join(", ")}`);
    }
    rows.push({
      connections,
      perSecond: result.accepted / result.duration,
      p50: result.p50,
      p99: result.p99,
      cpuMsPerRequest: (1000 * cpu) / Math.max(1, result.accepted),
      failed,
    });
    await lab.dispose(gateway.mf);
  }
  return rows;
}

/** Phase 2: PUT /v1/closes, close_at a day ahead (accepting a job is measured, not closing). */
export const durableCloses = (lab: Lab) => newOrderRuns(lab, "PUT /v1/closes", putCloseJob);

/** Phase 2b: POST /v4/pay/cashier, an order created per request (D1 claim, sign, forward, verify, record). */
export const creations = (lab: Lab) => newOrderRuns(lab, "POST /v4/pay/cashier", createOrder);

export interface CryptoLimit {
  workerdSign: number;
  workerdVerify: number;
  opensslSign: number;
  opensslVerify: number;
}

/**
 * Phase 3: RSA-2048 operations per second inside workerd (the crypto floor's /crypto, timed from outside: workerd's
 * clock stands still while JS runs) and with `openssl speed`.
 */
export async function cryptoLimit(cryptoFloorUrl: string): Promise<CryptoLimit> {
  const opsPerSecond = async (op: "sign" | "verify", n: number) => {
    const time = async (count: number) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await (await fetch(`${cryptoFloorUrl}/crypto?op=${op}&n=${count}`)).text();
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    const overhead = await time(0);
    return (1000 * n) / ((await time(n)) - overhead);
  };
  const workerdSign = await opsPerSecond("sign", 400);
  const workerdVerify = await opsPerSecond("verify", 4000);
  const speed = execFileSync("openssl", ["speed", "-seconds", "2", "rsa2048"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [, sign = "0", verify = "0"] = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(speed) ?? [];
  return { workerdSign, workerdVerify, opensslSign: Number(sign), opensslVerify: Number(verify) };
}

/** A fresh process's first request, and the median of the next ones, in ms. */
export interface ColdStart {
  cold: number;
  warm: number;
}

async function closeOnce(url: string, callerKey: string): Promise<number> {
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
 * Phase 4: for each target, a fresh workerd's first request against the median of its next 100; the median over
 * three fresh processes, since one first request alone is too noisy.
 */
export async function coldStarts(
  lab: Lab,
  starters: Record<string, () => Promise<{ url: string; mf: Miniflare }>>,
): Promise<Record<string, ColdStart>> {
  const results: Record<string, ColdStart> = {};
  for (const [name, start] of Object.entries(starters)) {
    const runs: ColdStart[] = [];
    for (let i = 0; i < 3; i++) {
      const { url, mf } = await start();
      const cold = await closeOnce(url, lab.callerKey);
      const warm: number[] = [];
      for (let j = 0; j < 100; j++) warm.push(await closeOnce(url, lab.callerKey));
      warm.sort((a, b) => a - b);
      runs.push({ cold, warm: warm[Math.floor(warm.length / 2)]! });
      await lab.dispose(mf);
    }
    runs.sort((a, b) => a.cold - b.cold);
    results[name] = runs[1]!;
  }
  return results;
}

/** Phase 5: the deploy bundle's size, minified and gzipped (level 9). */
export function bundleSize(bundlePath: string): { kib: number; gzipKiB: number } {
  const bytes = readFileSync(bundlePath);
  return { kib: bytes.length / 1024, gzipKiB: gzipSync(bytes, { level: 9 }).length / 1024 };
}
