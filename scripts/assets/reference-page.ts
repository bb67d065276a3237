import { ERROR_DOCS_PATH } from "../../src/error-response";
import { FAVICON_PATH, NONCE_SLOT, OPENAPI_FILE_PATH, SCALAR_BUNDLE } from "../../src/routes/assets";

/**
 * How Scalar renders the reference: from this origin's /openapi.json, with every feature that talks to Scalar's
 * cloud off. Keys of @scalar/api-reference 1.72.1's configuration (its @scalar/types 0.22.1 schema):
 * - `agent.disabled`: "Ask AI" (Agent Scalar; on by default on localhost);
 * - `mcp.disabled`: "Generate MCP" / "Connect MCP" (dashboard.scalar.com);
 * - `showDeveloperTools: "never"`: the developer toolbar with "Share" (uploads the document to api.scalar.com) and
 *   "Deploy" (on by default on localhost);
 * - `withDefaultFonts: false`: no fonts from fonts.scalar.com (the system's fonts instead);
 * - `telemetry: false`: declared by the schema (this build sends none);
 * - `persistAuth: false` (the default, said out loud): a caller key typed into "Test Request" is not kept in
 *   localStorage.
 * No `proxyUrl`: "Test Request" calls this gateway directly, never through proxy.scalar.com.
 */
const SCALAR_CONFIGURATION = {
  url: OPENAPI_FILE_PATH,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  withDefaultFonts: false,
  telemetry: false,
  persistAuth: false,
};

/**
 * The page Scalar mounts into #app. Until it has (its script is loading, failed, or cannot run at all), the page says
 * where the same facts are without a script; the start-up call removes that text once Scalar is mounted (inside #app
 * it would make Scalar, which hydrates whatever #app holds, report a mismatch). The first script tells zod (inside
 * the bundle) not to probe for eval with `Function("")` as the bundle loads: the policy forbids eval, zod would fall
 * back to running without it anyway, but the probe would be reported as a violation. Built with the assets (out of
 * the Worker bundle); `nonce` is NONCE_SLOT, which the route replaces with each response's nonce.
 */
export function referencePage(nonce = NONCE_SLOT): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SparkPay edge gateway: API reference</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<meta property="csp-nonce" content="${nonce}">
<style>#without-script{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
@media (prefers-color-scheme:dark){:root{color-scheme:dark}}</style>
</head>
<body>
<div id="without-script">
<h1>SparkPay edge gateway: API reference</h1>
<p>This page draws the reference with JavaScript, which has not run (yet). The same facts without a script:
the OpenAPI document at <a href="${OPENAPI_FILE_PATH}">${OPENAPI_FILE_PATH}</a> and every error code with its
meaning at <a href="${ERROR_DOCS_PATH}">${ERROR_DOCS_PATH}</a>.</p>
</div>
<div id="app"></div>
<script nonce="${nonce}">globalThis.__zod_globalConfig = { jitless: true };</script>
<script src="${SCALAR_BUNDLE}" nonce="${nonce}"></script>
<script type="text/javascript" nonce="${nonce}">Scalar.createApiReference('#app', ${JSON.stringify(SCALAR_CONFIGURATION)});
document.getElementById('without-script').remove();</script>
</body>
</html>`;
}
