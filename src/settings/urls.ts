const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The URLs the gateway sends to (SparkPay, the webhook receiver): https://, or http:// on loopback only (a local
 * sandbox or receiver); never credentials, a query or a fragment, which would change where or what is sent; a path
 * only where `path` allows it.
 */
export function isAllowedUrl(text: string, { path }: { path: boolean }): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  // The text itself, not only what URL makes of it: URL reads "https:/host" as "https://host/".
  if (!/^https?:\/\//i.test(text) || /[?#@\s]/.test(text) || url.username || url.password) return false;
  if (!path && url.pathname !== "/") return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

export function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/** Where SparkPay POSTs its payment notifications, under the gateway's own origin. */
export const NOTIFICATIONS_PATH = "/v1/sparkpay/notifications";

/** The notify_url to give SparkPay: GATEWAY_PUBLIC_URL (trailing slashes dropped) plus the route; none without it. */
export function notifyUrlFor(publicUrl: string | undefined): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}${NOTIFICATIONS_PATH}` : undefined;
}
