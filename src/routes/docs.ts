import type { MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { ERROR_DOCS_PATH } from "../error-response";
import { GatewayError } from "../errors";
import { pageHeaders } from "../middleware/page-headers";
import { DOCS_FILES_PREFIX, ERROR_PAGE_FILE_PATH, NONCE_SLOT, REFERENCE_PAGE_FILE_PATH } from "./assets";
import { fetchAsset } from "./serve-asset";

export { SCALAR_BUNDLE } from "./assets";

const notFound = () => new GatewayError("NOT_FOUND", "No such route: the API reference is off here.");

/** API_DOCS=off: the pages and their files are not there at all (404, as for any unknown path). */
const docsOn: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get("services").docsEnabled) throw notFound();
  await next();
};

/**
 * The reference loads everything from this origin: its script, the OpenAPI document, and "Test Request", which
 * calls this gateway (connect-src 'self'), so nothing a caller types into the page (a key) can be sent elsewhere.
 * Scripts run only by this response's nonce (the bundle's tag and the call that starts it; 'strict-dynamic' lets the
 * bundle add what it needs). Styles: Scalar's components put their own <style> elements and style attributes into
 * the page, which carry no nonce, so inline styles are allowed; they cannot run code.
 */
const referenceHeaders = pageHeaders(
  "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'unsafe-inline'; " +
    "img-src 'self' data:; connect-src 'self'",
);
/** The error list is static HTML with inline styles and the favicon: nothing else may load. */
const errorPageHeaders = pageHeaders("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");

/**
 * GET /docs (the API reference, rendered in the browser by Scalar from /openapi.json), GET /docs/errors (every error
 * code, built with the assets) and the page's own files under /docs/assets/, without authentication, like
 * /openapi.json; API_DOCS=off turns them all off. The files come from Workers Static Assets, not the Worker bundle.
 */
export const docs = new Hono<AppEnv>()
  .get("/docs", docsOn, referenceHeaders, async (c) => {
    const page = await fetchAsset(c, REFERENCE_PAGE_FILE_PATH);
    if (!page) throw notFound();
    return c.html((await page.text()).replaceAll(NONCE_SLOT, c.get("pageNonce")));
  })
  .get(ERROR_DOCS_PATH, docsOn, errorPageHeaders, async (c) => {
    const page = await fetchAsset(c, ERROR_PAGE_FILE_PATH);
    if (!page) throw notFound();
    return page;
  })
  // The Scalar bundle and the favicon: files of the page, not API routes (so not in the OpenAPI document). Only
  // GET and HEAD; whatever assets/ holds under this prefix and nothing else.
  .use(`${DOCS_FILES_PREFIX}*`, docsOn, async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    const file = await fetchAsset(c, new URL(c.req.url).pathname);
    if (!file) return next();
    return file;
  });
