/**
 * Builds the OpenAPI 3.1 document from the same valibot schemas that validate requests and
 * responses, and writes it to src/openapi.json, which GET /openapi.json serves. Generated at build
 * time (like worker-configuration.d.ts) so the converter stays out of the Worker bundle; a test
 * fails when the committed file differs from what this script builds.
 *
 * Not hono-openapi's describeRoute(): its declarations would live in the routes, so in the Worker bundle. Measured
 * with `wrangler deploy --dry-run` (same document, 0 differences): +47.4 KiB gzip as installed (its schema
 * converters' vendor loaders bring zod and @valibot/to-json-schema along), +1.2 KiB with those stubbed out.
 * Instead the routes keep the document honest by test: test/node/openapi.test.ts (documented operations are
 * exactly the app's routes) and test/worker/openapi-truth.test.ts (each route's answers to its guards' probes
 * are exactly what its document lists).
 *
 *   npm run openapi            regenerate src/openapi.json
 *   npm run openapi -- --check exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import { CONFIRMED_BY, HISTORY_EVENTS, JOB_STATUSES, WEBHOOK_STATUSES } from "../src/closes/job";
import { MAX_CLOSE_AHEAD_S, MAX_CLOSE_AT_PAST_S } from "../src/closes/scheduler";
import { HISTORY_SHOWN, JOBS_LISTED, MAX_RESCHEDULES } from "../src/closes/store";
import { GATEWAY_ERROR_DESCRIPTIONS } from "../src/error-descriptions";
import { ERROR_DOCS_PATH } from "../src/error-response";
import { GATEWAY_ERRORS, type GatewayErrorCode } from "../src/errors";
import { CREATE_MAX_BODY_BYTES } from "../src/orders/create-body";
import { CreateBody, CreateProBody, MIN_CREATE_CLOSE_AHEAD_S, REPLAYED_HEADER } from "../src/routes/cashier";
import { CLOSE_JOBS_ROUTE, CLOSE_WEBHOOK_ROUTE, CLOSES_ROUTE, ScheduleCloseRequestSchema } from "../src/routes/closes";
import { CONFIRMED_HEADER, QUERY_ORDER_ROUTE, QUERY_PRO_ORDER_ROUTE } from "../src/routes/orders";
import { SPARKPAY_REQUEST_ID } from "../src/routes/sparkpay-call";
import { ErrorEnvelopeSchema, HealthReportSchema } from "../src/schemas";
import { NOTIFICATIONS_PATH } from "../src/settings/urls";
import { CLOSE_ORDER_PATH, CREATE_ORDER_PATH, CREATE_PRO_ORDER_PATH } from "../src/sparkpay/constants";
import { MAX_NOTIFICATION_BYTES } from "../src/sparkpay/notification";
import { CreateOrderResponseSchema, QueryProOrderResponseSchema } from "../src/sparkpay/order-schemas";
import { CloseOrderRequestSchema, CloseOrderResponseSchema, QueryOrderResponseSchema } from "../src/sparkpay/schemas";
import { GATEWAY_VERSION } from "../src/version";
import { EXIT, isMain, readOptions, runCli } from "./lib/cli";

export const OPENAPI_FILE = fileURLToPath(new URL("../src/openapi.json", import.meta.url));

type PropertySchema = { description?: string; anyOf?: Array<Record<string, unknown>>; [keyword: string]: unknown };

/**
 * A union of bare types (`string | number`) or of constants (`0 | "0"`) as one schema (`type: [...]`, `enum: [...]`)
 * instead of `anyOf`: reference pages (Scalar) print a described `anyOf` property's description again under each
 * alternative, so `code` read twice.
 */
function flattenUnion({ anyOf, ...rest }: PropertySchema): PropertySchema {
  const only = (key: string) => anyOf?.every((member) => Object.keys(member).length === 1 && key in member);
  if (anyOf && only("type")) return { type: anyOf.map((member) => member.type), ...rest };
  if (anyOf && only("const")) return { enum: anyOf.map((member) => member.const), ...rest };
  return anyOf ? { anyOf, ...rest } : rest;
}

function jsonSchema(schema: GenericSchema, descriptions: Record<string, string> = {}) {
  const { $schema: _dialect, ...converted } = toJsonSchema(schema, {
    target: "draft-2020-12",
    errorMode: "ignore",
  }) as { $schema?: string; properties: Record<string, PropertySchema> };
  for (const [property, description] of Object.entries(descriptions))
    converted.properties[property] = { ...flattenUnion(converted.properties[property]), description };
  return converted;
}

