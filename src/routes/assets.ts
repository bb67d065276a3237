/**
 * The files the API reference is made of, kept out of the Worker bundle as Workers Static Assets (wrangler.toml's
 * [assets]: the git-ignored assets/ directory that scripts/build-assets.ts writes). With run_worker_first, no request
 * reaches them but through a route (src/routes/docs.ts, openapi.ts), which decides whether (API_DOCS) and with which
 * headers each is served (src/routes/serve-asset.ts). Each file is named by its URL path, which is also its path
 * inside assets/. No Worker types here: the build script imports this module too.
 */
export const OPENAPI_FILE_PATH = "/openapi.json";
/** /docs/errors: static HTML built from the OpenAPI document (html_handling "none": the Worker names the file). */
export const ERROR_PAGE_FILE_PATH = "/docs/errors.html";
/** /docs: the reference page, built with the assets; its script tags hold NONCE_SLOT for each response's nonce. */
export const REFERENCE_PAGE_FILE_PATH = "/docs/reference.html";
export const NONCE_SLOT = "{{nonce}}";
/** The page's own files (the Scalar bundle, the favicon): served under this prefix, nowhere else. */
export const DOCS_FILES_PREFIX = "/docs/assets/";
export const FAVICON_PATH = `${DOCS_FILES_PREFIX}favicon.svg`;

/**
 * Scalar's standalone bundle, from the npm package at this exact version, checked against the tarball's integrity
 * (the sha512 the registry publishes, as package-lock.json would hold it) when scripts/build-assets.ts fetches it.
 * Change both together. The version is in the URL, so browsers may keep the file for good.
 */
export const SCALAR_VERSION = "1.72.1";
export const SCALAR_TARBALL_INTEGRITY =
  "sha512-XpEJ0rfc/cXbCrR+iC4kK0o/WwX2dTtGQbT049OlPKAHD6IMIFdTeGz2r+M27P2EDWKyUITRm/NzlP8z2pw/Ow==";
export const SCALAR_BUNDLE = `${DOCS_FILES_PREFIX}@scalar/api-reference@${SCALAR_VERSION}/standalone.js`;

/** Only a file whose URL names its version may be kept by browsers and proxies; the rest stay no-store. */
export function cacheControlFor(path: string): string {
  if (path === SCALAR_BUNDLE) return "public, max-age=31536000, immutable";
  if (path === FAVICON_PATH) return "public, max-age=86400";
  return "no-store";
}
