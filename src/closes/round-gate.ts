import { DurableObject } from "cloudflare:workers";

/**
 * Bursts within SparkPay's limit: one Durable Object (one name, so one place in the world) hands out slots for
 * durable close rounds, at most `cap` at once. A thousand jobs due in the same second then reach SparkPay `cap` at a
 * time, in the order they asked, and leave the rest of SparkPay's call limit (40011) to the synchronous route, which
 * takes no slot. Workflows' own per-workflow concurrency limit would do this, but needs a newer wrangler than ours.
 *
 * A slot is a lease: it is given back when the round ends, or lapses after `leaseMs` should its holder die mid-round.
 * The leases live in memory: the object stays in memory while rounds ask for slots, and only one idle past every
 * lease could be evicted, so a fresh one starts empty losing nothing but lapsed leases.
 */
interface Waiter {
  cap: number;
  leaseMs: number;
  grant: (lease: string) => void;
}

export class CloseRoundGate extends DurableObject {
  /** lease id -> when it lapses (ms) */
  private readonly leases = new Map<string, number>();
  /** Rounds waiting for a slot, first come first served. */
  private readonly waiting: Waiter[] = [];
  /** Set while a look at the earliest lapse is pending. */
  private lapseTimer: ReturnType<typeof setTimeout> | undefined;

  /** A slot within `waitMs`, or null (the caller asks again or waits): the lease to hand back to leave(). */
  async enter(cap: number, leaseMs: number, waitMs: number): Promise<string | null> {
    this.lapse();
    if (this.waiting.length === 0 && this.leases.size < cap) return this.lease(leaseMs);
    return new Promise((resolve) => {
      const waiter: Waiter = { cap, leaseMs, grant: resolve };
      this.waiting.push(waiter);
      setTimeout(() => {
        const at = this.waiting.indexOf(waiter);
        if (at < 0) return; // granted meanwhile
        this.waiting.splice(at, 1);
        resolve(null);
      }, waitMs);
      // A lease that lapses frees a slot without a leave(): look again when the earliest one does.
      this.wakeAtNextLapse();
    });
  }

  async leave(lease: string): Promise<void> {
    this.leases.delete(lease);
    this.lapse();
    this.grantWaiting();
  }

  /** How many slots are taken and how many rounds wait (for tests and operators). */
  async load(): Promise<{ taken: number; waiting: number }> {
    this.lapse();
    return { taken: this.leases.size, waiting: this.waiting.length };
  }

  private lease(leaseMs: number): string {
    const id = crypto.randomUUID();
    this.leases.set(id, Date.now() + leaseMs);
    return id;
  }

  private lapse(): void {
    const now = Date.now();
    for (const [id, until] of this.leases) if (until <= now) this.leases.delete(id);
  }

  private grantWaiting(): void {
    for (let next = this.waiting[0]; next && this.leases.size < next.cap; next = this.waiting[0]) {
      this.waiting.shift();
      next.grant(this.lease(next.leaseMs));
    }
  }

  private wakeAtNextLapse(): void {
    if (this.lapseTimer !== undefined || this.leases.size === 0) return;
    const earliest = Math.min(...this.leases.values());
    this.lapseTimer = setTimeout(
      () => {
        this.lapseTimer = undefined;
        this.lapse();
        this.grantWaiting();
        if (this.waiting.length > 0) this.wakeAtNextLapse();
      },
      Math.max(0, earliest - Date.now()),
    );
  }
}
