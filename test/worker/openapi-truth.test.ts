import { describe, expect, it } from "vitest";
import { GATEWAY_ERRORS, type GatewayErrorCode } from "../../src/errors";
import document from "../../src/openapi.json";
import { CALLER_KEY, type CallOptions, callGateway, MERCHANT, uniqueId } from "./helpers";

/**
 * The document against the routes themselves: every documented operation is sent the requests that each guard
 * refuses (no key, a key for another merchant, bad input, a bad body, a limiter that says no, unusable caller keys,
 * SparkPay out of reach) and one it accepts. Whatever a route answers (status, gateway code, the headers a caller
 * reads) must be in its document; and a route documents a probe's code exactly when it answers that probe with it.
 * So a guard added to a route, or a code documented for a route that cannot answer it, fails here.
 */

interface DocumentedResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { examples?: Record<string, { $ref?: string; value?: { code: unknown } }> }>;
}
interface Operation {
  operationId: string;
  /** SparkPay's own route (its notify_url): no caller, no caller's body rules. */
  "x-called-by"?: "SparkPay";
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, DocumentedResponse>;
}

const schemas = document.components.schemas as Record<string, { properties?: Record<string, unknown> }>;
const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(
  ([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
);

/** Headers a caller is told to read; each one a response carries must be documented on it. */
const CALLER_HEADERS = [
  "X-Request-Id",
  "X-SparkPay-Request-Id",
  "X-Close-Confirmed-By",
  "Idempotent-Replayed",
  "Retry-After",
  "WWW-Authenticate",
];
const UPSTREAM_CODES = (Object.keys(GATEWAY_ERRORS) as GatewayErrorCode[]).filter((code) =>
  code.startsWith("UPSTREAM_"),
);

/** A value each input accepts, by name: a new input makes this test name it. */
const validInputs = () => ({
  merchant_no: MERCHANT,
  request_no: uniqueId("DOC"),
  close_at: Math.floor(Date.now() / 1000) + 3600,
  reopen: false,
  // A creation's fields (POST /v4/pay/cashier): each of SparkPay's known ones.
  merchant_order_time: 1796365800,
  total_amount: "1.00",
  merchant_order_currency: "USDT",
  merchant_order_timeout: 1800,
  merchant_order_desc: "doc probe",
  goods_info: "doc probe",
  merchant_order_no: "MO_DOC",
  merchant_application_user_id: "U_DOC",
  notify_url: `${PUBLIC_URL}/v1/sparkpay/notifications`,
  redirect_url: "https://shop.example.com/done",
  business_info: "",
  divide_detail: {},
  extension: "",
  receive_network: "ETH",
});
/** Where the gateway says it is (GATEWAY_PUBLIC_URL): creations need it for their notify_url. */
const PUBLIC_URL = "https://gateway.test";
/** A value each input refuses (the identifier rule; not an integer; not a boolean). */
const invalidInputs = { merchant_no: "M-1", request_no: "R-1", close_at: "soon", reopen: "yes" };

function inputsOf(operation: Operation, values: Record<string, unknown>) {
  const pick = (name: string) => {
    if (!(name in values)) throw new Error(`${operation.operationId}: no test value for input ${name}`);
    return values[name];
  };
  const bodySchema = operation.requestBody?.content["application/json"]?.schema.$ref?.split("/").pop();
  const fields = bodySchema ? Object.keys(schemas[bodySchema]?.properties ?? {}) : [];
  return {
    path: (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => String(pick(name))),
    body: bodySchema ? JSON.stringify(Object.fromEntries(fields.map((field) => [field, pick(field)]))) : undefined,
  };
}

interface Probe {
  /** The gateway code the probe is built to provoke, where there is one. */
  provokes?: GatewayErrorCode;
  /** Inputs against the rules instead of accepted ones. */
  invalid?: boolean;
  /** What the probe changes in an accepted request (a GET carries no body). */
  change?: (withBody: boolean) => CallOptions;
}

const refusingLimiter: RateLimit = { limit: async () => ({ success: false }) };
const SCOPED_KEY = "gw_doc_probe_scoped_0000000001";

const PROBES: Record<string, Probe> = {
  "accepted input": {},
  "no caller key": { provokes: "UNAUTHORIZED", change: () => ({ headers: { Authorization: "" } }) },
  "a key scoped to another merchant": {
    provokes: "FORBIDDEN",
    change: () => ({
      headers: { Authorization: `Bearer ${SCOPED_KEY}` },
      env: { GATEWAY_API_KEYS: `${CALLER_KEY},${SCOPED_KEY}:M_SANDBOX_OTHER` },
    }),
  },
  "input against the rules": { provokes: "INVALID_REQUEST", invalid: true },
  "a body that is not JSON": {
    provokes: "UNSUPPORTED_MEDIA_TYPE",
    change: (withBody) => ({ headers: { "Content-Type": "text/plain" }, body: withBody ? "close it" : undefined }),
  },
  "a body over the size limit": {
    provokes: "PAYLOAD_TOO_LARGE",
    // Over every route's limit (a creation's is 32 KiB).
    change: (withBody) => ({ body: withBody ? JSON.stringify({ pad: "x".repeat(33 * 1024) }) : undefined }),
  },
  "malformed JSON": {
    provokes: "INVALID_JSON",
    change: (withBody) => ({ body: withBody ? '{"request_no":' : undefined }),
  },
  "the caller's limiter says no": {
    provokes: "RATE_LIMITED",
    change: () => ({ env: { CALLER_RATE_LIMITER: refusingLimiter, NOTIFY_RATE_LIMITER: refusingLimiter } }),
  },
  "caller keys unusable": {
    provokes: "GATEWAY_MISCONFIGURED",
    change: () => ({ env: { GATEWAY_API_KEYS: "not a key" } }),
  },
  "SparkPay out of reach": {
    provokes: "UPSTREAM_UNREACHABLE",
    change: () => ({ env: { SPARKPAY_BASE_URL: "https://sparkpay.invalid" } }),
  },
};

function probeRequest(probe: Probe, path: string, method: string, operation: Operation): CallOptions {
  const { path: fill, body } = inputsOf(operation, { ...validInputs(), ...(probe.invalid ? invalidInputs : {}) });
  const request = { method: method.toUpperCase(), url: `https://gateway.test${fill(path)}`, body };
  const change = probe.change?.(method !== "get");
  return { ...request, ...change, env: { GATEWAY_PUBLIC_URL: PUBLIC_URL, ...change?.env } };
}

/** The documented response that covers a gateway code: its status's, or `default` when that lists the code. */
function responseFor(operation: Operation, code: GatewayErrorCode): DocumentedResponse | undefined {
  return [operation.responses[GATEWAY_ERRORS[code]], operation.responses.default].find(
    (response) => response?.content?.["application/json"]?.examples?.[code] !== undefined,
  );
}

/** Checks one answer against the operation's document; returns the gateway code it carried, if any. */
async function expectDocumented(label: string, operation: Operation, response: Response) {
  const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const body = mediaType === "application/json" ? ((await response.json()) as Record<string, unknown>) : {};
  const isEnvelope = "code" in body && "request_id" in body;
  let documented: DocumentedResponse | undefined;
  if (isEnvelope && typeof body.code === "string" && body.code in GATEWAY_ERRORS) {
    documented = responseFor(operation, body.code as GatewayErrorCode);
    expect(documented, `${label}: ${response.status} ${body.code} is documented`).toBeDefined();
  } else {
    documented = operation.responses[String(response.status)];
    expect(documented, `${label}: ${response.status} is documented`).toBeDefined();
    expect(Object.keys(documented?.content ?? {}), `${label}: ${mediaType} is documented`).toContain(mediaType);
    if (isEnvelope) {
      // SparkPay's own code, passed through: the status documents SparkPay's refusals.
      const examples = Object.values(documented?.content?.["application/json"]?.examples ?? {});
      expect(examples.some((example) => example.value && !(String(example.value.code) in GATEWAY_ERRORS))).toBe(true);
    }
  }
  for (const header of CALLER_HEADERS) {
    if (response.headers.has(header))
      expect(Object.keys(documented?.headers ?? {}), `${label}: ${header} is documented`).toContain(header);
  }
  return isEnvelope ? body.code : undefined;
}

describe("every documented operation answers only what its document says", () => {
  it.each(operations.map((entry) => [`${entry.method.toUpperCase()} ${entry.path}`, entry] as const))(
    "%s",
    async (_name, { path, method, operation }) => {
      const answered: Record<string, unknown> = {};
      for (const [name, probe] of Object.entries(PROBES)) {
        const { response } = await callGateway(probeRequest(probe, path, method, operation));
        const label = `${method.toUpperCase()} ${path}, ${name}`;
        answered[name] = await expectDocumented(label, operation, response);
        if (probe.provokes) {
          // Documented exactly when the route answers it: no guard undocumented, no documented code it cannot give.
          expect(answered[name] === probe.provokes, `${label}: answers ${probe.provokes}`).toBe(
            responseFor(operation, probe.provokes) !== undefined,
          );
        }
      }
      // The document's own claims agree with the probes: a caller key needed exactly when it is refused without one,
      // a JSON body declared exactly when a body is checked.
      expect(Boolean(operation.security?.length)).toBe(answered["no caller key"] === "UNAUTHORIZED");
      // (SparkPay's notifications are taken as they come: their body is documented, and checked by opening it.)
      const callerBody = Boolean(operation.requestBody) && operation["x-called-by"] !== "SparkPay";
      expect(callerBody).toBe(answered["a body that is not JSON"] === "UNSUPPORTED_MEDIA_TYPE");
      // A route that calls SparkPay can meet every upstream failure, and passes SparkPay's request id on any answer.
      // A creation is sent once and never answers "unreachable": when SparkPay cannot be reached, it cannot tell
      // whether the order was created, and its codes say what the query showed; of SparkPay's failures only the call
      // limit is answered as it came.
      const creates = answered["SparkPay out of reach"] === "ORDER_CREATION_UNKNOWN";
      const callsSparkPay = creates || answered["SparkPay out of reach"] === "UPSTREAM_UNREACHABLE";
      for (const code of UPSTREAM_CODES) {
        const meets = creates ? code === "UPSTREAM_RATE_LIMITED" : callsSparkPay;
        expect(responseFor(operation, code) !== undefined, code).toBe(meets);
      }
      for (const [status, response] of Object.entries(operation.responses))
        expect(Object.keys(response.headers ?? {}).includes("X-SparkPay-Request-Id"), status).toBe(callsSparkPay);
    },
  );

  it("covers the routes that matter (the test would pass vacuously on an empty document)", () => {
    expect(operations.map(({ operation }) => operation.operationId)).toEqual(
      expect.arrayContaining([
        "closeOrder",
        "queryOrder",
        "createOrder",
        "createProOrder",
        "queryProOrder",
        "scheduleClose",
        "getClose",
        "cancelClose",
        "health",
      ]),
    );
  });
});
