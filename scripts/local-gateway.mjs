// @ts-check
/**
 * The deploy bundle served by Miniflare (workerd) on loopback, with every outbound fetch routed to
 * an in-process SparkPay stand-in, exactly as the tests wire it. Used by `npm run soak` and
 * `npm run bench`.
 */
import { dirname } from "node:path";
import { Miniflare } from "miniflare";

const COMPATIBILITY_DATE = "2026-05-03";
/** Our limits are not what these runs measure: give them room. */
const UNLIMITED = { simple: { limit: 100_000_000, period: /** @type {60} */ (60) } };

/**
 * @param {{
 *   scriptPath: string,
 *   upstream: (request: Request) => Promise<Response>,
 *   bindings?: Record<string, string>,
 *   onStdio?: (stdout: import("node:stream").Readable, stderr: import("node:stream").Readable) => void,
 * }} options
 */
export async function startLocalGateway({ scriptPath, upstream, bindings = {}, onStdio }) {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: onStdio,
    workers: [
      {
        name: "gateway",
        modules: true,
        scriptPath,
        modulesRoot: dirname(scriptPath),
        compatibilityDate: COMPATIBILITY_DATE,
        bindings,
        ratelimits: { CALLER_RATE_LIMITER: UNLIMITED, MERCHANT_RATE_LIMITER: UNLIMITED },
        outboundService: "sparkpay-sandbox",
      },
      {
        name: "sparkpay-sandbox",
        modules: true,
        scriptPath: new URL("../sandbox/workerd-outbound.js", import.meta.url).pathname,
        compatibilityDate: COMPATIBILITY_DATE,
        serviceBindings: {
          SANDBOX: /** @type {any} */ (upstream),
          UNREACHABLE: { external: { address: "127.0.0.1:1", http: {} } },
        },
      },
    ],
  });
  const url = await mf.ready;
  return { mf, url: url.toString().replace(/\/$/, "") };
}
