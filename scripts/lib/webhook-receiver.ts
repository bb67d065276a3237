/**
 * npm start's webhook receiver: what a merchant's service would run, on 127.0.0.1. It checks each event's
 * Gateway-Signature (`t=<Unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, within 300 s) with node:crypto, as a
 * receiver written from docs/durable-closes.md would (none of the gateway's code), answers 204, or 400 when the
 * signature does not verify, and prints one line per event: its type, id, order, the job's status and, whenever the
 * job carries it, the order's pay_status (for order.updated: the order's pay_status and its close job's status).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";

/** The receiver's window for `t`, as docs/durable-closes.md tells receivers. */
const TOLERANCE_S = 300;
/** An event is a few KiB; anything much larger is not the gateway's. */
const MAX_BODY_BYTES = 256 * 1024;

/** Whether `header` signs `body` with `secret`, at a time within TOLERANCE_S of `nowS`. */
export function verifyGatewaySignature(
  header: string | undefined,
  body: string,
  secret: string,
  nowS: number,
): boolean {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const [, t, v1] = match as unknown as [string, string, string];
  if (Math.abs(nowS - Number(t)) > TOLERANCE_S) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

interface Event {
  id?: string;
  type?: string;
  data?: {
    request_no?: string;
    status?: string;
    pay_status?: string;
    order?: { pay_status?: string };
    close_job?: { status?: string };
  };
}

/** One line for a verified event. */
export function describeEvent(event: Event): string {
  const { data = {} } = event;
  if (event.type === "order.updated") {
    const job = data.close_job?.status === undefined ? "" : `, its close job ${data.close_job.status}`;
    return `webhook ${event.type} ${event.id}: ${data.request_no} pay_status ${data.pay_status}${job} (signature verified)`;
  }
  const payStatus = data.order?.pay_status === undefined ? "" : `, order pay_status ${data.order.pay_status}`;
  return `webhook ${event.type} ${event.id}: ${data.request_no} is ${data.status}${payStatus} (signature verified)`;
}

/** Serves the receiver on host:port; `print` gets one line per event (or refusal). */
export function serveWebhookReceiver(options: {
  host: string;
  port: number;
  secret: string;
  print: (line: string) => void;
}): Promise<Server> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = request.headers["gateway-signature"];
      const verified =
        size <= MAX_BODY_BYTES &&
        verifyGatewaySignature(
          typeof signature === "string" ? signature : undefined,
          body,
          options.secret,
          Math.floor(Date.now() / 1000),
        );
      if (!verified) {
        options.print(`webhook refused: its Gateway-Signature does not verify with this receiver's secret (HTTP 400)`);
        response.writeHead(400).end();
        return;
      }
      let event: Event;
      try {
        event = JSON.parse(body) as Event;
      } catch {
        event = {};
      }
      options.print(describeEvent(event));
      response.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
