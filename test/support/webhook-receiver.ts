/**
 * A webhook receiver for the durable-close tests, in Node beside the sandbox: every fetch the Worker makes goes
 * through the sandbox router, which hands requests for WEBHOOK_HOST here. It keeps each delivery as received, and
 * answers 503 to the first N deliveries of an event whose job's request_no starts with `WHFAIL<N>_`, else 204.
 * `GET https://<WEBHOOK_HOST>/__received?request_no=…` lists the deliveries for that order.
 */
export const WEBHOOK_HOST = "webhooks.test";
export const WEBHOOK_URL = `https://${WEBHOOK_HOST}/hooks/sparkpay-closes`;

export interface Delivery {
  request_no: string;
  event_id: string | null;
  path: string;
  content_type: string | null;
  signature: string | null;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export function createWebhookReceiver() {
  const deliveries: Delivery[] = [];
  return {
    async handle(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/__received") {
        const requestNo = url.searchParams.get("request_no");
        return Response.json({ deliveries: deliveries.filter((delivery) => delivery.request_no === requestNo) });
      }
      const body = await request.text();
      let event: { id?: string; data?: { request_no?: string } } | undefined;
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      const requestNo = event?.data?.request_no ?? "";
      const eventId = event?.id ?? null;
      const failFirst = Number(/^WHFAIL(\d+)_/i.exec(requestNo)?.[1] ?? 0);
      const earlier = deliveries.filter((delivery) => delivery.event_id === eventId).length;
      const status = earlier < failFirst ? 503 : 204;
      deliveries.push({
        request_no: requestNo,
        event_id: eventId,
        path: url.pathname,
        content_type: request.headers.get("content-type"),
        signature: request.headers.get("gateway-signature"),
        body,
        status,
      });
      return new Response(null, { status });
    },
  };
}
