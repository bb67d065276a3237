import { BodyTooLargeError, discard, readBody } from "./body";
import {
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RESPONSE_BYTES,
  HEADER_APP_ID,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  RESPONSE_REQUEST_ID_HEADERS,
  SPARKPAY_REQUEST_ID_PATTERN,
} from "./constants";
import { SparkPayConnectionError, SparkPayInvalidResponseError, SparkPayTimeoutError } from "./errors";
import { createNonce } from "./nonce";
import type { RawResponse } from "./raw-response";
import type { Signer } from "./signer";

/** One SparkPay operation as sent on the wire; `body` is signed and sent exactly as given. */
export interface SparkPayRequest {
  operation: "close" | "query" | "create";
  method: "GET" | "POST";
  path: string;
  /** "" for GET: the signed message still has its empty body line. */
  body: string;
}

/** One request to SparkPay, as observed by the transport. Holds nothing secret. */
export interface AttemptReport {
  operation: SparkPayRequest["operation"];
  /** 1 for the first attempt of this operation. */
  attempt: number;
  durationMs: number;
  /** SparkPay's HTTP status, when it answered. */
  status?: number;
  /** The failure's class name, when there was no answer (e.g. SparkPayTimeoutError). */
  error?: string;
  /** SparkPay's own request id, when its answer carried one. */
  sparkpayRequestId?: string;
  /** Which merchant key signed: 1 (current) or 2 (next, during a rotation). */
  key: number;
}

/** What the caller of an operation passes down to every request it causes. */
export interface RequestContext {
  /** Sent as X-Request-Id so SparkPay support and the sandbox can correlate. */
  requestId?: string;
  /** Called after every request sent to SparkPay, for logs and metrics. */
  onAttempt?: (report: AttemptReport) => void;
}

export interface SendOptions {
  attempt: number;
  /** Index of the merchant key that signs this request. */
  key: number;
  timeoutMs: number;
  context: RequestContext;
}

export interface TransportOptions {
  appId: string;
  signer: Signer;
  userAgent: string;
  baseUrl?: string;
  /** Bodies are read up to this many decoded bytes (SPARKPAY_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /** Injected so tests and other runtimes control the network, the clock and the nonces. */
  fetch?: typeof fetch;
  now?: () => number;
  nonce?: () => string;
}

/**
 * The wire: builds the signed request (a fresh timestamp and nonce every time), fetches it with the
 * attempt's timeout and without following redirects, and returns the raw answer, its body read
 * under a byte cap (5xx and 3xx bodies are not read at all). It decides nothing about the answer;
 * it only turns "no answer at all" into a typed error, and an oversized one into another.
 */
export class SparkPayTransport {
  private readonly baseUrl: string;
  private readonly maxResponseBytes: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly nonce: () => string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    // Bound so an injected global fetch keeps its `this` in workerd.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.nonce = options.nonce ?? createNonce;
  }

  async send(request: SparkPayRequest, { attempt, key, timeoutMs, context }: SendOptions): Promise<RawResponse> {
    const { operation, method, path, body } = request;
    const timestamp = Math.floor(this.now() / 1000).toString();
    const nonce = this.nonce();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.options.userAgent,
      [HEADER_APP_ID]: this.options.appId,
      [HEADER_TIMESTAMP]: timestamp,
      [HEADER_NONCE]: nonce,
      [HEADER_SIGNATURE]: await this.options.signer.sign(timestamp, nonce, body, key),
    };
    if (method === "POST") headers["Content-Type"] = "application/json";
    if (context.requestId) headers["X-Request-Id"] = context.requestId;
    const started = this.now();
    const report = (outcome: Partial<AttemptReport>) =>
      context.onAttempt?.({ operation, attempt, key: key + 1, durationMs: this.now() - started, ...outcome });
    let response: Response;
    let bytes: Uint8Array;
    // The attempt's timeout covers the answer's body too; cleared as soon as it is read, so no timer outlives it.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException("The attempt timed out.", "TimeoutError")), timeoutMs);
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: method === "POST" ? body : undefined,
        // A redirect would replay the signed request to a URL the gateway never chose.
        redirect: "manual",
        signal: abort.signal,
      });
      // Nothing in a 5xx or 3xx body changes what the gateway does with it.
      const needed = response.status < 300 || (response.status >= 400 && response.status < 500);
      if (needed) bytes = await readBody(response, this.maxResponseBytes);
      else {
        discard(response.body);
        bytes = new Uint8Array();
      }
    } catch (error) {
      const failure =
        error instanceof BodyTooLargeError
          ? new SparkPayInvalidResponseError(`SparkPay's answer is ${error.message}; reading stopped there.`, attempt)
          : error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")
            ? new SparkPayTimeoutError(timeoutMs, attempt)
            : new SparkPayConnectionError(
                `SparkPay could not be reached: ${error instanceof Error ? error.message : String(error)}`,
                attempt,
              );
      report({ error: failure.name });
      throw failure;
    } finally {
      clearTimeout(timer);
    }
    const sparkpayRequestId = plainRequestId(response.headers);
    report({ status: response.status, sparkpayRequestId });
    return { status: response.status, headers: response.headers, bytes, attempt, sparkpayRequestId };
  }
}

/** SparkPay's own request id, when its answer carries one that is short and plain enough to pass on. */
function plainRequestId(headers: Headers): string | undefined {
  const id = RESPONSE_REQUEST_ID_HEADERS.map((name) => headers.get(name)).find(Boolean);
  return id && SPARKPAY_REQUEST_ID_PATTERN.test(id) ? id : undefined;
}
