import { RESPONSE_NONCE_CACHE_SIZE } from "./constants";

/**
 * The response nonces seen while their answers could still be accepted, so a replayed signed
 * answer is refused. Per isolate and bounded: entries leave once their answer's timestamp is out
 * of the window, and past `capacity` the oldest leave first.
 */
export class NonceCache {
  /** nonce -> the time (ms) after which its answer would be refused as stale anyway. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = RESPONSE_NONCE_CACHE_SIZE) {}

  /** Records `nonce`; false when it was already seen and has not expired. */
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    const known = this.seen.get(nonce);
    if (known !== undefined && known >= nowMs) return false;
    this.seen.delete(nonce);
    this.evict(nowMs);
    this.seen.set(nonce, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Drops expired entries from the oldest end, then the oldest while full. */
  private evict(nowMs: number): void {
    for (const [nonce, expiresAtMs] of this.seen) {
      if (expiresAtMs >= nowMs && this.seen.size < this.capacity) break;
      this.seen.delete(nonce);
    }
  }
}
