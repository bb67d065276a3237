/** The load `npm run bench` sends: autocannon for the synchronous close, fetch loops for PUT /v1/closes. */
import autocannon from "autocannon";
import { BODY, REQUEST } from "./lab";

/** close_at this far ahead: every accepted job's instance only sleeps for the whole bench. */
const CLOSE_AHEAD_S = 86_400;

/** POST /v4/pay/orders/close from `connections` connections for `duration` seconds. */
export function loadClose(url: string, callerKey: string, connections: number, duration: number) {
  return autocannon({
    url: `${url}/v4/pay/orders/close`,
    method: "POST",
    connections,
    duration,
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
    body: BODY,
  });
}

/** What a PUT run saw: accepted jobs, every status, errors, latency percentiles (ms). */
export interface PutResult {
  duration: number;
  accepted: number;
  statuses: Map<number, number>;
  errors: number;
  p50: number;
  p99: number;
}

let putCount = 0;
/**
 * PUTs close jobs from `connections` loops for `seconds`, a new order per request (request_no BENCH_PUT_<n>), close_at
 * a day ahead; each loop finishes its last request. fetch, not autocannon: under autocannon, local workerd now and
 * then leaves every connection but one waiting in workflow.create for seconds (their jobs already stored, the
 * answers sent only when some unrelated request comes in), so a run measured that stall instead of the route.
 */
export async function loadPut(url: string, callerKey: string, connections: number, seconds: number) {
  const body = JSON.stringify({ close_at: Math.floor(Date.now() / 1000) + CLOSE_AHEAD_S });
  const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
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
  const percentile = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  const result: PutResult = {
    duration: (performance.now() - started) / 1000,
    accepted: statuses.get(202) ?? 0,
    statuses,
    errors,
    p50: percentile(0.5),
    p99: percentile(0.99),
  };
  return result;
}
