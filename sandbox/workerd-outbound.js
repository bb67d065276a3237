/**
 * Miniflare's outbound service for the gateway in tests and benchmarks: every `fetch` the Worker
 * makes lands here and goes to the sandbox (the SANDBOX service binding, a Node function).
 * Hosts under `.invalid` are unreachable, and a sandbox answer marked "drop connection" becomes a
 * real network failure in the gateway, because a thrown error here rejects the gateway's fetch.
 */
const DROP_CONNECTION_HEADER = "x-sandbox-drop-connection";

export default {
  async fetch(request, env) {
    if (new URL(request.url).hostname.endsWith(".invalid")) throw new Error("sandbox: connection refused");
    const response = await env.SANDBOX.fetch(request);
    if (response.headers.has(DROP_CONNECTION_HEADER)) throw new Error("sandbox: connection reset");
    return response;
  },
};
