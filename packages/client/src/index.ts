/**
 * `sparkpay-edge-gateway/client`: a thin typed client for the gateway's API, for any server-side runtime with `fetch`
 * (Node 20+, Workers, Deno, Bun); not for browsers, where the caller key would be anyone's. It imports nothing: its
 * types need no DOM, Node or Worker types, so any TypeScript project compiles them. The gateway validates inputs,
 * retries SparkPay and confirms closes; the client does none of that again (a second retry layer would only multiply
 * requests under an outage).
 */
import type {
  CloseJob,
  CloseOrderResponse,
  ConfirmedBy,
  CreateOrderRequest,
  CreateOrderResponse,
  CreateProOrderRequest,
  ErrorCode,
  ErrorEnvelope,
  OrderRef,
  OrderState,
  QueryOrderResponse,
  QueryProOrderResponse,
  ScheduleCloseRequest,
} from "./types.js";

export type * from "./types.js";

/**
 * The signal type of the platform's own `fetch` when the caller's types declare one (DOM, Node, Workers, Deno, Bun),
 * read off `globalThis` so that no platform type is named here; `never` in a project without any.
 */
type PlatformAbortSignal = typeof globalThis extends { fetch: (input: never, init?: infer Init) => unknown }
  ? Init extends { signal?: infer Signal }
    ? Exclude<Signal, null | undefined>
    : never
  : never;

/** What the client passes to `fetch`: the platform's own `fetch` accepts it. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: PlatformAbortSignal;
}

/** The little of a fetch Response the client reads. */
export interface FetchResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** Any `fetch`: the global one, undici's, a Worker's service binding, or a test double. */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

export interface GatewayClientOptions {
  /** The gateway's URL, http(s), with or without a path prefix and trailing slash. */
  baseUrl: string;
  /** A caller key from the gateway's GATEWAY_API_KEYS, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /**
   * How long to wait for each answer, body included (default 30000). The gateway ends its own work on SparkPay
   * within 20 s, so the default leaves room for the network.
   */
  timeoutMs?: number;
}

/** What a success carried besides its body. */
export interface LastResponse {
  /** HTTP status: 200, or 202 when scheduleClose created the job (200: it existed; left or rescheduled). */
  status: number;
  /** The gateway's id for the request (X-Request-Id): quote it when asking about a call. */
  requestId: string | undefined;
  /** SparkPay's id of its last answer, when SparkPay was asked (X-SparkPay-Request-Id). */
  sparkpayRequestId: string | undefined;
  /**
   * closeOrder only (X-Close-Confirmed-By): `order-query` when SparkPay's close answer was lost or refused and Payment
   * Order Query showed the order CLOSED, `close-and-query` when the close succeeded and the query agreed (the gateway's
   * SPARKPAY_CONFIRM_CLOSES=always), `close` when SparkPay's close answer said so itself.
   */
  confirmedBy?: ConfirmedBy;
  /** createOrder and createProOrder only (Idempotent-Replayed): the answer is the first creation's, from the record. */
  replayed?: boolean;
}

/**
 * A success body with its response's details under `lastResponse`, a non-enumerable property (as stripe-node does):
 * JSON.stringify and spreads see the body alone.
 */
export type WithLastResponse<T> = T & { readonly lastResponse: LastResponse };

