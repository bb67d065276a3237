/**
 * Every failure: the gateway's error envelope (`status` its HTTP status), or the client's own NETWORK_ERROR and
 * TIMEOUT (status 0; whether a close happened is unknown, and repeating it is safe) or INVALID_GATEWAY_RESPONSE.
 */
export class GatewayClientError extends Error {
    name = "GatewayClientError";
    /** The HTTP status; 0 when no answer came. */
    status;
    /** A gateway code (text), SparkPay's own code (usually a number), or the client's own code. */
    code;
    /** The gateway's request id (the envelope's request_id, else X-Request-Id); none when no answer came. */
    requestId;
    /** The one input at fault (`request_no`, `close_at`, `Authorization`, …), when the gateway names one. */
    param;
    /** Where the gateway's error reference explains the code. */
    docUrl;
    /** SparkPay's id of its last answer, when SparkPay answered. */
    sparkpayRequestId;
    /** From Retry-After (a 429 carries it): seconds to wait before sending again. */
    retryAfterSeconds;
    /**
     * The order as a verified Payment Order Query showed it. Always set with ORDER_NOT_CLOSABLE (409): the order is not
     * closed (`order.pay_status` says what it is, e.g. paid): do not close again; fulfil or refund.
     */
    order;
    /** With ORDER_NOT_CLOSABLE: SparkPay's refusal of the close, when it refused. */
    refusal;
    constructor(init) {
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
const runtime = globalThis;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Larger delays make setTimeout fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Absolute http(s), a host, no credentials (fetch refuses them), no query or fragment (paths are appended). */
const BASE_URL = /^https?:\/\/[^/?#@\s]+(?:\/[^?#\s]*)?$/i;
/** A path segment. Empty and dot segments cannot be sent (URL parsers drop or collapse them), so they are refused. */
function segment(name, value) {
    if (typeof value !== "string" || value === "" || value === "." || value === "..")
        throw new TypeError(`${name} must be a string other than "", "." and "..", to be sent in the URL path.`);
    return encodeURIComponent(value);
}
const orderPath = (prefix, order) => `${prefix}/${segment("merchant_no", order.merchant_no)}/${segment("request_no", order.request_no)}`;
function parseJson(text) {
    try {
        return JSON.parse(text);
    }
    catch {
        return undefined;
    }
}
const isObject = (value) => typeof value === "object" && value !== null;
const text = (value) => (typeof value === "string" ? value : undefined);
/** Retry-After as seconds: delta-seconds (what the gateway sends) or an HTTP date. */
function retryAfter(value) {
    if (value === null)
        return undefined;
    if (/^\s*\d+\s*$/.test(value))
        return Number(value);
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
/** The error's message, with its cause's code or message when fetch wrapped one (Node: "fetch failed" over it). */
function reason(error) {
    if (!(error instanceof Error))
        return String(error);
    const cause = isObject(error.cause) ? (text(error.cause.code) ?? text(error.cause.message)) : undefined;
    return cause === undefined ? error.message : `${error.message} (${cause})`;
}
/** A short, one-line start of a body that is not the gateway's JSON, to tell a proxy's page from a wrong URL. */
const bodyStart = (body) => JSON.stringify(body.replace(/\s+/g, " ").trim().slice(0, 120));
export function createGatewayClient(options) {
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
    const fetchFn = options.fetch ?? ((url, init) => runtime.fetch(url, init));
    const root = baseUrl.replace(/\/+$/, "");
    /** One request and its whole body under one timer: a body that stalls times out too. */
    async function exchange(url, init) {
        const controller = runtime.AbortController ? new runtime.AbortController() : undefined;
        // The platform's own signal; typed `never` here, where no platform types are loaded.
        if (controller)
            init.signal = controller.signal;
        let timer;
        const expired = new Promise((_, reject) => {
            timer = runtime.setTimeout(() => {
                // Rejected before aborting, so the timeout wins the race over fetch's AbortError.
                reject(new GatewayClientError({
                    status: 0,
                    code: "TIMEOUT",
                    message: `The gateway did not answer within ${timeoutMs} ms.`,
                }));
                controller?.abort();
            }, timeoutMs);
        });
        const work = (async () => {
            const response = await fetchFn(url, init);
            return { status: response.status, headers: response.headers, body: await response.text() };
        })();
        try {
            return await Promise.race([work, expired]);
        }
        catch (error) {
            if (error instanceof GatewayClientError)
                throw error;
            throw new GatewayClientError({
                status: 0,
                code: "NETWORK_ERROR",
                message: `The gateway could not be reached: ${reason(error)}.`,
                cause: error,
            });
        }
        finally {
            runtime.clearTimeout(timer);
        }
    }
    /** The ids every answer carries, success or not. */
    const idsOf = (headers) => ({
        requestId: headers.get("X-Request-Id") ?? undefined,
        sparkpayRequestId: headers.get("X-SparkPay-Request-Id") ?? undefined,
    });
    /** An answer that is not the gateway's JSON: a proxy's error page, say, or a baseUrl that is not the gateway. */
    const invalid = ({ status, headers, body }, what) => new GatewayClientError({
        status,
        code: "INVALID_GATEWAY_RESPONSE",
        message: `The gateway answered HTTP ${status} ${what}; the body starts ${bodyStart(body)}.`,
        ...idsOf(headers),
        retryAfterSeconds: retryAfter(headers.get("Retry-After")),
    });
    function failure(answer) {
        const envelope = parseJson(answer.body);
        if (!isObject(envelope) || !["string", "number"].includes(typeof envelope.code) || !text(envelope.message))
            return invalid(answer, "without its error envelope");
        const ids = idsOf(answer.headers);
        return new GatewayClientError({
            status: answer.status,
            code: envelope.code,
            message: envelope.message,
            requestId: text(envelope.request_id) ?? ids.requestId,
            param: text(envelope.param),
            docUrl: text(envelope.doc_url),
            sparkpayRequestId: ids.sparkpayRequestId,
            retryAfterSeconds: retryAfter(answer.headers.get("Retry-After")),
            order: isObject(envelope.order) && text(envelope.order.pay_status) ? envelope.order : undefined,
            refusal: isObject(envelope.refusal) ? envelope.refusal : undefined,
        });
    }
    async function call(method, path, json, isClose = false) {
        const headers = { Authorization: `Bearer ${apiKey}`, Accept: "application/json" };
        const init = { method, headers };
        if (json !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(json);
        }
        const answer = await exchange(`${root}${path}`, init);
        if (answer.status < 200 || answer.status > 299)
            throw failure(answer);
        const body = parseJson(answer.body);
        if (!isObject(body))
            throw invalid(answer, "with a body that is not a JSON object");
        const lastResponse = { status: answer.status, ...idsOf(answer.headers) };
        if (path.endsWith("/cashier"))
            lastResponse.replayed = answer.headers.get("Idempotent-Replayed") === "true";
        if (isClose) {
            const confirmed = answer.headers.get("X-Close-Confirmed-By");
            lastResponse.confirmedBy = confirmed === "order-query" || confirmed === "close-and-query" ? confirmed : "close";
        }
        Object.defineProperty(body, "lastResponse", { value: lastResponse, enumerable: false, configurable: true });
        return body;
    }
    const closes = (order) => orderPath("/v1/closes", order);
    // async, so that a bad argument rejects like every other failure instead of throwing.
    return {
        // Only the two fields are sent: anything else on the caller's object stays with the caller.
        closeOrder: async ({ merchant_no, request_no }) => call("POST", "/v4/pay/orders/close", { request_no, merchant_no }, true),
        queryOrder: async (order) => call("GET", orderPath("/v4/pay/orders", order)),
        createOrder: async (request) => call("POST", "/v4/pay/cashier", request),
        createProOrder: async (request) => call("POST", "/v4/pro/pay/cashier", request),
        queryProOrder: async (order) => call("GET", orderPath("/v4/pro/pay/orders", order)),
        // No close_at: no body at all, which the gateway reads as "now".
        scheduleClose: async ({ close_at, reopen, ...order }) => {
            const body = { ...(close_at === undefined ? {} : { close_at }), ...(reopen === undefined ? {} : { reopen }) };
            return call("PUT", closes(order), Object.keys(body).length ? body : undefined);
        },
        getClose: async (order) => call("GET", closes(order)),
        listCloses: async (order) => call("GET", `${closes(order)}/jobs`),
        redeliverClose: async (order) => call("POST", `${closes(order)}/webhook`),
        cancelClose: async (order) => call("DELETE", closes(order)),
    };
}
