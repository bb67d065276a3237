import type { Context } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { cacheControlFor } from "./assets";

/**
 * The asset at `path` as this route's answer, with the asset server's headers (type, ETag) and its own Cache-Control;
 * undefined when there is none. A conditional request (If-None-Match) gets the asset server's 304.
 */
export async function fetchAsset(c: Context<AppEnv>, path: string): Promise<Response | undefined> {
  const assets: typeof c.env.ASSETS | undefined = c.env.ASSETS;
  if (!assets) {
    throw new GatewayError(
      "GATEWAY_MISCONFIGURED",
      "The API reference's files are missing: this Worker runs without its ASSETS binding (wrangler.toml [assets]).",
    );
  }
  const headers = new Headers();
  const etag = c.req.header("If-None-Match");
  if (etag) headers.set("If-None-Match", etag);
  const asset = await assets.fetch(new URL(path, c.req.url), { headers });
  if (asset.status === 404) return undefined;
  // Through the context, so the headers middleware set before the route (X-Request-Id) are kept.
  return c.newResponse(asset.body, asset.status as StatusCode, {
    ...Object.fromEntries(asset.headers),
    "Cache-Control": cacheControlFor(path),
  });
}
