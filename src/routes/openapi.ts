import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { OPENAPI_FILE_PATH } from "./assets";
import { fetchAsset } from "./serve-asset";

/**
 * GET /openapi.json: src/openapi.json (generated from the valibot schemas by `npm run openapi`, see
 * scripts/openapi.ts), served from the Worker's static assets so the document is not part of the Worker bundle.
 * Served whatever API_DOCS says, as before.
 */
export const openapi = new Hono<AppEnv>().get(OPENAPI_FILE_PATH, async (c) => {
  const document = await fetchAsset(c, OPENAPI_FILE_PATH);
  if (!document)
    throw new GatewayError("NOT_FOUND", "No such route: this Worker was deployed without its OpenAPI document.");
  return document;
});
