import { Hono } from "hono/tiny";
import type { AppEnv } from "../env";
import document from "../openapi.json";

/** GET /openapi.json: generated from the valibot schemas by `npm run openapi` (see scripts/openapi.ts). */
export const openapi = new Hono<AppEnv>().get("/openapi.json", (c) => c.json(document));
