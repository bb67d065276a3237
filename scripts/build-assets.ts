/**
 * `npm run build:assets` (also run by `npm ci`'s prepare and by `npm start`): writes assets/, the Workers Static
 * Assets directory of wrangler.toml's [assets], from scratch. The Worker serves each file itself (src/routes/assets.ts
 * names them), so none of them is in the Worker bundle:
 *   /openapi.json                                  src/openapi.json (compact)
 *   /docs/errors.html                              the error reference, built from that document
 *   /docs/reference.html                           /docs, with a slot for each response's script nonce
 *   /docs/assets/favicon.svg                       scripts/assets/favicon.svg
 *   /docs/assets/@scalar/api-reference@V/...       Scalar's pinned standalone bundle
 * The directory is git-ignored: rebuild it after `npm run openapi`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ERROR_PAGE_FILE_PATH,
  FAVICON_PATH,
  OPENAPI_FILE_PATH,
  REFERENCE_PAGE_FILE_PATH,
  SCALAR_BUNDLE,
} from "../src/routes/assets";
import { type ErrorCodesDocument, errorReferencePage } from "./assets/error-page";
import { referencePage } from "./assets/reference-page";
import { fetchScalarBundle } from "./assets/scalar-bundle";

export const ASSETS_DIR = fileURLToPath(new URL("../assets", import.meta.url));
/** What `npm run openapi` writes (scripts/openapi.ts). */
const OPENAPI_SOURCE = new URL("../src/openapi.json", import.meta.url);

/** The file at URL path `path` inside `root`. */
const fileAt = (root: string, path: string) => join(root, ...path.split("/"));

export function buildAssets(root = ASSETS_DIR): void {
  const document = JSON.parse(readFileSync(OPENAPI_SOURCE, "utf8")) as ErrorCodesDocument;
  // Everything is read or fetched first: a failure (no network, no npm cache) leaves the last build as it was.
  const files: Array<[path: string, content: string | Buffer]> = [
    [OPENAPI_FILE_PATH, JSON.stringify(document)],
    [ERROR_PAGE_FILE_PATH, errorReferencePage(document)],
    [REFERENCE_PAGE_FILE_PATH, referencePage()],
    [FAVICON_PATH, readFileSync(new URL("./assets/favicon.svg", import.meta.url))],
    [SCALAR_BUNDLE, fetchScalarBundle()],
  ];
  rmSync(root, { recursive: true, force: true });
  for (const [path, content] of files) {
    mkdirSync(dirname(fileAt(root, path)), { recursive: true });
    writeFileSync(fileAt(root, path), content);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildAssets();
  console.log(`Wrote ${ASSETS_DIR} (the API reference's static assets).`);
}
