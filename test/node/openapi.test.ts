import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { OPENAPI_FILE, renderOpenApiDocument } from "../../scripts/openapi";
import app from "../../src/app";
import { GATEWAY_ERRORS } from "../../src/errors";
import { DOCS_FILES_PREFIX } from "../../src/routes/assets";

const committed = readFileSync(OPENAPI_FILE, "utf8");
const document = JSON.parse(committed) as {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1 according to the official JSON schema", async () => {
    const result = await new Validator().validate(JSON.parse(committed));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("is what scripts/openapi.ts builds from the valibot schemas today (run `npm run openapi` if not)", () => {
    expect(committed).toBe(renderOpenApiDocument());
  });

  // Hono lists every handler of every route (middleware included) in app.routes; OpenAPI writes :name as {name}.
  const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");
  const served = app.routes
    .filter((route) => route.method !== "ALL")
    .map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path)}`);

  it("describes every route the app serves", () => {
    expect(served.length).toBeGreaterThanOrEqual(3);
    for (const route of served) {
      const [method, path] = route.split(" ") as [string, string];
      expect(document.paths[path]?.[method], route).toBeDefined();
    }
  });

  it("describes nothing the app does not serve", () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(documented.length).toBeGreaterThanOrEqual(3);
    for (const operation of documented) expect(served, operation).toContain(operation);
    // A route's catch-all (its 405 for other methods) belongs to a documented path; `/*` is the app's middleware, and
    // the reference page's own files (its script, its favicon) are files, not API operations.
    const catchAlls = app.routes.filter(
      (route) => route.method === "ALL" && route.path !== "/*" && !route.path.startsWith(DOCS_FILES_PREFIX),
    );
    expect(catchAlls.length).toBeGreaterThanOrEqual(1);
    for (const route of catchAlls) expect(Object.keys(document.paths)).toContain(openApiPath(route.path));
  });

  it("names every gateway error code and every status it can answer with", () => {
    for (const code of Object.keys(GATEWAY_ERRORS)) expect(committed).toContain(`"${code}"`);
    const close = document.paths["/v4/pay/orders/close"]!.post!.responses;
    // 409 CLOSE_CONFLICT belongs to the durable closes only.
    const statuses = new Set(
      Object.values(GATEWAY_ERRORS)
        .map(String)
        .filter((status) => status !== "409"),
    );
    for (const status of statuses) {
      if (["404", "405", "500"].includes(status)) expect(JSON.stringify(close.default)).toContain(`${status}:`);
      else expect(close[status], `status ${status}`).toBeDefined();
    }
    expect(close["200"]).toBeDefined();
    const closes = document.paths["/v1/closes/{merchant_no}/{request_no}"]!;
    expect(closes.put!.responses["409"]).toBeDefined();
    expect(closes.delete!.responses["409"]).toBeDefined();
    expect(closes.get!.responses["404"]).toBeDefined();
  });

  it("describes no property as a union (anyOf/oneOf) of its own: reference pages print such a description twice", () => {
    const unionsWithDescriptions: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== "object") return;
      const schema = node as Record<string, unknown>;
      if (schema.description !== undefined && (schema.anyOf || schema.oneOf)) unionsWithDescriptions.push(at);
      for (const [key, value] of Object.entries(schema)) walk(value, `${at}/${key}`);
    };
    walk((JSON.parse(committed) as { components: unknown }).components, "#/components");
    expect(unionsWithDescriptions).toEqual([]);
  });
});
