import * as v from "valibot";
import { OAEP_MGF1_HASHES } from "./sparkpay/oaep-decrypter";
import { isOrderState, type OrderState } from "./sparkpay/schemas";

/**
 * The gateway's own answers, as valibot schemas: the handlers build them, the tests check them, and
 * scripts/openapi.ts turns them (with the SparkPay schemas) into the OpenAPI document.
 */

export const ErrorEnvelopeSchema = v.object({
  code: v.union([v.string(), v.number()]),
  message: v.string(),
  request_id: v.string(),
  /** The one input at fault: a body or path field, or a header name. */
  param: v.optional(v.string()),
  /** The code's entry in the gateway's error reference (absent while API_DOCS is off). */
  doc_url: v.optional(v.string()),
  /**
   * The order as a verified Payment Order Query showed it, SparkPay's `data` verbatim (pay_status whatever its value),
   * whenever the gateway holds one: always with ORDER_NOT_CLOSABLE, and on a failed close after which the query answered.
   */
  order: v.optional(v.custom<OrderState>(isOrderState)),
  /** With ORDER_NOT_CLOSABLE: SparkPay's refusal of the close, when it refused (its HTTP status, code and message). */
  refusal: v.optional(
    v.object({ http_status: v.number(), code: v.union([v.string(), v.number()]), message: v.string() }),
  ),
});
export type ErrorEnvelope = v.InferOutput<typeof ErrorEnvelopeSchema>;

/** One setting's check: ok, unused (nothing needs it as set), warning (a fallback applies) or problem. */
export const CheckSchema = v.variant("status", [
  v.object({ status: v.literal("ok") }),
  v.object({ status: v.picklist(["unused", "warning", "problem"]), message: v.string() }),
]);

export const HealthReportSchema = v.object({
  status: v.picklist(["ready", "not_ready"]),
  version: v.string(),
  checks: v.record(v.string(), CheckSchema),
  /** How many merchant keys are configured, and which one (1-based) SparkPay last accepted (null: none yet). */
  merchant_keys: v.optional(v.object({ configured: v.number(), last_accepted: v.nullable(v.number()) })),
  /**
   * Whether SparkPay's notifications can be received (keys to decrypt and verify them, the limiter, D1 and the
   * Workflow), which MGF1 hash their OAEP is read with, and the notify_url to give SparkPay (null: GATEWAY_PUBLIC_URL
   * is unset). Never anything a notification held.
   */
  notifications: v.optional(
    v.object({
      receivable: v.boolean(),
      oaep_mgf1: v.picklist(OAEP_MGF1_HASHES),
      notify_url: v.nullable(v.string()),
    }),
  ),
});
export type HealthReport = v.InferOutput<typeof HealthReportSchema>;
