/**
 * Cloudflare runs the gateway's Cron Trigger (wrangler.toml [triggers]) every minute; `wrangler dev` does not
 * ("Miniflare does not currently trigger scheduled Workers automatically"). With `--test-scheduled` it serves
 * /__scheduled, which runs the Worker's scheduled handler: npm start calls it once at start (so close jobs that were
 * sleeping when wrangler dev last stopped are repaired) and every minute after, as Cloudflare would.
 */
export const CRON_EVERY_MS = 60_000;
/** The one schedule wrangler.toml declares. */
const CRON = "* * * * *";

export function scheduledUrl(gatewayUrl: string): string {
  return `${gatewayUrl}/__scheduled?cron=${encodeURIComponent(CRON)}`;
}

/** Fires the Cron Trigger now and every CRON_EVERY_MS until stopped; a missed tick (wrangler reloading) is skipped. */
export function startCronTicker(gatewayUrl: string, every = CRON_EVERY_MS): { stop: () => void } {
  const tick = () => {
    fetch(scheduledUrl(gatewayUrl)).then(
      (response) => response.body?.cancel(),
      () => undefined, // wrangler dev restarting or stopping: the next minute tries again
    );
  };
  tick();
  const timer = setInterval(tick, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
