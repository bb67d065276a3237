import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import app from "../../src/index";
import { CLOSE_ORDER_PATH } from "../../src/sparkpay/constants";
import type { Delivery } from "../support/webhook-receiver";

export const CLOSE_URL = "https://gateway.test/v4/pay/orders/close";
export const [CALLER_KEY, ROTATED_CALLER_KEY] = env.GATEWAY_API_KEYS.split(",") as [string, string];
export const MERCHANT = "M_SANDBOX_001";

/** A request_no (or request id) no other test uses, so tests can share one sandbox. */
export function uniqueId(prefix = "T"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

export interface CallOptions {
  body?: BodyInit | null;
  headers?: Record<string, string>;
  method?: string;
  url?: string;
  /** Settings to override for this call only (the rest come from the test env). */
  env?: Partial<Env>;
  /** An env object to use as it is, e.g. the same one twice to see per-isolate caching. */
  exactEnv?: Env;
}

/** An error code's doc_url, as the gateway answers it at https://gateway.test (API_DOCS on). */
export function docUrl(code: string | number): string {
  return `https://gateway.test/docs/errors#${typeof code === "number" ? "sparkpay-codes" : code}`;
}

/** The gateway's own request ids (crypto.randomUUID()). */
export const GATEWAY_REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Sends a request through the whole Worker, as a caller would, with its own X-Request-Id. Returns
 * the gateway's request id (the X-Request-Id it answered, which it also sent to SparkPay) and the
 * caller's.
 */
export async function callGateway(
  options: CallOptions = {},
): Promise<{ response: Response; requestId: string; callerRequestId: string }> {
  const callerRequestId = uniqueId("req");
  const request = new Request(options.url ?? CLOSE_URL, {
    method: options.method ?? "POST",
    headers: {
      Authorization: `Bearer ${CALLER_KEY}`,
      "Content-Type": "application/json",
      "X-Request-Id": callerRequestId,
      ...options.headers,
    },
    body: options.body,
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, options.exactEnv ?? { ...env, ...options.env }, ctx);
  await waitOnExecutionContext(ctx);
  const requestId = response.headers.get("x-request-id") ?? "";
  expect(requestId).toMatch(GATEWAY_REQUEST_ID);
  return { response, requestId, callerRequestId };
}

/** Closes `request_no` for the sandbox merchant. */
export function closeOrder(requestNo: string, options: CallOptions = {}) {
  return callGateway({ body: JSON.stringify({ request_no: requestNo, merchant_no: MERCHANT }), ...options });
}

export interface SandboxCall {
  request_id: string | null;
  method: string;
  path: string;
  user_agent: string | null;
  nonce: string | null;
  signature_valid: boolean;
  body_keys: string[];
  body: string | null;
  fault: string | null;
  status: number;
}

/** What the sandbox (SparkPay's side) received for one gateway request id. */
export async function sandboxCalls(requestId: string): Promise<SandboxCall[]> {
  const response = await fetch(`https://sandbox.control/__sandbox/calls?request_id=${encodeURIComponent(requestId)}`);
  return ((await response.json()) as { calls: SandboxCall[] }).calls;
}

export async function sandboxOrder(
  merchantNo: string,
  requestNo: string,
): Promise<{ pay_status: string; merchant_order_no: string } | undefined> {
  const response = await fetch(`https://sandbox.control/__sandbox/orders/${merchantNo}/${requestNo}`);
  return response.ok ? ((await response.json()) as { pay_status: string; merchant_order_no: string }) : undefined;
}

export interface ErrorEnvelope {
  code: string | number;
  message: string;
  request_id: string;
}

/** Runs `run` with every console line captured instead of printed, and returns the lines. */
export async function captureLogs(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))),
  );
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

/** What SparkPay received for one gateway request: close attempts and confirming queries. */
export function attempts(calls: SandboxCall[]) {
  return {
    closes: calls.filter((call) => call.path === CLOSE_ORDER_PATH).length,
    queries: calls.filter((call) => call.method === "GET").length,
  };
}

/** A fault: the exact status, code, envelope and upstream attempts; never a 500 or a stack trace. */
export async function expectFault(
  requestNo: string,
  status: number,
  code: string | number,
  upstream: { closes: number; queries: number },
  options: Parameters<typeof closeOrder>[1] = {},
  /** More fields the envelope must have, e.g. the `order` a confirming query showed. */
  more: Record<string, unknown> = {},
) {
  const { response, requestId } = await closeOrder(requestNo, options);
  const text = await response.text();
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toBe(requestId);
  const body = JSON.parse(text) as ErrorEnvelope;
  expect(body).toEqual({ code, message: expect.any(String), request_id: requestId, doc_url: docUrl(code), ...more });
  expect(text).not.toMatch(/\bat \S+:\d+|Error:/);
  const calls = await sandboxCalls(requestId);
  expect(attempts(calls)).toEqual(upstream);
  return { body, response, calls };
}

/** A success: SparkPay's close envelope for this order, and the upstream attempts. */
export async function expectClosed(
  requestNo: string,
  upstream: { closes: number; queries: number },
  options: Parameters<typeof closeOrder>[1] = {},
) {
  const { response, requestId } = await closeOrder(requestNo, options);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    code: 0,
    message: "success",
    data: { request_no: requestNo, merchant_no: MERCHANT, merchant_order_no: `MO_${requestNo}` },
  });
  expect(attempts(await sandboxCalls(requestId))).toEqual(upstream);
  expect((await sandboxOrder(MERCHANT, requestNo))?.pay_status).toBe("CLOSED");
  return response;
}

/** What the test webhook receiver got for the order. */
export async function deliveries(requestNo: string): Promise<Delivery[]> {
  const response = await fetch(`https://webhooks.test/__received?request_no=${requestNo}`);
  return ((await response.json()) as { deliveries: Delivery[] }).deliveries;
}

/** A receiver's check, in Web Crypto: `t=<s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, within 300 s. */
export async function verifySignature(header: string | null, body: string, secret: string): Promise<boolean> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const [, t, v1] = match as unknown as [string, string, string];
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  const mac = new Uint8Array(v1.match(/../g)!.map((byte) => Number.parseInt(byte, 16)));
  return crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${t}.${body}`));
}
