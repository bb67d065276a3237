/**
 * /docs/errors, the page every error answer's doc_url points into: one row per gateway code (each row an anchor,
 * its HTTP status and its meaning), then SparkPay's codes. Built from the OpenAPI document with the other assets,
 * so the page and the document cannot differ, and neither is in the Worker bundle.
 */
import { SPARKPAY_CODES_ANCHOR } from "../../src/error-response";
import { FAVICON_PATH } from "../../src/routes/assets";

export interface ErrorCodesDocument {
  info: { title: string };
  components: { examples: Record<string, { value: { message: string } }> };
  "x-error-codes": Record<string, number>;
}

/** Description text as HTML: escaped, with `code` spans. */
const proseToHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`).replace(/`([^`]+)`/g, "<code>$1</code>");

/**
 * Light and dark (the reader's prefers-color-scheme), and readable on a phone: under 40rem each row becomes a block
 * (the code and its status on one line, the meaning below), and a long code may break, so nothing is cut off.
 */
const STYLE = `:root{color-scheme:light dark;--text:#1a1a1a;--muted:#555;--bg:#fff;--line:#ddd;--link:#0b57d0;--target:#fff6d5;--code:#f3f3f3}
@media (prefers-color-scheme:dark){:root{--text:#e6e6e6;--muted:#b0b0b0;--bg:#121212;--line:#3a3a3a;--link:#8ab4f8;--target:#463c12;--code:#262626}}
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:var(--text);background:var(--bg)}
a{color:var(--link)}code{background:var(--code);padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:.4rem;text-align:left;vertical-align:top}
tr:target{background:var(--target)}
@media (max-width:40rem){thead{display:none}table,tbody,tr,td{display:block}tr{border-bottom:1px solid var(--line);padding:.4rem 0}
td{border:0;padding:.1rem 0}td:nth-child(2){display:inline;color:var(--muted)}td:first-child{display:inline;margin-right:.5rem}}`;

export function errorReferencePage(document: ErrorCodesDocument): string {
  const examples = document.components.examples;
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
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<style>${STYLE}</style></head><body>
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
</body></html>
`;
}
