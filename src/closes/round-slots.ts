import type { CloseRoundGate } from "./round-gate";

/**
 * A close round's slot from the gate (./round-gate.ts), as the Workflow takes it: asked for in calls of at most
 * SLOT_ASK_MS, for at most SLOT_WAIT_MS in all (then the round is "busy": the Workflow pauses and asks again in a
 * step of its own, so one step never outlasts its timeout). CLOSE_ROUNDS_AT_ONCE=0 turns the gate off.
 */

/** A slot lapses this long after it was given, should its round never hand it back (longer than any round). */
export const SLOT_LEASE_MS = 120_000;
/** One call to the gate waits at most this for a slot. */
export const SLOT_ASK_MS = 20_000;
/** A round waits at most this for a slot in one step (its step's timeout is 5 minutes). */
export const SLOT_WAIT_MS = 180_000;
/** The pause between two busy tries of a round. */
export const SLOT_BUSY_PAUSE_S = 30;
/** The gate's one name: one object, one count, worldwide. */
export const GATE_NAME = "close-rounds";

export interface RoundSlot {
  leave(): Promise<void>;
}

const NO_GATE: RoundSlot = { leave: async () => {} };

export class RoundSlots {
  constructor(
    private readonly gate: DurableObjectNamespace<CloseRoundGate> | undefined,
    /** CLOSE_ROUNDS_AT_ONCE; 0: no gate. */
    readonly cap: number,
    /** Another name, another count: for tests, which must not share the Workflows' gate. */
    private readonly name = GATE_NAME,
  ) {}

  /** A slot, or undefined when none came within SLOT_WAIT_MS. */
  async take(now: () => number = Date.now): Promise<RoundSlot | undefined> {
    if (this.cap === 0 || !this.gate) return NO_GATE;
    const gate = this.gate.get(this.gate.idFromName(this.name));
    const until = now() + SLOT_WAIT_MS;
    for (let left = SLOT_WAIT_MS; left > 0; left = until - now()) {
      const lease = await gate.enter(this.cap, SLOT_LEASE_MS, Math.min(SLOT_ASK_MS, left));
      if (lease !== null) {
        return {
          leave: async () => {
            try {
              await gate.leave(lease);
            } catch {
              // The gate out of reach: the lease lapses by itself after SLOT_LEASE_MS.
            }
          },
        };
      }
    }
    return undefined;
  }
}
