/**
 * `sparkpay-edge-gateway/client`: a thin typed client for the gateway's API, for any server-side runtime with `fetch`
 * (Node 20+, Workers, Deno, Bun); not for browsers, where the caller key would be anyone's. It imports nothing: its
 * types need no DOM, Node or Worker types, so any TypeScript project compiles them. The gateway validates inputs,
 * retries SparkPay and confirms closes; the client does none of that again (a second retry layer would only multiply
 * requests under an outage).
 */
import type { CloseJob, CloseOrderResponse, ConfirmedBy, CreateOrderRequest, CreateOrderResponse, CreateProOrderRequest, ErrorCode, ErrorEnvelope, OrderRef, OrderState, QueryOrderResponse, QueryProOrderResponse, ScheduleCloseRequest } from "./types.js";
export type * from "./types.js";
/**
 * The signal type of the platform's own `fetch` when the caller's types declare one (DOM, Node, Workers, Deno, Bun),
 * read off `globalThis` so that no platform type is named here; `never` in a project without any.
 */
type PlatformAbortSignal = typeof globalThis extends {
    fetch: (input: never, init?: infer Init) => unknown;
} ? Init extends {
    signal?: infer Signal;
} ? Exclude<Signal, null | undefined> : never : never;
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
    readonly headers: {
        get(name: string): string | null;
    };
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
export type WithLastResponse<T> = T & {
    readonly lastResponse: LastResponse;
};
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
    listCloses(order: OrderRef): Promise<WithLastResponse<{
        jobs: CloseJob[];
    }>>;
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
export declare class GatewayClientError extends Error {
    readonly name = "GatewayClientError";
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
    constructor(init: GatewayClientErrorInit);
}
export declare function createGatewayClient(options: GatewayClientOptions): GatewayClient;