/** A converted schema whose `order` (a valibot custom check, which JSON Schema cannot express) is ORDER_STATE_SCHEMA. */
function withOrderState(converted: ReturnType<typeof jsonSchema>, description: string) {
  converted.properties.order = { ...ORDER_STATE_SCHEMA, description } as PropertySchema;
  return converted;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorExample = (code: string | number, message: string) => ({
  value: { code, message, request_id: "5c9b1238-6c48-49c8-bbae-a0364b627565" },
});
const REQUEST_ID_HEADER_SPEC = {
  description:
    "The gateway's own id of this request (a UUID), also `request_id` in error answers and sent to SparkPay. " +
    "Quote it when reporting a problem.",
  schema: { type: "string" },
};
const SPARKPAY_REQUEST_ID_HEADER_SPEC = {
  description:
    "SparkPay's own request id, on answers that reached SparkPay when its answer carried one (1-128 of " +
    "A-Z a-z 0-9 . _ : -; others are not passed on): what SparkPay's support asks for.",
  schema: { type: "string" },
};

/** A gateway code's example, written once under components.examples (its message is the code's description). */
const gatewayExample = (code: GatewayErrorCode) => ({ $ref: `#/components/examples/${code}` });

// Each header described once, under components.headers, and referred to: the served document is part of the bundle.
const REQUEST_ID_HEADER = { $ref: "#/components/headers/RequestId" };
const SPARKPAY_REQUEST_ID_HEADER = { $ref: "#/components/headers/SparkPayRequestId" };

/** Adds X-SparkPay-Request-Id to every response of a route that calls SparkPay. */
function withSparkPayRequestId(responses: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(responses).map(([status, response]) => {
      const { headers = {}, ...rest } = response as { headers?: Record<string, unknown> };
      return [status, { ...rest, headers: { ...headers, [SPARKPAY_REQUEST_ID]: SPARKPAY_REQUEST_ID_HEADER } }];
    }),
  );
}

