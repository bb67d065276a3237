import type { MiddlewareHandler } from "hono";
import { encodeBase64 } from "../sparkpay/base64";

declare module "hono" {
  interface ContextVariableMap {
    /** This response's script nonce (set by pageHeaders() when its policy names {nonce}). */
    pageNonce: string;
  }
}

/** Framing, plugins, <base> and form posts are refused on every page. */
const PAGE_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

/**
 * The headers of a page a person opens (the API's own set is in api-headers.ts): its Content-Security-Policy,
 * PAGE_POLICY added, with `{nonce}` replaced by a fresh nonce for this response (16 bytes from the CSPRNG, put on
 * the context as `pageNonce` for the page's script tags), and no framing. Set before the route answers, as the API
 * headers are, and replacing theirs.
 */
export function pageHeaders(policy: string): MiddlewareHandler {
  const csp = `${policy}; ${PAGE_POLICY}`;
  const needsNonce = csp.includes("{nonce}");
  return async (c, next) => {
    let value = csp;
    if (needsNonce) {
      const nonce = encodeBase64(crypto.getRandomValues(new Uint8Array(16)));
      c.set("pageNonce", nonce);
      value = csp.replaceAll("{nonce}", nonce);
    }
    c.header("Content-Security-Policy", value);
    c.header("X-Frame-Options", "DENY");
    await next();
  };
}
