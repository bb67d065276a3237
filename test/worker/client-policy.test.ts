import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SparkPayClient, type SparkPayClientOptions } from "../../src/sparkpay/client";
import { SparkPayServerError, SparkPayTimeoutError } from "../../src/sparkpay/errors";
import { importPrivateKeys, importPublicKeys } from "../../src/sparkpay/key-import";
import { createSigner } from "../../src/sparkpay/signer";
import { createResponseValidator } from "../../src/sparkpay/validator";
import { createVerifier } from "../../src/sparkpay/verifier";
import { attempts, MERCHANT, sandboxCalls, uniqueId } from "./helpers";

// The client's policy end to end against the sandbox, with the clock, waiting and randomness
// injected: every request "costs" `requestMs` of fake time, and sleeps only move the fake clock.

interface Setup extends Partial<SparkPayClientOptions> {
  requestMs?: number;
  privateKeys?: string;
}

async function policyClient({ requestMs = 0, privateKeys = env.SPARKPAY_PRIVATE_KEY, ...options }: Setup = {}) {
  let clock = Date.now();
  const sleeps: number[] = [];
  const client = new SparkPayClient({
    appId: env.SPARKPAY_APP_ID,
    userAgent: "policy-test/1",
    signer: createSigner(await importPrivateKeys(privateKeys, "merchant key")),
    validator: createResponseValidator(
      createVerifier(await importPublicKeys(env.SPARKPAY_PLATFORM_PUBLIC_KEY, "platform key")),
    ),
    fetch: async (input, init) => {
      try {
        return await fetch(input, init);
      } finally {
        clock += requestMs;
      }
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0,
    ...options,
  });
  return { client, sleeps };
}

async function closeWith(client: SparkPayClient, requestNo: string) {
  const requestId = uniqueId("policy");
  const outcome = await client.closeOrder({ request_no: requestNo, merchant_no: MERCHANT }, { requestId }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { ...outcome, calls: await sandboxCalls(requestId) };
}

describe("retries under one deadline (fake clock)", () => {
  it.each([
    // deadline, cost of a request: attempts that fit, and whether the confirming query still fits
    [10_000, 400, 6, 1], // SPARKPAY_MAX_RETRIES (5) is the limit here, not the deadline
    [1_000, 400, 3, 0],
    [600, 400, 2, 0],
    [300, 400, 1, 0],
  ])("deadline %i ms, %i ms per request: %i closes, %i queries", async (deadlineMs, requestMs, closes, queries) => {
    const { client } = await policyClient({ deadlineMs, requestMs, maxRetries: 5 });
    const { error, calls } = await closeWith(client, uniqueId("FAULT_HTTP503"));
    expect(error).toBeInstanceOf(SparkPayServerError);
    expect((error as SparkPayServerError).attempts).toBe(closes);
    expect(attempts(calls)).toEqual({ closes, queries });
  });

  it("the first attempt gets only what is left of the deadline", async () => {
    const { client } = await policyClient({ deadlineMs: 400, requestMs: 400 });
    const { error, calls } = await closeWith(client, uniqueId("FAULT_SLOW3000"));
    expect(error).toBeInstanceOf(SparkPayTimeoutError);
    expect((error as SparkPayTimeoutError).message).toBe("SparkPay did not answer within 400 ms.");
    expect(attempts(calls)).toEqual({ closes: 1, queries: 0 });
  });

  it("backs off with full jitter between attempts: the waits follow random()", async () => {
    const { client, sleeps } = await policyClient({ random: () => 0.999_999 });
    await closeWith(client, uniqueId("FAULT_HTTP500"));
    expect(sleeps).toEqual([99, 199]);
  });

  it("no waiting at all when random() is 0, and no retry beyond SPARKPAY_MAX_RETRIES", async () => {
    const { client, sleeps } = await policyClient({ maxRetries: 1 });
    const { calls } = await closeWith(client, uniqueId("FAULT_RESET"));
    expect(sleeps).toEqual([0]);
    expect(attempts(calls)).toEqual({ closes: 2, queries: 1 });
  });
});

describe("next merchant key", () => {
  it("after 40000 re-signs with the next key in the same attempt, then keeps it", async () => {
    // The first key is one SparkPay does not know; the second is the uploaded one.
    const { client, sleeps } = await policyClient({
      privateKeys: env.TEST_KEYS.otherMerchantPkcs8 + env.TEST_KEYS.merchantPkcs8,
    });
    const first = await closeWith(client, uniqueId("KEY"));
    expect(first.result?.attempts).toBe(1);
    expect(first.calls.map((call) => call.signature_valid)).toEqual([false, true]);
    const second = await closeWith(client, uniqueId("KEY"));
    expect(second.calls.map((call) => call.signature_valid)).toEqual([true]);
    expect(sleeps).toEqual([]);
  });
});
