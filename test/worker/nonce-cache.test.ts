import { describe, expect, it } from "vitest";
import { NonceCache } from "../../src/sparkpay/nonce-cache";

describe("response nonce cache (replay protection, bounded memory)", () => {
  it("refuses a nonce seen before its expiry, and takes it again after", () => {
    const cache = new NonceCache(10);
    expect(cache.remember("n1", 1_000, 0)).toBe(true);
    expect(cache.remember("n1", 1_000, 999)).toBe(false);
    expect(cache.remember("n1", 2_000, 1_001)).toBe(true);
  });

  it("never holds more than its capacity: the oldest go first", () => {
    const cache = new NonceCache(3);
    for (const nonce of ["a", "b", "c", "d"]) expect(cache.remember(nonce, 10_000, 0)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.remember("a", 10_000, 0)).toBe(true); // forgotten to make room
    expect(cache.remember("d", 10_000, 0)).toBe(false);
  });

  it("drops expired entries before they count against the capacity", () => {
    const cache = new NonceCache(1_000);
    for (let i = 0; i < 500; i++) cache.remember(`old${i}`, 100, 0);
    cache.remember("new", 10_000, 5_000);
    expect(cache.size).toBe(1);
  });
});
