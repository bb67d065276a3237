/**
 * What opening one SparkPay notification costs, per SPARKPAY_NOTIFY_OAEP_MGF1 setting: the CPU of
 * NotificationOpener.open (src/sparkpay/notification.ts) for a genuine notification and for each way one fails, made
 * by the sandbox's notifier. Measured in this Node process: Web Crypto here follows the same W3C spec as workerd's,
 * and the MGF1-SHA-1 path is pure JavaScript on V8 in both. A failure must cost what a success costs (no oracle).
 */
import { createPublicKey } from "node:crypto";
import { createNotifier } from "../../sandbox/notifier.mjs";
import { privateKeysDer } from "../../src/sparkpay/key-formats";
import { importPublicKeys } from "../../src/sparkpay/key-import";
import { NotificationOpener } from "../../src/sparkpay/notification";
import { createOaepDecrypters, OAEP_MGF1_HASHES, type OaepMgf1Hash } from "../../src/sparkpay/oaep-decrypter";
import { createVerifier } from "../../src/sparkpay/verifier";
import { generateRsaKeyPair } from "../lib/keygen";

const ROUNDS = 40;
const CASES = [null, "tampered", "badsign", "wrong_key"] as const;

export interface NotificationCost {
  mgf1: OaepMgf1Hash;
  /** Per case (`genuine` or the sandbox's fault): mean CPU milliseconds per open, and what open answered. */
  cases: Array<{ name: string; cpuMs: number; answer: string }>;
}

export async function notificationCosts(): Promise<NotificationCost[]> {
  const merchant = generateRsaKeyPair();
  const platform = generateRsaKeyPair();
  const verifier = createVerifier(await importPublicKeys(platform.publicKeyPem, "platform"));
  const order = {
    merchant_no: "M_SANDBOX_001",
    request_no: "BENCH_NOTIFY_1",
    merchant_order_no: "MO_BENCH_NOTIFY_1",
    payment_order_no: "PO0123456789abcdef",
    pay_status: "SUCCESS",
    order_time: 1796365800,
    closed_time: null,
    pay_time: 1796365800,
    paid_after_close: false,
  };
  const results: NotificationCost[] = [];
  for (const mgf1 of OAEP_MGF1_HASHES) {
    const notifier = createNotifier({
      merchantPublicKey: createPublicKey(merchant.publicKeyPem),
      platformKey: platform.privateKey,
      appId: "bench",
      now: () => Date.now(),
    });
    Object.assign(notifier.settings, { url: "outbox", mgf1 });
    const decrypters = await createOaepDecrypters(privateKeysDer("merchant", merchant.privateKeyPem), mgf1);
    const opener = new NotificationOpener(decrypters, verifier);
    const cases: NotificationCost["cases"] = [];
    for (const fault of CASES) {
      // Each case's notifications, all made first: the sandbox's encryption is not what is measured.
      const bodies: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        notifier.notify(order, fault);
        for (const entry of notifier.pending()) {
          bodies.push(entry.body);
          notifier.answer(entry.id, { status: 200, text: "SUCCESS" });
        }
      }
      await opener.open(bodies[0] as string); // warm
      let answer = "";
      const before = process.cpuUsage();
      for (const body of bodies) {
        const opened = await opener.open(body);
        answer = opened.ok ? "opened" : `refused (${opened.failure})`;
      }
      const used = process.cpuUsage(before);
      cases.push({ name: fault ?? "genuine", cpuMs: (used.user + used.system) / 1000 / bodies.length, answer });
    }
    results.push({ mgf1, cases });
  }
  return results;
}

export function notificationReport(costs: NotificationCost[]): string {
  const lines = ["", "Opening one SparkPay notification (CPU ms, Node's V8 and Web Crypto, RSA-2048):", ""];
  lines.push(`  ${"SPARKPAY_NOTIFY_OAEP_MGF1".padEnd(26)}${CASES.map((c) => (c ?? "genuine").padStart(12)).join("")}`);
  for (const { mgf1, cases } of costs) {
    lines.push(`  ${mgf1.padEnd(26)}${cases.map((c) => c.cpuMs.toFixed(2).padStart(12)).join("")}`);
  }
  for (const { mgf1, cases } of costs) lines.push(`  ${mgf1}: ${cases.map((c) => `${c.name} ${c.answer}`).join("; ")}`);
  return lines.join("\n");
}