export interface GatewayClient {
  /** POST /v4/pay/orders/close. Repeating it is safe: an order already closed still resolves (confirmedBy). */
  closeOrder(order: OrderRef): Promise<WithLastResponse<CloseOrderResponse>>;
  /** GET /v4/pay/orders/{merchant_no}/{request_no}: SparkPay's Payment Order Query. */
  queryOrder(order: OrderRef): Promise<WithLastResponse<QueryOrderResponse>>;
  /**
   * POST /v4/pay/cashier: creates the order (signed by the gateway; notifications routed to it). Repeating the same
   * body is safe: it answers the first creation's answer (`lastResponse.replayed`); another body for the same
   * request_no is 409 REQUEST_NO_REUSED. With close_at, the answer's close_job closes the order then.
   */
  createOrder(request: CreateOrderRequest): Promise<WithLastResponse<CreateOrderResponse>>;
  /** POST /v4/pro/pay/cashier: as createOrder, for the Pro edition. */
  createProOrder(request: CreateProOrderRequest): Promise<WithLastResponse<CreateOrderResponse>>;
  /** GET /v4/pro/pay/orders/{merchant_no}/{request_no}: the Pro edition's query. */
  queryProOrder(order: OrderRef): Promise<WithLastResponse<QueryProOrderResponse>>;
  /** PUT /v1/closes/…: a durable close at close_at (Unix seconds; absent: now). */
  scheduleClose(request: ScheduleCloseRequest): Promise<WithLastResponse<CloseJob>>;
  /** GET /v1/closes/…: the job and its history (404 NOT_FOUND when the order has none). */
  getClose(order: OrderRef): Promise<WithLastResponse<CloseJob>>;
  /** GET /v1/closes/…/jobs: every job the order had (at most 20), the current one first, then earlier ones. */
  listCloses(order: OrderRef): Promise<WithLastResponse<{ jobs: CloseJob[] }>>;
  /** POST /v1/closes/…/webhook: the job's latest event sent again, once; the job, with `webhook` after that try. */
  redeliverClose(order: OrderRef): Promise<WithLastResponse<CloseJob>>;
  /** DELETE /v1/closes/…: cancels a scheduled job (409 CLOSE_CONFLICT once it is closing or ended). */
  cancelClose(order: OrderRef): Promise<WithLastResponse<CloseJob>>;
}

export interface GatewayClientErrorInit {
  status: number;
  code: ErrorCode;
  message: string;
  requestId?: string | undefined;
  param?: string | undefined;
  docUrl?: string | undefined;
  sparkpayRequestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
  order?: OrderState | undefined;
  refusal?: ErrorEnvelope["refusal"] | undefined;
  cause?: unknown;
}

/**
 * Every failure: the gateway's error envelope (`status` its HTTP status), or the client's own NETWORK_ERROR and
 * TIMEOUT (status 0; whether a close happened is unknown, and repeating it is safe) or INVALID_GATEWAY_RESPONSE.
 */
export class GatewayClientError extends Error {
  override readonly name = "GatewayClientError";
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** A gateway code (text), SparkPay's own code (usually a number), or the client's own code. */
  readonly code: ErrorCode;
  /** The gateway's request id (the envelope's request_id, else X-Request-Id); none when no answer came. */
  readonly requestId: string | undefined;
  /** The one input at fault (`request_no`, `close_at`, `Authorization`, …), when the gateway names one. */
  readonly param?: string | undefined;
  /** Where the gateway's error reference explains the code. */
  readonly docUrl?: string | undefined;
  /** SparkPay's id of its last answer, when SparkPay answered. */
  readonly sparkpayRequestId?: string | undefined;
  /** From Retry-After (a 429 carries it): seconds to wait before sending again. */
  readonly retryAfterSeconds?: number | undefined;
  /**
   * The order as a verified Payment Order Query showed it. Always set with ORDER_NOT_CLOSABLE (409): the order is not
   * closed (`order.pay_status` says what it is, e.g. paid): do not close again; fulfil or refund.
   */
  readonly order?: OrderState | undefined;
  /** With ORDER_NOT_CLOSABLE: SparkPay's refusal of the close, when it refused. */
  readonly refusal?: ErrorEnvelope["refusal"] | undefined;

  constructor(init: GatewayClientErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.param = init.param;
    this.docUrl = init.docUrl;
    this.sparkpayRequestId = init.sparkpayRequestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.order = init.order;
    this.refusal = init.refusal;
  }
}

/** What the client needs of the runtime, read from globalThis so that its types need no platform types. */
interface Runtime {
  fetch?: FetchLike;
  AbortController?: new () => { readonly signal: unknown; abort(): void };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}
const runtime = globalThis as unknown as Runtime;

