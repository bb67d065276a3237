import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RoundSlots } from "../../src/closes/round-slots";

/** A gate of the test's own (another name: the Workflows' gate is never touched). */
function gateNamed() {
  const name = `test-${crypto.randomUUID()}`;
  return { name, stub: env.CLOSE_ROUND_GATE.get(env.CLOSE_ROUND_GATE.idFromName(name)) };
}

/** Asks `check` until it holds (at most 200 times, a few ms apart). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("never held");
}

describe("the round gate: bursts within SparkPay's limit", () => {
  it("gives at most CLOSE_ROUNDS_AT_ONCE slots at once; the next round gets the first one handed back", async () => {
    const { name, stub } = gateNamed();
    const slots = new RoundSlots(env.CLOSE_ROUND_GATE, 2, name);
    const [a, b] = await Promise.all([slots.take(), slots.take()]);
    expect(a && b).toBeTruthy();
    let third: unknown = "pending";
    const taking = slots.take().then((slot) => {
      third = slot;
    });
    await until(async () => (await stub.load()).waiting === 1);
    expect(third).toBe("pending");
    expect(await stub.load()).toEqual({ taken: 2, waiting: 1 });
    await a?.leave();
    await taking;
    expect(third).toBeTruthy();
    expect(await stub.load()).toEqual({ taken: 2, waiting: 0 });
  });

  it("serves waiting rounds in the order they asked", async () => {
    const { stub } = gateNamed();
    const first = await stub.enter(1, 60_000, 10_000);
    const order: number[] = [];
    const waiting: Promise<string | null>[] = [];
    for (const n of [1, 2, 3]) {
      waiting.push(
        stub.enter(1, 60_000, 10_000).then((lease) => {
          order.push(n);
          return lease;
        }),
      );
      // The order they asked in is the order they reached the gate: each is queued before the next is sent.
      await until(async () => (await stub.load()).waiting === n);
    }
    let held = first;
    for (const promise of waiting) {
      await stub.leave(held as string);
      held = await promise;
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it("a slot never handed back lapses after its lease, and a waiting round gets it", async () => {
    const { stub } = gateNamed();
    expect(await stub.enter(1, 300, 10_000)).toEqual(expect.any(String));
    const next = stub.enter(1, 60_000, 10_000);
    // Nobody hands the slot back: the waiting round gets it when the lease lapses, well before its own wait ends.
    expect(await next).toEqual(expect.any(String));
    expect(await stub.load()).toEqual({ taken: 1, waiting: 0 });
  });

  it("answers null to a round that waited its whole wait, and forgets it", async () => {
    const { stub } = gateNamed();
    await stub.enter(1, 60_000, 10_000);
    expect(await stub.enter(1, 60_000, 50)).toBeNull();
    expect(await stub.load()).toEqual({ taken: 1, waiting: 0 });
  });

  it("CLOSE_ROUNDS_AT_ONCE=0: no gate, every round goes at once", async () => {
    const slots = new RoundSlots(undefined, 0);
    const taken = await Promise.all(Array.from({ length: 50 }, () => slots.take()));
    expect(taken.every(Boolean)).toBe(true);
  });
});
