import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { nowSeconds } from "../clock";
import { CloseJobsUnavailableError } from "../closes/d1";
import type { AppEnv } from "../env";
import { methodNotAllowed } from "../errors";
import { rateLimit } from "../middleware/rate-limit";
import { notificationDigest, notificationInstanceId, recordNotification } from "../notifications/store";
import type { NotificationParams } from "../notifications/workflow";
import type { Services } from "../services";
import { NOTIFICATIONS_PATH } from "../settings/urls";
import { BodyTooLargeError, readCapped } from "../sparkpay/body";
import { MAX_NOTIFICATION_BYTES, type NotificationFailure } from "../sparkpay/notification";
import { OAEP_MGF1_HASHES } from "../sparkpay/oaep-decrypter";

/** Where SparkPay POSTs its payment notifications: the `notify_url` it is given is the gateway's public URL plus this. */
export const NOTIFICATIONS_ROUTE = NOTIFICATIONS_PATH;

/** What SparkPay requires for "received" (anything else is retried), and what every refusal answers. */
export const RECEIVED = "SUCCESS";
export const REFUSED = "FAIL";

const decoder = new TextDecoder();

/** The log line's hint for each refusal: what an operator can check (never what the notification held). */
function hint(failure: NotificationFailure | "size", mgf1: string): string {
  switch (failure) {
    case "size":
      return `the body is over ${MAX_NOTIFICATION_BYTES} bytes`;
    case "shape":
      return "not SparkPay's notification shape ({head: {aes_key, sign?}, body, sign?}, Base64)";
    case "aes_key": {
      const other = OAEP_MGF1_HASHES.find((hash) => hash !== mgf1);
      return (
        `no merchant key decrypted head.aes_key with SPARKPAY_NOTIFY_OAEP_MGF1=${mgf1}; if SparkPay's genuine ` +
        `notifications all fail so, set SPARKPAY_NOTIFY_OAEP_MGF1=${other} (see docs/notifications.md)`
      );
    }
    case "body":
      return "the body did not decrypt with the key in head.aes_key";
    case "signature":
      return "sign is not a platform key's signature of the decrypted body";
    case "content":
      return "the signed body names no order (merchant_no, request_no)";
  }
}

function refuse(c: Context<AppEnv>, services: Services, failure: NotificationFailure | "size") {
  const mgf1 = services.settings().SPARKPAY_NOTIFY_OAEP_MGF1;
  services.logger.warn({
    msg: "notification refused",
    request_id: c.get("requestId"),
    stage: failure,
    hint: hint(failure, mgf1),
  });
  return c.text(REFUSED, 400);
}

/** SparkPay's retry is worth it: nothing was recorded. */
function notYet(c: Context<AppEnv>, services: Services, error: unknown) {
  services.logger.error({
    msg: "notification not recorded",
    request_id: c.get("requestId"),
    error: error instanceof CloseJobsUnavailableError ? error.detail : error instanceof Error ? error.name : "unknown",
  });
  return c.text(REFUSED, 503, { "Retry-After": "10" });
}

/** Starts the notification's instance; one that exists already (a retry or replay of it) is as good. */
async function start(workflow: Workflow, id: string, params: NotificationParams): Promise<void> {
  try {
    await workflow.create({ id, params });
  } catch (error) {
    const existing = await workflow.get(id).catch(() => undefined);
    if (!existing) throw error;
  }
}

/**
 * POST /v1/sparkpay/notifications, without a caller key (SparkPay calls it), limited per source address. A
 * notification is opened (src/sparkpay/notification.ts), recorded in D1 and handed to its Workflow, which confirms it
 * with Payment Order Query before anything reaches the merchant; then SparkPay hears `SUCCESS`. Whatever failed in
 * opening it, the answer is the same 400 `FAIL`, and the log line names the stage, never the content.
 */
export const notifications = new Hono<AppEnv>()
  .post(
    NOTIFICATIONS_ROUTE,
    rateLimit({
      binding: "NOTIFY_RATE_LIMITER",
      key: (c) => `notify:${c.req.header("CF-Connecting-IP") ?? "unknown"}`,
      subject: "source address",
    }),
    async (c) => {
      const services = c.get("services");
      const opener = await services.notificationOpener(); // a ConfigError: 503, SparkPay retries
      // A declared length past the cap is refused unread (a body read part-way and dropped upsets the connection).
      if (Number(c.req.header("Content-Length") ?? 0) > MAX_NOTIFICATION_BYTES) return refuse(c, services, "size");
      let raw: Uint8Array;
      try {
        raw = await readCapped(c.req.raw.body, MAX_NOTIFICATION_BYTES);
      } catch (error) {
        // Past the cap, or a body that broke off: nothing was read that could be opened.
        return refuse(c, services, error instanceof BodyTooLargeError ? "size" : "shape");
      }
      const opened = await opener.open(decoder.decode(raw));
      if (!opened.ok) return refuse(c, services, opened.failure);
      const { text, merchant_no, request_no } = opened.notification;
      const digest = await notificationDigest(text);
      const instanceId = notificationInstanceId(digest);
      try {
        const db = services.closeJobsDb();
        await recordNotification(db, { digest, merchant_no, request_no, instance_id: instanceId }, nowSeconds());
        await start(services.notifyWorkflow(), instanceId, { digest, merchant_no, request_no });
      } catch (error) {
        return notYet(c, services, error);
      }
      services.logger.info({ msg: "notification received", request_id: c.get("requestId"), instance_id: instanceId });
      return c.text(RECEIVED, 200);
    },
  )
  .all(NOTIFICATIONS_ROUTE, (c) => {
    throw methodNotAllowed(c.req.method, ["POST"]);
  });