const DEFAULT_TIMEOUT_MS = 30_000;
/** Larger delays make setTimeout fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Absolute http(s), a host, no credentials (fetch refuses them), no query or fragment (paths are appended). */
const BASE_URL = /^https?:\/\/[^/?#@\s]+(?:\/[^?#\s]*)?$/i;

/** A path segment. Empty and dot segments cannot be sent (URL parsers drop or collapse them), so they are refused. */
function segment(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || value === "." || value === "..")
    throw new TypeError(`${name} must be a string other than "", "." and "..", to be sent in the URL path.`);
  return encodeURIComponent(value);
}

const orderPath = (prefix: string, order: OrderRef) =>
  `${prefix}/${segment("merchant_no", order.merchant_no)}/${segment("request_no", order.request_no)}`;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/** Retry-After as seconds: delta-seconds (what the gateway sends) or an HTTP date. */
function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The error's message, with its cause's code or message when fetch wrapped one (Node: "fetch failed" over it). */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = isObject(error.cause) ? (text(error.cause.code) ?? text(error.cause.message)) : undefined;
  return cause === undefined ? error.message : `${error.message} (${cause})`;
}

/** A short, one-line start of a body that is not the gateway's JSON, to tell a proxy's page from a wrong URL. */
const bodyStart = (body: string) => JSON.stringify(body.replace(/\s+/g, " ").trim().slice(0, 120));

