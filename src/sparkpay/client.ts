import * as v from "valibot";
import { CLOSE_ORDER_PATH, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, HEADER_APP_ID, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP } from "./constants";
import {
  SparkPayApiError,
  SparkPayConnectionError,
  SparkPayInvalidResponseError,
  SparkPayServerError,
  SparkPayTimeoutError,
} from "./errors";
import { createNonce } from "./nonce";
import { type CloseOrderRequest, type CloseOrderResponse, CloseOrderResponseSchema, SparkPayErrorEnvelopeSchema } from "./schemas";
import type { Signer } from "./signer";
import { validateResponseSignature } from "./validator";
import type { Verifier } from "./verifier";

export interface SparkPayClientOptions {
  appId: string;
  signer: Signer;
  /** Checks response signatures; undefined turns verification off (see SPARKPAY_VERIFY_RESPONSES). */
  verifier: Verifier | undefined;
  userAgent: string;
  baseUrl?: string;
  timeoutMs?: number;
  /** Injected so tests and other runtimes control the network, the clock and the nonce. */
  fetch?: typeof fetch;
  now?: () => number;
  nonce?: () => string;
}

export interface RequestContext {
  /** Sent as X-Request-Id so SparkPay support and the sandbox can correlate. */
  requestId?: string;
}

export interface CloseOrderResult {
  httpStatus: number;
  /** SparkPay's body exactly as received and verified. */
  rawBody: string;
  envelope: CloseOrderResponse;
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export class SparkPayClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly nonce: () => string;

  constructor(private readonly options: SparkPayClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Bound so an injected global fetch keeps its `this` in workerd.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.nonce = options.nonce ?? createNonce;
  }

  /** Closes a payment order. Resolves only with a verified, validated success for this very order. */
  async closeOrder(order: CloseOrderRequest, context: RequestContext = {}): Promise<CloseOrderResult> {
    // Built once: these exact bytes are signed and sent.
    const body = JSON.stringify({ request_no: order.request_no, merchant_no: order.merchant_no });
    const response = await this.send("POST", CLOSE_ORDER_PATH, body, context);
    const envelope = await this.readSuccess(response, CloseOrderResponseSchema);
    if (envelope.data.request_no !== order.request_no || envelope.data.merchant_no !== order.merchant_no) {
      throw new SparkPayInvalidResponseError("SparkPay's answer is for a different order than the one requested.");
    }
    return { httpStatus: response.status, rawBody: response.text, envelope };
  }

  /** One signed attempt. Every attempt gets a fresh timestamp and nonce. */
  private async send(method: "GET" | "POST", path: string, body: string, context: RequestContext): Promise<RawResponse> {
    const timestamp = Math.floor(this.now() / 1000).toString();
    const nonce = this.nonce();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.options.userAgent,
      [HEADER_APP_ID]: this.options.appId,
      [HEADER_TIMESTAMP]: timestamp,
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: await this.options.signer.sign(timestamp, nonce, body),
    };
    if (method === "POST") headers["Content-Type"] = "application/json";
    if (context.requestId) headers["X-Request-Id"] = context.requestId;
    try {
      const response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: method === "POST" ? body : undefined,
        // A redirect would replay the signed request to a URL the gateway never chose.
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) throw new SparkPayTimeoutError(this.timeoutMs);
      throw new SparkPayConnectionError(`SparkPay could not be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Verifies, parses and validates a 2xx answer; turns every other answer into a typed error. */
  private async readSuccess<T extends v.GenericSchema>(response: RawResponse, schema: T): Promise<v.InferOutput<T>> {
    const { status, headers, text } = response;
    if (status >= 500) throw new SparkPayServerError(status);
    if (status >= 200 && status < 300 && this.options.verifier) {
      await validateResponseSignature(this.options.verifier, headers, text, this.now());
    }
    const json = parseJson(text);
    if (status >= 200 && status < 300) {
      const success = v.safeParse(schema, json);
      if (success.success) return success.output;
    }
    const refusal = v.safeParse(SparkPayErrorEnvelopeSchema, json);
    // A refusal inside a 2xx is still a refusal; report it as the client error it is.
    if (refusal.success && String(refusal.output.code) !== "0") {
      throw new SparkPayApiError(status >= 400 ? status : 400, refusal.output.code, refusal.output.message);
    }
    throw new SparkPayInvalidResponseError(
      json === undefined ? `SparkPay answered HTTP ${status} with a body that is not JSON.` : `SparkPay answered HTTP ${status} with JSON of an unexpected shape.`,
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
