import { describe, expect, it } from "vitest";
import document from "../../src/openapi.json";
import { FAVICON_PATH, SCALAR_BUNDLE } from "../../src/routes/assets";
import { callGateway } from "./helpers";

// The API reference's files come from Workers Static Assets (assets/, built by `npm run build:assets`), served by
// the Worker's own routes: behind API_DOCS, with the gateway's headers, never from another origin.

const get = (path: string, options: { env?: Partial<Env>; headers?: Record<string, string> } = {}) =>
  callGateway({
    method: "GET",
    url: `https://gateway.test${path}`,
    headers: { Authorization: "", ...options.headers },
    env: options.env,
  });

describe("the reference's own files", () => {
  it("Scalar's pinned bundle is served from this origin, as a script browsers may keep (its URL names the version)", async () => {
    const { response } = await get(SCALAR_BUNDLE);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^(application|text)\/javascript/);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const script = await response.text();
    expect(script.length).toBeGreaterThan(1_000_000);
    expect(script).toContain("createApiReference");
  });

  it("answers a browser that has the bundle already with 304", async () => {
    const first = await get(SCALAR_BUNDLE);
    const etag = first.response.headers.get("etag");
    await first.response.body?.cancel();
    expect(etag).toBeTruthy();
    const again = await get(SCALAR_BUNDLE, { headers: { "If-None-Match": etag! } });
    expect(again.response.status).toBe(304);
  });

  it("the favicon is an SVG both pages link to", async () => {
    const { response } = await get(FAVICON_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    expect(await response.text()).toMatch(/^<svg /);
    for (const page of ["/docs", "/docs/errors"])
      expect(await (await get(page)).response.text()).toContain(`<link rel="icon" href="${FAVICON_PATH}"`);
  });

  it("/openapi.json is the committed document, no-store, whatever API_DOCS says (as before)", async () => {
    for (const env of [{}, { API_DOCS: "off" }]) {
      const { response } = await get("/openapi.json", { env });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.json()).toEqual(document);
    }
  });

  it("nothing else under /docs/assets/, and none of it while API_DOCS is off", async () => {
    for (const [path, env] of [
      ["/docs/assets/nothing-here.js", {}],
      ["/docs/errors.html", {}],
      [SCALAR_BUNDLE, { API_DOCS: "off" }],
      [FAVICON_PATH, { API_DOCS: "off" }],
    ] as const) {
      const { response } = await get(path, { env });
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    const posted = await callGateway({ method: "POST", url: `https://gateway.test${SCALAR_BUNDLE}`, body: "{}" });
    expect(posted.response.status).toBe(404);
  });
});

describe("GET /docs", () => {
  it("loads from this origin only, and Test Request may call this gateway", async () => {
    const { response } = await get("/docs");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    const html = await response.text();
    expect(html).toContain(`<script src="${SCALAR_BUNDLE}"`);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("says where the same facts are when its script cannot run", async () => {
    const html = await (await get("/docs")).response.text();
    const fallback = /<div id="without-script">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
    expect(fallback).toContain('<a href="/openapi.json">');
    expect(fallback).toContain('<a href="/docs/errors">');
  });

  it("turns Scalar's cloud features off", async () => {
    const html = await (await get("/docs")).response.text();
    const configuration = JSON.parse(/createApiReference\('#app', (\{.*\})\)/.exec(html)?.[1] ?? "{}");
    expect(configuration).toMatchObject({
      url: "/openapi.json",
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: "never",
      withDefaultFonts: false,
      telemetry: false,
      persistAuth: false,
    });
    expect(configuration).not.toHaveProperty("proxyUrl");
  });
});
