/** HTTP for the soak's later phases, which talk to a local workerd over kept-alive connections. */
import { setTimeout as sleep } from "node:timers/promises";

/**
 * fetch, asked again (up to three tries) when the connection failed before any answer ("other side closed"): undici
 * reuses a kept-alive connection that workerd has closed, after a phase's quiet stretches or when the next phase's
 * workerd listens on the port of the one just disposed. Every request the phases send is safe to repeat (a PUT, a
 * GET, a DELETE, a close, a creation: all idempotent). `resets` counts them, for the report.
 */
export function fetchRetryingResets(resets: { count: number }) {
  return async (url: string, init?: RequestInit): Promise<Response> => {
    for (let tries = 1; ; tries++) {
      try {
        return await fetch(url, init);
      } catch (error) {
        if (tries >= 3) throw error;
        resets.count++;
        await sleep(50 * tries);
      }
    }
  };
}
