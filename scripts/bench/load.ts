/** The load `npm run bench` sends: autocannon for the synchronous close, fetch loops for new orders (PUT, create). */
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

/** What a run of new orders saw: accepted requests, every status, errors, latency percentiles (ms). */
export interface NewOrderResult {
  duration: number;
  accepted: number;
  statuses: Map<number, number>;
  errors: number;
  p50: number;
  p99: number;
}

/** What one request of a new-order run is: where it goes, and the status that counts it accepted. */
export interface NewOrderRequest {
  method: "PUT" | "POST";
  path: (n: number) => string;
  body: (n: number) => string;
  accepted: number;
}

let orderCount = 0;
/**
 * PUT /v1/closes, a new order per request (request_no BENCH_PUT_<n>), close_at a day ahead: each job's instance
 * starts and sleeps, so accepting is measured, not closing.
 */
export function putCloseJob(): NewOrderRequest {
  const body = JSON.stringify({ close_at: Math.floor(Date.now() / 1000) + CLOSE_AHEAD_S });
  return {
    method: "PUT",
    path: (n) => `/v1/closes/${REQUEST.merchant_no}/BENCH_PUT_${n}`,
    body: () => body,
    accepted: 202,
  };
}

/** POST /v4/pay/cashier, a new order per request (request_no BENCH_CREATE_<n>), as a merchant creates orders. */
export function createOrder(): NewOrderRequest {
  const fields = { merchant_order_currency: "USDT", total_amount: "9.90" };
  return {
    method: "POST",
    path: () => "/v4/pay/cashier",
    body: (n) => JSON.stringify({ merchant_no: REQUEST.merchant_no, request_no: `BENCH_CREATE_${n}`, ...fields }),
    accepted: 200,
  };
}

/**
 * Sends `request` from `connections` loops for `seconds`, a new order each time; each loop finishes its last
 * request. fetch, not autocannon: under autocannon, local workerd now and then leaves every connection but one
 * waiting in workflow.create for seconds (their jobs already stored, the answers sent only when some unrelated
 * request comes in), so a run measured that stall instead of the route.
 */
export async function loadNewOrders(
  url: string,
  callerKey: string,
  request: NewOrderRequest,
  connections: number,
  seconds: number,
) {
  const headers = { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" };
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const started = performance.now();
  const end = started + 1000 * seconds;
  const loop = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const n = orderCount++;
      try {
        const response = await fetch(`${url}${request.path(n)}`, {
          method: request.method,
          headers,
          body: request.body(n),
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
  const result: NewOrderResult = {
    duration: (performance.now() - started) / 1000,
    accepted: statuses.get(request.accepted) ?? 0,
    statuses,
    errors,
    p50: percentile(0.5),
    p99: percentile(0.99),
  };
  return result;
}