/** Error responses by status, with one example per gateway code (and SparkPay's, where they pass through). */
function errorResponses(codes: GatewayErrorCode[], sparkpay: Record<number, Record<string, { value: unknown }>> = {}) {
  const byStatus = new Map<number, GatewayErrorCode[]>();
  for (const code of codes) byStatus.set(GATEWAY_ERRORS[code], [...(byStatus.get(GATEWAY_ERRORS[code]) ?? []), code]);
  for (const status of Object.keys(sparkpay).map(Number)) if (!byStatus.has(status)) byStatus.set(status, []);
  const responses: Record<string, unknown> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Record<string, unknown> = { "X-Request-Id": REQUEST_ID_HEADER };
    if (status === 429 || group.includes("CLOSE_JOBS_UNAVAILABLE") || group.includes("CREATION_IN_PROGRESS"))
      headers["Retry-After"] = { description: "Seconds to wait, when known.", schema: { type: "string" } };
    if (status === 401) headers["WWW-Authenticate"] = { schema: { type: "string" } };
    responses[String(status)] = {
      // Each code's meaning is in its example's message; the description only lists them, which
      // keeps the served document (part of the Worker bundle) small.
      description: [
        group.length ? `Gateway codes: ${group.map((code) => `\`${code}\``).join(", ")}.` : "",
        ...Object.keys(sparkpay[status] ?? {}).map((name) => `${name}.`),
      ]
        .filter(Boolean)
        .join(" "),
      headers,
      content: {
        "application/json": {
          schema: ref("ErrorEnvelope"),
          examples: {
            ...Object.fromEntries(group.map((code) => [code, gatewayExample(code)])),
            ...sparkpay[status],
          },
        },
      },
    };
  }
  return responses;
}

const unixSeconds = { type: "integer", minimum: 0, description: "Unix seconds." };
/** The order as a verified Payment Order Query showed it (src/sparkpay/schemas.ts's OrderState). */
const ORDER_STATE_SCHEMA = {
  type: "object",
  required: ["pay_status"],
  properties: { pay_status: { type: "string" } },
  additionalProperties: true,
};
const errorCode = { oneOf: [{ type: "integer" }, { type: "string" }] };

/** The job as GET answers it (src/closes/job.ts's CloseJob). */
function closeJobSchema() {
  return {
    type: "object",
    required: [
      "merchant_no",
      "request_no",
      "status",
      "close_at",
      "created_at",
      "updated_at",
      "attempts",
      "reschedules",
      "history",
      "history_total",
    ],
    properties: {
      merchant_no: { type: "string" },
      request_no: { type: "string" },
      status: { type: "string", enum: [...JOB_STATUSES] },
      close_at: unixSeconds,
      created_at: unixSeconds,
      updated_at: unixSeconds,
      attempts: { type: "integer", minimum: 0, description: "Close rounds made so far." },
      closed_at: unixSeconds,
      confirmed_by: { type: "string", enum: [...CONFIRMED_BY] },
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: errorCode, message: { type: "string" } },
        description:
          "Why a `failed` job failed (SparkPay's code and message, or a gateway code), or why a `not_closable` " +
          "one is not closed (`ORDER_NOT_CLOSABLE`).",
      },
      order: {
        ...ORDER_STATE_SCHEMA,
        description:
          "The order as the job's last verified Payment Order Query showed it: SparkPay's data verbatim, " +
          "`pay_status` whatever its value.",
      },
      webhook: {
        type: "object",
        required: ["event_id", "type", "status", "attempts", "at"],
        properties: {
          event_id: { type: "string" },
          type: { type: "string" },
          status: { type: "string", enum: [...WEBHOOK_STATUSES] },
          attempts: { type: "integer", minimum: 0 },
          at: unixSeconds,
          last_error: { type: "string" },
        },
        description:
          "The delivery of the job's latest event to CLOSE_WEBHOOK_URL: `pending` (tries left), `delivered`, " +
          "`failed` (every try refused; POST …/webhook sends it again); absent while webhooks are off.",
      },
      late_payment_at: {
        ...unixSeconds,
        description: "When the re-check after `closed` found the order no longer CLOSED (paid after the close).",
      },
      reschedules: {
        type: "integer",
        minimum: 0,
        maximum: MAX_RESCHEDULES,
        description: `How often the job was rescheduled; at most ${MAX_RESCHEDULES}, then a PUT with a new close_at is 409.`,
      },
      history_total: {
        type: "integer",
        minimum: 1,
        description: `How many history entries the job has; \`history\` shows the latest ${HISTORY_SHOWN}.`,
      },
      history: {
        type: "array",
        items: {
          type: "object",
          required: ["at", "status", "by"],
          properties: {
            at: unixSeconds,
            status: { type: "string", enum: [...JOB_STATUSES] },
            by: { type: "string", description: "`caller:<caller id>` or `gateway`." },
            code: errorCode,
            pay_status: { type: "string", description: "The pay_status a verified query showed, when one decided." },
            close_at: {
              ...unixSeconds,
              description: "On the job's creation and each reschedule: its close_at from then on.",
            },
            previous_close_at: { ...unixSeconds, description: "On a reschedule: the close_at it replaced." },
            event: {
              type: "string",
              enum: [...HISTORY_EVENTS],
              description:
                "Not a change of status: `late_payment`, the re-check found a payment after the close; `repaired`, " +
                "the job's Workflow instance had died or never run, and the gateway gave it a new one (same status).",
            },
          },
        },
      },
    },
  };
}

