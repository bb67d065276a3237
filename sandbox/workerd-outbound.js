/**
 * Miniflare's outbound service for the gateway in tests and benchmarks: every `fetch` the Worker
 * makes lands here and goes to the sandbox (the SANDBOX service binding, a Node function).
 * Hosts under `.invalid`, and sandbox answers marked "drop connection", are sent on to
 * UNREACHABLE (a closed port), so the gateway sees a real network failure.
 */
// The same header as DROP_CONNECTION_HEADER in sparkpay-sandbox.mjs, which this workerd script cannot import.
const DROP_CONNECTION_HEADER = "x-sandbox-drop-connection";

/** @typedef {{ fetch(input: Request | string): Promise<Response> }} Fetcher */

export default {
  /**
   * @param {Request} request
   * @param {{ SANDBOX: Fetcher, UNREACHABLE: Fetcher }} env
   */
  async fetch(request, env) {
    if (new URL(request.url).hostname.endsWith(".invalid")) return env.UNREACHABLE.fetch(request);
    const response = await env.SANDBOX.fetch(request);
    if (response.headers.has(DROP_CONNECTION_HEADER)) return env.UNREACHABLE.fetch("http://unreachable.invalid/");
    return response;
  },
};