interface Answer {
  status: number;
  headers: FetchResponseLike["headers"];
  body: string;
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { baseUrl, apiKey, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (typeof baseUrl !== "string" || !BASE_URL.test(baseUrl))
    throw new TypeError("baseUrl must be an absolute http(s) URL without credentials, query or fragment.");
  // Checked here, never quoted: fetch would refuse such a header value with the key in its error message.
  if (typeof apiKey !== "string" || !/^[\x21-\x7e]+$/.test(apiKey))
    throw new TypeError("apiKey must be a caller key: visible ASCII characters, no spaces or line breaks.");
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, at most ${MAX_TIMEOUT_MS}.`);
  if (options.fetch === undefined && typeof runtime.fetch !== "function")
    throw new TypeError("This runtime has no global fetch: pass one as the fetch option.");
  // Looked up per call when not given, so a fetch installed later (a test's mock, a polyfill) is used.
  const fetchFn: FetchLike = options.fetch ?? ((url, init) => (runtime.fetch as FetchLike)(url, init));
  const root = baseUrl.replace(/\/+$/, "");

  /** One request and its whole body under one timer: a body that stalls times out too. */
  async function exchange(url: string, init: FetchInit): Promise<Answer> {
    const controller = runtime.AbortController ? new runtime.AbortController() : undefined;
    // The platform's own signal; typed `never` here, where no platform types are loaded.
    if (controller) init.signal = controller.signal as never;
    let timer: unknown;
    const expired = new Promise<never>((_, reject) => {
      timer = runtime.setTimeout(() => {
        // Rejected before aborting, so the timeout wins the race over fetch's AbortError.
        reject(
          new GatewayClientError({
            status: 0,
            code: "TIMEOUT",
            message: `The gateway did not answer within ${timeoutMs} ms.`,
          }),
        );
        controller?.abort();
      }, timeoutMs);
    });
    const work = (async () => {
      const response = await fetchFn(url, init);
      return { status: response.status, headers: response.headers, body: await response.text() };
    })();
    try {
      return await Promise.race([work, expired]);
    } catch (error) {
      if (error instanceof GatewayClientError) throw error;
      throw new GatewayClientError({
        status: 0,
        code: "NETWORK_ERROR",
        message: `The gateway could not be reached: ${reason(error)}.`,
        cause: error,
      });
    } finally {
      runtime.clearTimeout(timer);
    }
  }

  /** The ids every answer carries, success or not. */
  const idsOf = (headers: Answer["headers"]) => ({
    requestId: headers.get("X-Request-Id") ?? undefined,
    sparkpayRequestId: headers.get("X-SparkPay-Request-Id") ?? undefined,
  });

  /** An answer that is not the gateway's JSON: a proxy's error page, say, or a baseUrl that is not the gateway. */
  const invalid = ({ status, headers, body }: Answer, what: string) =>
    new GatewayClientError({
      status,
      code: "INVALID_GATEWAY_RESPONSE",
      message: `The gateway answered HTTP ${status} ${what}; the body starts ${bodyStart(body)}.`,
      ...idsOf(headers),
      retryAfterSeconds: retryAfter(headers.get("Retry-After")),
    });

  function failure(answer: Answer): GatewayClientError {
    const envelope = parseJson(answer.body);
    if (!isObject(envelope) || !["string", "number"].includes(typeof envelope.code) || !text(envelope.message))
      return invalid(answer, "without its error envelope");
    const ids = idsOf(answer.headers);
    return new GatewayClientError({
      status: answer.status,
      code: envelope.code as ErrorCode,
      message: envelope.message as string,
      requestId: text(envelope.request_id) ?? ids.requestId,
      param: text(envelope.param),
      docUrl: text(envelope.doc_url),
      sparkpayRequestId: ids.sparkpayRequestId,
      retryAfterSeconds: retryAfter(answer.headers.get("Retry-After")),
      order: isObject(envelope.order) && text(envelope.order.pay_status) ? (envelope.order as OrderState) : undefined,
      refusal: isObject(envelope.refusal) ? (envelope.refusal as ErrorEnvelope["refusal"]) : undefined,
    });
  }

  async function call<T>(method: string, path: string, json?: unknown, isClose = false): Promise<WithLastResponse<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${apiKey}`, Accept: "application/json" };
    const init: FetchInit = { method, headers };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    }
    const answer = await exchange(`${root}${path}`, init);
    if (answer.status < 200 || answer.status > 299) throw failure(answer);
    const body = parseJson(answer.body);
    if (!isObject(body)) throw invalid(answer, "with a body that is not a JSON object");
    const lastResponse: LastResponse = { status: answer.status, ...idsOf(answer.headers) };
    if (path.endsWith("/cashier")) lastResponse.replayed = answer.headers.get("Idempotent-Replayed") === "true";
    if (isClose) {
      const confirmed = answer.headers.get("X-Close-Confirmed-By");
      lastResponse.confirmedBy = confirmed === "order-query" || confirmed === "close-and-query" ? confirmed : "close";
    }
    Object.defineProperty(body, "lastResponse", { value: lastResponse, enumerable: false, configurable: true });
    return body as WithLastResponse<T>;
  }

  const closes = (order: OrderRef) => orderPath("/v1/closes", order);
  // async, so that a bad argument rejects like every other failure instead of throwing.
  return {
    // Only the two fields are sent: anything else on the caller's object stays with the caller.
    closeOrder: async ({ merchant_no, request_no }) =>
      call<CloseOrderResponse>("POST", "/v4/pay/orders/close", { request_no, merchant_no }, true),
    queryOrder: async (order) => call<QueryOrderResponse>("GET", orderPath("/v4/pay/orders", order)),
    createOrder: async (request) => call<CreateOrderResponse>("POST", "/v4/pay/cashier", request),
    createProOrder: async (request) => call<CreateOrderResponse>("POST", "/v4/pro/pay/cashier", request),
    queryProOrder: async (order) => call<QueryProOrderResponse>("GET", orderPath("/v4/pro/pay/orders", order)),
    // No close_at: no body at all, which the gateway reads as "now".
    scheduleClose: async ({ close_at, reopen, ...order }) => {
      const body = { ...(close_at === undefined ? {} : { close_at }), ...(reopen === undefined ? {} : { reopen }) };
      return call<CloseJob>("PUT", closes(order), Object.keys(body).length ? body : undefined);
    },
    getClose: async (order) => call<CloseJob>("GET", closes(order)),
    listCloses: async (order) => call<{ jobs: CloseJob[] }>("GET", `${closes(order)}/jobs`),
    redeliverClose: async (order) => call<CloseJob>("POST", `${closes(order)}/webhook`),
    cancelClose: async (order) => call<CloseJob>("DELETE", closes(order)),
  };
}