export function buildOpenApiDocument() {
  const routeLevel: GatewayErrorCode[] = ["NOT_FOUND", "METHOD_NOT_ALLOWED", "INTERNAL_ERROR"];
  /** What only a creation answers. */
  const creationOnly: GatewayErrorCode[] = [
    "REQUEST_NO_REUSED",
    "CREATION_IN_PROGRESS",
    "ORDER_CREATED_ANSWER_LOST",
    "ORDER_NOT_CREATED",
    "ORDER_CREATION_UNKNOWN",
  ];
  const closeCodes = (Object.keys(GATEWAY_ERRORS) as GatewayErrorCode[]).filter(
    (code) =>
      !routeLevel.includes(code) &&
      !creationOnly.includes(code) &&
      code !== "CLOSE_CONFLICT" &&
      code !== "CLOSE_JOBS_UNAVAILABLE",
  );
  /**
   * What a creation answers: the caller's side, the record's, and of SparkPay's failures only its call limit (every
   * other one ends in what the query showed: one of the three ORDER_* codes).
   */
  const creationCodes: GatewayErrorCode[] = [
    ...closeCodes.filter((code) => !code.startsWith("UPSTREAM_") && code !== "ORDER_NOT_CLOSABLE"),
    ...creationOnly,
    "CLOSE_JOBS_UNAVAILABLE",
    "UPSTREAM_RATE_LIMITED",
  ];
  const bodyCodes: GatewayErrorCode[] = ["INVALID_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];
  /** A query's answers, standard or Pro: SparkPay's verified envelope, or the close's errors less the body's. */
  const queryResponses = (description: string, schema: string) =>
    withSparkPayRequestId({
      "200": {
        description,
        headers: { "X-Request-Id": REQUEST_ID_HEADER },
        content: { "application/json": { schema: ref(schema) } },
      },
      ...errorResponses(
        closeCodes.filter((code) => ![...bodyCodes, "ORDER_NOT_CLOSABLE"].includes(code)),
        {
          400: {
            "SparkPay refused the query: its HTTP status, code and message pass through": errorExample(
              40009,
              "order does not exist",
            ),
          },
        },
      ),
    });
  /** What the /v1/closes routes can answer: the caller's side and the configuration, never SparkPay's. */
  const jobCodes = (withBody: boolean, ...more: GatewayErrorCode[]): GatewayErrorCode[] => [
    ...(withBody ? bodyCodes : []),
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    ...more,
    "RATE_LIMITED",
    "GATEWAY_MISCONFIGURED",
  ];
  const orderParameters = ["merchant_no", "request_no"].map((name) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9_]+$", minLength: 1, maxLength: 64 },
  }));
  const jobResponse = (description: string) => ({
    description,
    headers: { "X-Request-Id": REQUEST_ID_HEADER },
    content: { "application/json": { schema: ref("CloseJob") } },
  });
  const htmlPage = () => ({
    "200": {
      description: "An HTML page.",
      headers: { "X-Request-Id": REQUEST_ID_HEADER },
      content: { "text/html": { schema: { type: "string" } } },
    },
  });
  const plainText = (description: string, text: string, retryAfter = false) => ({
    description,
    headers: {
      "X-Request-Id": REQUEST_ID_HEADER,
      ...(retryAfter ? { "Retry-After": { description: "Seconds to wait.", schema: { type: "string" } } } : {}),
    },
    content: { "text/plain": { schema: { type: "string", const: text } } },
  });
  const routeLevelResponses = errorResponses(routeLevel);
  return {
    openapi: "3.1.0",
    info: {
      title: "SparkPay edge gateway",
      version: GATEWAY_VERSION,
      description:
        "Closes SparkPay payment orders without callers holding the merchant's RSA private key. " +
        "Same path and body as SparkPay's own API; the gateway authenticates the caller, validates, signs, forwards, " +
        "verifies SparkPay's signed answer and validates it. " +
        "Every failure is one envelope `{code, message, request_id, param?, doc_url?}`: " +
        "`code` is SparkPay's own code when SparkPay refused the request, else an upper-case gateway code; " +
        "`param` names the one input at fault (a field or a header); `doc_url` is the code's entry in the " +
        `error reference at ${ERROR_DOCS_PATH} (codes and statuses are also in this document's \`x-error-codes\`).`,
    },
    servers: [{ url: "/" }],
    security: [],
    paths: {
      [CLOSE_ORDER_PATH]: {
        post: {
          operationId: "closeOrder",
          summary: "Close a payment order",
          description:
            "Signs and forwards the close to SparkPay, " +
            "retrying network errors, timeouts and 500/502/503/504 under one deadline. " +
            "When the answer is lost or SparkPay refuses (e.g. the order is already closed), " +
            "Payment Order Query settles it: " +
            "if the order is CLOSED the answer is 200 with `X-Close-Confirmed-By: order-query`; any other " +
            "`pay_status` (paid, expired, a value never seen) is 409 `ORDER_NOT_CLOSABLE` with the order in `order`. " +
            "With SPARKPAY_CONFIRM_CLOSES=always the query also follows every success (`close-and-query`). " +
            "Other methods on this path answer 405 `METHOD_NOT_ALLOWED`.",
          security: [{ callerKey: [] }],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: ref("CloseOrderRequest"),
                example: { request_no: "ORDER_20261125_0001", merchant_no: "M_SANDBOX_001" },
              },
            },
          },
          responses: withSparkPayRequestId({
            "200": {
              description:
                "SparkPay closed the order (its verified, validated envelope), " +
                "or Payment Order Query confirmed it CLOSED.",
              headers: {
                "X-Request-Id": REQUEST_ID_HEADER,
                [CONFIRMED_HEADER]: {
                  description:
                    "`order-query` when Payment Order Query confirmed the order CLOSED after the close's answer was " +
                    "lost or refused; `close-and-query` when the close succeeded and the query agreed " +
                    "(SPARKPAY_CONFIRM_CLOSES=always).",
                  schema: { type: "string", enum: ["order-query", "close-and-query"] },
                },
              },
              content: {
                "application/json": {
                  schema: ref("CloseOrderResponse"),
                  example: {
                    code: 0,
                    message: "success",
                    data: {
                      request_no: "ORDER_20261125_0001",
                      merchant_no: "M_SANDBOX_001",
                      merchant_order_no: "MO_20261125_0001",
                    },
                  },
                },
              },
            },
            ...errorResponses(closeCodes, {
              400: {
                "SparkPay refused the request: its HTTP status, code and message pass through unchanged": errorExample(
                  40008,
                  "merchant number does not exist",
                ),
              },
              429: {
                "SparkPay's call limit (40011), with SparkPay's code and message": errorExample(
                  40011,
                  "application call limit exceeded",
                ),
              },
            }),
            default: {
              description: Object.entries(routeLevelResponses)
                .map(([status, response]) => `${status}: ${(response as { description: string }).description}`)
                .join("\n\n"),
              content: {
                "application/json": {
                  schema: ref("ErrorEnvelope"),
                  examples: Object.fromEntries(routeLevel.map((code) => [code, gatewayExample(code)])),
                },
              },
            },
          }),
        },
      },
      [QUERY_ORDER_ROUTE.replace(/:(\w+)/g, "{$1}")]: {
        get: {
          operationId: "queryOrder",
          summary: "Payment Order Query",
          description:
            "Signs and forwards SparkPay's Payment Order Query (same path as SparkPay's), retried like the close " +
            "under one deadline, and passes SparkPay's verified, validated envelope through.",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: queryResponses(
            "SparkPay's answer: the order, with `pay_status` (`CLOSED` once closed) and more fields.",
            "QueryOrderResponse",
          ),
        },
      },
      ...Object.fromEntries(
        (
          [
            [CREATE_ORDER_PATH, "createOrder", "Create a payment order", "CreateOrderRequest", ""],
            [
              CREATE_PRO_ORDER_PATH,
              "createProOrder",
              "Create a Pro edition payment order",
              "CreateProOrderRequest",
              " (Pro edition: fiat pricing, crypto payment)",
            ],
          ] as const
        ).map(([path, operationId, summary, body, edition]) => [
          path,
          {
            post: {
              operationId,
              summary,
              description:
                `SparkPay's Payment Order Creation${edition}, signed by the gateway so no merchant service holds the ` +
                "key. SparkPay's known fields are checked by type; unknown fields are forwarded as sent, in the " +
                `caller's order (the body is at most ${CREATE_MAX_BODY_BYTES / 1024} KiB). \`notify_url\` is the ` +
                "gateway's own receiver (GATEWAY_PUBLIC_URL + /v1/sparkpay/notifications), set by the gateway; any " +
                "other value is 400 naming it, since only the gateway can decrypt SparkPay's notifications. " +
                "Idempotent by request_no: a repeat of the same body answers the first creation's answer with " +
                `\`${REPLAYED_HEADER}: true\` and sends nothing; another body for the same order is 409 ` +
                "`REQUEST_NO_REUSED`. The creation is sent once: when its answer is lost, Payment Order Query says " +
                "what happened (`ORDER_CREATED_ANSWER_LOST`, `ORDER_NOT_CREATED`, `ORDER_CREATION_UNKNOWN`). " +
                `\`close_at\` (the gateway's own, never forwarded; at least ${MIN_CREATE_CLOSE_AHEAD_S} s ahead) ` +
                "schedules the order's durable close before SparkPay is asked (cancelled when SparkPay did not " +
                "create the order); the answer carries it as `close_job`.",
              security: [{ callerKey: [] }],
              requestBody: {
                required: true,
                content: {
                  "application/json": {
                    schema: ref(body),
                    example: {
                      merchant_no: "M_SANDBOX_001",
                      request_no: "ORDER_20261204_0001",
                      total_amount: "25.00",
                      merchant_order_currency: "USDT",
                      merchant_order_desc: "Two tickets",
                      redirect_url: "https://shop.example.com/orders/0001",
                      close_at: 1796400000,
                    },
                  },
                },
              },
              responses: withSparkPayRequestId({
                "200": {
                  description:
                    "SparkPay created the order (its verified envelope, `data.cashier_url` the checkout link), or " +
                    `this is a repeat of that creation (\`${REPLAYED_HEADER}: true\`). \`close_job\` when close_at ` +
                    "asked for one (on a repeat: the job as it is now).",
                  headers: {
                    "X-Request-Id": REQUEST_ID_HEADER,
                    [REPLAYED_HEADER]: {
                      description: "`true` when the answer is the first creation's, from the gateway's record.",
                      schema: { type: "string", enum: ["true"] },
                    },
                  },
                  content: { "application/json": { schema: ref("CreateOrderResponse") } },
                },
                ...errorResponses(creationCodes, {
                  400: {
                    "SparkPay refused the creation: its HTTP status, code and message pass through unchanged":
                      errorExample(40008, "merchant number does not exist"),
                  },
                  429: {
                    "SparkPay's call limit (40011), with SparkPay's code and message": errorExample(
                      40011,
                      "application call limit exceeded",
                    ),
                  },
                }),
              }),
            },
          },
        ]),
      ),
      [QUERY_PRO_ORDER_ROUTE.replace(/:(\w+)/g, "{$1}")]: {
        get: {
          operationId: "queryProOrder",
          summary: "Pro edition Payment Order Query",
          description:
            "Signs and forwards the Pro edition's Payment Order Query, retried like the standard query, and passes " +
            "SparkPay's verified envelope through (its page names `request_no` and `pay_status`; the rest, such as " +
            "`merchant_customer_no` and the pricing fields, passes as sent).",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: queryResponses(
            "SparkPay's answer: the Pro order, with `pay_status` and more fields.",
            "QueryProOrderResponse",
          ),
        },
      },
      [CLOSES_ROUTE.replace(/:(\w+)/g, "{$1}")]: {
        put: {
          operationId: "scheduleClose",
          summary: "Schedule a durable close of the order",
          description:
            "Closes the order at `close_at` (absent, or at most 300 s past: now) with the same close-and-confirm as " +
            "POST /v4/pay/orders/close, retrying through SparkPay outages until CLOSE_GIVE_UP_AFTER_S has passed. " +
            "One job per order: 202 creates one (no job, the last one failed, or cancelled and `reopen` is true); " +
            "a cancelled job stays cancelled (409) without `reopen`; 200 answers the " +
            "existing job, rescheduled when it is scheduled and `close_at` differs; 409 when it is closing and a " +
            "future `close_at` is given. The job is `closed` only once a verified query shows CLOSED; " +
            "`not_closable` (with `order`) when it shows any other pay_status after SparkPay answered the close. " +
            "Webhooks: `close.closed`, `close.failed`, `close.not_closable`, and `close.late_payment` when the " +
            "re-check CLOSE_RECHECK_AFTER_S after `closed` finds the order no longer CLOSED. The body is optional.",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          requestBody: {
            required: false,
            content: {
              "application/json": { schema: ref("ScheduleCloseRequest"), example: { close_at: 1_795_000_000 } },
            },
          },
          responses: {
            "200": jobResponse("The order's job: unchanged, or rescheduled to the new `close_at`."),
            "202": jobResponse("A new job, `scheduled`."),
            ...errorResponses(jobCodes(true, "CLOSE_CONFLICT", "CLOSE_JOBS_UNAVAILABLE")),
          },
        },
        get: {
          operationId: "getClose",
          summary: "The order's close job, with its history",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: {
            "200": jobResponse("The order's current job."),
            ...errorResponses(jobCodes(false, "NOT_FOUND", "CLOSE_JOBS_UNAVAILABLE")),
          },
        },
        delete: {
          operationId: "cancelClose",
          summary: "Cancel the order's scheduled close",
          description: "`scheduled` becomes `cancelled`; `cancelled` stays so (200); any other status is 409.",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: {
            "200": jobResponse("The job, `cancelled`."),
            ...errorResponses(jobCodes(false, "NOT_FOUND", "CLOSE_CONFLICT", "CLOSE_JOBS_UNAVAILABLE")),
          },
        },
      },
      [CLOSE_WEBHOOK_ROUTE.replace(/:(\w+)/g, "{$1}")]: {
        post: {
          operationId: "redeliverClose",
          summary: "Send the job's latest webhook again",
          description:
            "Sends the job's latest event (close.closed, close.failed, close.not_closable or close.late_payment: the " +
            "same id) to CLOSE_WEBHOOK_URL now, once, and records the try: the answer is the job, whose `webhook` " +
            "says whether this try was delivered. 409 when the job has not ended or webhooks are off. Spends the " +
            "merchant's close budget.",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: {
            "200": jobResponse("The job, with `webhook` after this try."),
            ...errorResponses(jobCodes(false, "NOT_FOUND", "CLOSE_CONFLICT", "CLOSE_JOBS_UNAVAILABLE")),
          },
        },
      },
      [CLOSE_JOBS_ROUTE.replace(/:(\w+)/g, "{$1}")]: {
        get: {
          operationId: "listCloses",
          summary: "Every close job the order had",
          description:
            `The current job first, then the earlier ones a cancel or a failure ended, newest first (at most ${JOBS_LISTED}). ` +
            "Reads spend the merchant's reads budget, as GET of the job does.",
          security: [{ callerKey: [] }],
          parameters: orderParameters,
          responses: {
            "200": {
              description: "The order's jobs.",
              headers: { "X-Request-Id": REQUEST_ID_HEADER },
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    required: ["jobs"],
                    properties: { jobs: { type: "array", items: ref("CloseJob"), maxItems: JOBS_LISTED } },
                  },
                },
              },
            },
            ...errorResponses(jobCodes(false, "NOT_FOUND", "CLOSE_JOBS_UNAVAILABLE")),
          },
        },
      },
      [NOTIFICATIONS_PATH]: {
        post: {
          operationId: "receiveSparkPayNotification",
          "x-called-by": "SparkPay",
          summary: "SparkPay's payment notifications (the notify_url to give SparkPay)",
          description:
            "Called by SparkPay, not by merchants: no caller key, limited per source address, at most " +
            `${MAX_NOTIFICATION_BYTES} bytes. The gateway decrypts \`head.aes_key\` with the merchant key(s) (RSA-OAEP ` +
            "SHA-256, MGF1 per SPARKPAY_NOTIFY_OAEP_MGF1) and `body` with it (AES-256-CBC), verifies `sign` (in `head` " +
            "or at the top level) with the platform key(s), records it in D1 and answers `SUCCESS`. A Workflow then " +
            "confirms the order with a verified Payment Order Query and, for each new pay_status, sends one " +
            "`order.updated` webhook (data: the query's data, and the order's close job when it has one) to " +
            "CLOSE_WEBHOOK_URL, signed as the close webhooks are. Every notification that does not open gets the same " +
            "400 `FAIL`; 503 `FAIL` when it could not be recorded (SparkPay retries).",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["head", "body"],
                  properties: {
                    head: {
                      type: "object",
                      required: ["aes_key"],
                      properties: { aes_key: { type: "string" }, sign: { type: "string" } },
                    },
                    body: { type: "string", description: "Base64 of the AES-256-CBC ciphertext." },
                    sign: { type: "string", description: "Where head carries no sign." },
                  },
                },
              },
            },
          },
          responses: {
            "200": plainText("Recorded: SparkPay stops retrying.", "SUCCESS"),
            "400": plainText(
              "Not a notification this gateway can open (whatever failed: the answer is the same).",
              "FAIL",
            ),
            "503": plainText("Not recorded (D1 or the Workflow did not answer): SparkPay retries.", "FAIL", true),
            ...errorResponses(["RATE_LIMITED", "GATEWAY_MISCONFIGURED"]),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "Is the configuration usable?",
          description: "No authentication. Each check is `ok` or the problem in words; values are never shown.",
          responses: {
            "200": {
              description: "Ready.",
              headers: { "X-Request-Id": REQUEST_ID_HEADER },
              content: { "application/json": { schema: ref("HealthReport") } },
            },
            "503": {
              description: "Not ready: at least one check failed.",
              headers: { "X-Request-Id": REQUEST_ID_HEADER },
              content: { "application/json": { schema: ref("HealthReport") } },
            },
          },
        },
      },
      "/docs": {
        get: {
          operationId: "apiReference",
          summary: "This document as an API reference page",
          description: "No authentication. Rendered in the browser by Scalar; 404 while API_DOCS is off.",
          responses: htmlPage(),
        },
      },
      [ERROR_DOCS_PATH]: {
        get: {
          operationId: "errorReference",
          summary: "Every error code: its HTTP status and what it means (each code is an anchor)",
          description: "No authentication; the page `doc_url` points into. 404 while API_DOCS is off.",
          responses: htmlPage(),
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document.",
              headers: { "X-Request-Id": REQUEST_ID_HEADER },
              content: { "application/json": { schema: { type: "object" } } },
            },
          },
        },
      },
    },
    components: {
      headers: { RequestId: REQUEST_ID_HEADER_SPEC, SparkPayRequestId: SPARKPAY_REQUEST_ID_HEADER_SPEC },
      examples: {
        ...Object.fromEntries(
          (Object.keys(GATEWAY_ERRORS) as GatewayErrorCode[]).map((code) => [
            code,
            errorExample(code, GATEWAY_ERROR_DESCRIPTIONS[code]),
          ]),
        ),
        // What a caller acts on is in `order`: the verified query's data, as SparkPay sent it.
        ORDER_NOT_CLOSABLE: {
          value: {
            ...errorExample(
              "ORDER_NOT_CLOSABLE",
              "The order is SUCCESS, not closed. SparkPay refused the close (code 40012). Do not close it again: act " +
                "on its state in `order` (paid: fulfil it, or refund it).",
            ).value,
            order: {
              request_no: "ORDER_20261125_0001",
              merchant_no: "M_SANDBOX_001",
              merchant_order_no: "MO_20261125_0001",
              pay_status: "SUCCESS",
              pay_time: 1795000123,
              total_amount: "10.00",
              real_pay_amount: "10.00",
            },
            refusal: { http_status: 400, code: 40012, message: "order has been paid" },
          },
        },
      },
      securitySchemes: {
        callerKey: {
          type: "http",
          scheme: "bearer",
          description: "One of the keys in GATEWAY_API_KEYS (a key may be scoped to some merchant_no values).",
        },
      },
      schemas: {
        CloseOrderRequest: jsonSchema(CloseOrderRequestSchema, {
          request_no: "The merchant's payment request number (unique order identifier). Case-insensitive at SparkPay.",
          merchant_no: "The merchant customer number.",
        }),
        CloseOrderResponse: jsonSchema(CloseOrderResponseSchema, {
          code: '0 (SparkPay sends 0 or "0").',
          data: "The closed order.",
        }),
        ErrorEnvelope: withOrderState(
          jsonSchema(ErrorEnvelopeSchema, {
            code:
              "SparkPay's own code when SparkPay refused the request; " +
              `otherwise one of: ${Object.keys(GATEWAY_ERRORS).join(", ")}.`,
            message: "What went wrong, in words. Never contains secrets.",
            request_id: "Same as the X-Request-Id response header.",
            param:
              "The one input at fault, when there is one: `request_no`, `merchant_no`, `close_at`, or a header name.",
            doc_url: `The code's entry in the error reference (${ERROR_DOCS_PATH}); absent while API_DOCS is off.`,
            refusal:
              "With ORDER_NOT_CLOSABLE: SparkPay's refusal of the close (HTTP status, code, message), when it refused.",
          }),
          "The order as a verified Payment Order Query showed it (SparkPay's data verbatim, `pay_status` whatever its " +
            "value): always with ORDER_NOT_CLOSABLE, and on a failed close after which the query answered.",
        ),
        HealthReport: jsonSchema(HealthReportSchema),
        QueryOrderResponse: jsonSchema(QueryOrderResponseSchema, { data: "The order as SparkPay reports it." }),
        ScheduleCloseRequest: jsonSchema(ScheduleCloseRequestSchema, {
          reopen:
            "`true` to close an order whose close job was cancelled (a new job); without it, a PUT on a " +
            "cancelled job is 409 CLOSE_CONFLICT.",
          close_at:
            `When to close, Unix seconds; at most ${MAX_CLOSE_AHEAD_S} s ahead. Absent, or at most ` +
            `${MAX_CLOSE_AT_PAST_S} s in the past: now. Further in the past, or not a Unix time (a delay such as ` +
            "1800): 400 naming close_at.",
        }),
        CloseJob: closeJobSchema(),
        CreateOrderRequest: jsonSchema(CreateBody, {
          close_at:
            `The gateway's own (never sent to SparkPay): close the new order at this Unix time, at least ` +
            `${MIN_CREATE_CLOSE_AHEAD_S} s and at most ${MAX_CLOSE_AHEAD_S} s ahead.`,
          notify_url: "The gateway's own receiver or absent: the gateway sets it.",
        }),
        CreateProOrderRequest: jsonSchema(CreateProBody, {
          close_at: "As for CreateOrderRequest.",
          notify_url: "The gateway's own receiver or absent: the gateway sets it.",
        }),
        CreateOrderResponse: (() => {
          const converted = jsonSchema(CreateOrderResponseSchema, {
            code: '0 (SparkPay sends 0 or "0").',
            data: "SparkPay's data: `cashier_url`, the checkout link, and whatever else it sent.",
          });
          converted.properties.close_job = { ...ref("CloseJob"), description: "The order's close job (close_at)." };
          return converted;
        })(),
        QueryProOrderResponse: jsonSchema(QueryProOrderResponseSchema, {
          data: "The Pro order as SparkPay reports it.",
        }),
      },
    },
    // Every gateway code and its HTTP status, for /docs/errors (which shows each with its example's message).
    "x-error-codes": GATEWAY_ERRORS,
  };
}

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (isMain(import.meta.url)) {
  runCli("openapi", "Usage: npm run openapi [-- --check]", () => {
    const { check } = readOptions(process.argv.slice(2), { check: { type: "boolean", default: false } });
    const rendered = renderOpenApiDocument();
    if (check) {
      const current = readFileSync(OPENAPI_FILE, "utf8");
      if (current !== rendered) {
        console.error("src/openapi.json is out of date: run `npm run openapi`.");
        return EXIT.failure;
      }
      console.log("src/openapi.json is up to date.");
    } else {
      writeFileSync(OPENAPI_FILE, rendered);
      console.log("Wrote src/openapi.json.");
    }
    return EXIT.ok;
  });
}
