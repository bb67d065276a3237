// @ts-check
import { createServer } from "node:http";
import { DROP_CONNECTION_HEADER } from "./sparkpay-sandbox.mjs";

/**
 * Serves a sandbox over node:http (for `npm start`). A response marked "drop connection" destroys
 * the socket, so the gateway sees a real reset.
 * @param {{ handle(request: Request): Promise<Response> }} sandbox
 * @param {{ host?: string, port?: number }} [options]
 * @returns {Promise<import("node:http").Server>}
 */
export function serveSandbox(sandbox, { host = "127.0.0.1", port = 8788 } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      /** @type {[string, string][]} */
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.push([/** @type {string} */ (req.rawHeaders[i]), /** @type {string} */ (req.rawHeaders[i + 1])]);
      const request = new Request(`http://${host}:${port}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      });
      const response = await sandbox.handle(request);
      if (response.headers.has(DROP_CONNECTION_HEADER)) {
        req.socket.destroy();
        return;
      }
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ code: 50000, message: `sandbox failure: ${error instanceof Error ? error.message : error}` }),
      );
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
