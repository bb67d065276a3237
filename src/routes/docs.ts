import { renderApiReference } from "@scalar/client-side-rendering";
import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { ERROR_DOCS_PATH, SPARKPAY_CODES_ANCHOR } from "../error-response";
import { GatewayError } from "../errors";
import document from "../openapi.json";

/** API_DOCS=off: the pages are not there at all (404, as for any unknown path). */
const docsOn: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("services").docsEnabled)
    throw new GatewayError("NOT_FOUND", "No such route: the API reference is off here.");
  await next();
};

/**
 * Scalar's standalone bundle, pinned to one version's file: a new release can neither change nor break the page
 * unseen. (Its stylesheets, fonts and images load as the bundle decides; scripts only as below.)
 */
export const SCALAR_BUNDLE = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.72.1/dist/browser/standalone.js";

/** Framing, plugins, <base> and form posts are refused on both pages. */
const PAGE_POLICY = {
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  objectSrc: ["'none'"],
};
/**
 * The reference runs only the scripts that carry this response's nonce (the bundle's tag and the call that starts
 * it) and what they load: a caller may type a key into the page, so no other script may run on this origin.
 */
const referenceHeaders = secureHeaders({
  contentSecurityPolicy: { ...PAGE_POLICY, scriptSrc: [NONCE, "'strict-dynamic'"] },
  xFrameOptions: "DENY",
});
/** The error list is static HTML with inline styles: nothing else may load. */
const errorPageHeaders = secureHeaders({
  contentSecurityPolicy: { ...PAGE_POLICY, defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"] },
  xFrameOptions: "DENY",
});

/** Description text as HTML: escaped, with `code` spans. */
const proseToHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`).replace(/`([^`]+)`/g, "<code>$1</code>");

/** The error reference doc_url points into: one row per gateway code, each an anchor, then SparkPay's codes. */
function errorReferencePage(): string {
  const examples: Record<string, { value: { message: string } }> = document.components.examples;
  const rows = Object.entries(document["x-error-codes"])
    .map(
      ([code, status]) =>
        `<tr id="${code}"><td><a href="#${code}"><code>${code}</code></a></td><td>${status}</td>` +
        `<td>${proseToHtml(examples[code]?.value.message ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${proseToHtml(document.info.title)}: error codes</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
tr:target{background:#fff6d5}</style></head><body>
<h1>Error codes</h1>
<p>Every failure is one JSON envelope <code>{code, message, request_id, param?, doc_url?}</code>. <code>param</code>
names the one input at fault; <code>request_id</code> (also the <code>X-Request-Id</code> header) finds the request in
the gateway's logs; <code>X-SparkPay-Request-Id</code>, when present, is what SparkPay's support asks for.
The full API: <a href="/docs">/docs</a>.</p>
<table><thead><tr><th>code</th><th>HTTP</th><th>when</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2 id="${SPARKPAY_CODES_ANCHOR}">SparkPay's codes</h2>
<p>A numeric code (or any code not listed above) is SparkPay's own: SparkPay refused the request, and its HTTP status,
code and message pass through unchanged (e.g. 400 <code>40008</code> "merchant number does not exist"; 429
<code>40011</code>, SparkPay's call limit). A refusal of the gateway's own credentials (SparkPay's HTTP 401 or 403)
is answered 502: fix the gateway's keys or AppID, not the caller's.</p>
</body></html>`;
}

/** Built on its first request, never at start-up (cold starts stay lean). */
let errorPage: string | undefined;

/**
 * GET /docs (the API reference, rendered in the browser by Scalar from this gateway's OpenAPI document) and
 * GET /docs/errors (every error code), without authentication, like /openapi.json; API_DOCS=off turns both off.
 */
export const docs = new Hono<AppEnv>()
  // Scalar's own renderer, the one @scalar/hono-api-reference wraps, called directly because that wrapper also
  // imports Hono's full router bundle (about 2.5 KiB gzip of Worker) for a helper we do not use. The document is
  // inlined, so the page shows exactly what /openapi.json serves; the page carries this response's nonce.
  .get("/docs", docsOn, referenceHeaders, (c) =>
    c.html(
      renderApiReference({
        config: { content: document },
        pageTitle: document.info.title,
        cdn: SCALAR_BUNDLE,
        nonce: c.get("secureHeadersNonce"),
      }),
    ),
  )
  .get(ERROR_DOCS_PATH, docsOn, errorPageHeaders, (c) => {
    errorPage ??= errorReferencePage();
    return c.html(errorPage);
  });
