import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { every } from "hono/combine";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";

/** Requests are two short identifiers; 8 KiB is generous and keeps parsing cheap. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024;

/** `application/json`, with or without parameters such as charset. */
const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;

export interface JsonBodyOptions {
  maxBytes?: number;
}

/**
 * Accepts only a JSON object body: 415 for another media type, 413 over the limit, 400 for
 * malformed JSON or JSON that is not an object. The parsed body stays cached on the request for
 * the schema validator that follows.
 */
export function jsonBody({ maxBytes = DEFAULT_MAX_BODY_BYTES }: JsonBodyOptions = {}): MiddlewareHandler<AppEnv> {
  return every(
    async (c, next) => {
      requireJsonMediaType(c.req.header("Content-Type"));
      await next();
    },
    limitBody({ maxBytes }),
    async (c, next) => {
      await parseJsonObject(() => c.req.json());
      await next();
    },
  );
}

/** 413 PAYLOAD_TOO_LARGE past `maxBytes` (Hono's bodyLimit, which counts a streamed body as it arrives). */
export function limitBody({ maxBytes = DEFAULT_MAX_BODY_BYTES }: JsonBodyOptions = {}): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new GatewayError("PAYLOAD_TOO_LARGE", `The body is over ${maxBytes} bytes.`);
    },
  });
}

/** 415 unless the Content-Type is JSON. */
export function requireJsonMediaType(contentType: string | undefined): void {
  if (!JSON_MEDIA_TYPE.test(contentType ?? "")) {
    throw new GatewayError("UNSUPPORTED_MEDIA_TYPE", "Send the body as JSON with `Content-Type: application/json`.", {
      param: "Content-Type",
    });
  }
}

/** What `parse` makes of the body, when it is a JSON object; 400 INVALID_JSON naming what is wrong otherwise. */
export async function parseJsonObject(parse: () => unknown): Promise<object> {
  let body: unknown;
  try {
    body = await parse();
  } catch {
    throw new GatewayError("INVALID_JSON", "The body is not valid JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("INVALID_JSON", "The body must be a JSON object.");
  }
  return body;
}
