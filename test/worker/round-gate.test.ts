import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RoundSlots } from "../../src/closes/round-slots";

/** A gate of the test's own (another name: the Workflows' gate is never touched). */
function gateNamed() {
  const name = `test-${crypto.randomUUID()}`;
  return { name, stub: env.CLOSE_ROUND_GATE.get(env.CLOSE_ROUND_GATE.idFromName(name)) };
}

/** Whether `promise` has settled by the time everything queued before this call has run, plus a round trip. */
async function settled(promise: Promise<unknown>, probe: () => Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await probe(); // one more call to the same object: anything it had to answer first, it has answered
  return done;
}

describe("the round gate: bursts within SparkPay's limit", () => {
  it("gives at most CLOSE_ROUNDS_AT_ONCE slots at once; the next round gets the first one handed back", async () => {
    const { name, stub } = gateNamed();
    const slots = new RoundSlots(env.CLOSE_ROUND_GATE, 2, name);
    const [a, b] = await Promise.all([slots.take(), slots.take()]);
    expect(a && b).toBeTruthy();
    const third = slots.take();
    expect(await settled(third, () => stub.load())).toBe(false);
    expect(await stub.load()).toEqual({ taken: 2, waiting: 1 });
    await a?.leave();
    expect(await third).toBeTruthy();
    expect(await stub.load()).toEqual({ taken: 2, waiting: 0 });
  });

  it("serves waiting rounds in the order they asked", async () => {
    const { stub } = gateNamed();
    const first = await stub.enter(1, 60_000, 10_000);
    const order: number[] = [];
    const waiting = [1, 2, 3].map(async (n) => {
      const lease = await stub.enter(1, 60_000, 10_000);
      order.push(n);
      return lease;
    });
    // Each waiter is in the queue once load() answers (calls to one object are answered in order).
    await stub.load();
    let held = first;
    for (const promise of waiting) {
      await stub.leave(held as string);
      held = await promise;
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it("a slot never handed back lapses after its lease, and a waiting round gets it", async () => {
    const { stub } = gateNamed();
    expect(await stub.enter(1, 150, 10_000)).toEqual(expect.any(String));
    const next = stub.enter(1, 60_000, 10_000);
    expect(await settled(next, () => stub.load())).toBe(false);
    expect(await next).toEqual(expect.any(String));
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
