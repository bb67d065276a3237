import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { faultRequestNo } from "../../sandbox/faults.mjs";
import { GATEWAY_ERRORS } from "../../src/errors";
import document from "../../src/openapi.json";
import { SCALAR_BUNDLE } from "../../src/routes/docs";
import { callGateway, closeOrder, docUrl, type ErrorEnvelope, MERCHANT, uniqueId } from "./helpers";

const SPARKPAY_REQUEST_ID = /^sbx_[0-9a-f]{12}$/; // what the sandbox sends as Request-Id

describe("X-SparkPay-Request-Id", () => {
  it("a close SparkPay answered carries SparkPay's own request id", async () => {
    const { response } = await closeOrder(uniqueId("ORDER"));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-sparkpay-request-id")).toMatch(SPARKPAY_REQUEST_ID);
  });

  it("so does SparkPay's refusal, and the query route", async () => {
    const refused = await callGateway({
      body: JSON.stringify({ request_no: uniqueId("ORDER"), merchant_no: "M_NOBODY" }),
    });
    expect(refused.response.status).toBe(400);
    expect(refused.response.headers.get("x-sparkpay-request-id")).toMatch(SPARKPAY_REQUEST_ID);
    const query = await callGateway({
      method: "GET",
      url: `https://gateway.test/v4/pay/orders/${MERCHANT}/${uniqueId("NOPE")}`,
    });
    expect(query.response.status).toBe(400);
    expect(query.response.headers.get("x-sparkpay-request-id")).toMatch(SPARKPAY_REQUEST_ID);
  });

  it("the last answer's id when several answered: dropped closes, then the confirming query", async () => {
    const { response } = await closeOrder(faultRequestNo("reset", uniqueId("X")));
    expect(response.status).toBe(502);
    expect(response.headers.get("x-sparkpay-request-id")).toMatch(SPARKPAY_REQUEST_ID);
  });

  it.each([
    ["SparkPay unreachable", uniqueId("ORDER"), 502, { SPARKPAY_BASE_URL: "https://sparkpay.invalid" }],
    ["an id over 128 characters (not passed on)", faultRequestNo("longid", uniqueId("X")), 200, {}],
  ])("absent when there is none to pass on: %s", async (_name, requestNo, status, settings) => {
    const { response } = await closeOrder(requestNo, { env: settings });
    expect(response.status).toBe(status);
    expect(response.headers.get("x-sparkpay-request-id")).toBeNull();
  });

  it("absent on answers that never reached SparkPay", async () => {
    const refused = await callGateway({ body: JSON.stringify({ request_no: "A-1", merchant_no: MERCHANT }) });
    expect(refused.response.status).toBe(400);
    expect(refused.response.headers.get("x-sparkpay-request-id")).toBeNull();
    const health = await callGateway({ method: "GET", url: "https://gateway.test/healthz" });
    expect(health.response.headers.get("x-sparkpay-request-id")).toBeNull();
  });
});

describe("param names the input at fault", () => {
  it.each([
    ["merchant_no", `https://gateway.test/v1/closes/M-1/${uniqueId("R")}`],
    ["request_no", `https://gateway.test/v1/closes/${MERCHANT}/R-1`],
    ["merchant_no", "https://gateway.test/v4/pay/orders/M-1/R_1"],
  ])("%s in the path (%s)", async (param, url) => {
    const { response } = await callGateway({ method: "GET", url });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_REQUEST", param, doc_url: docUrl("INVALID_REQUEST") });
  });

  it.each([
    ["a string", { close_at: "tomorrow" }],
    ["a fraction", { close_at: 1.5 }],
    ["more than 30 days ahead", { close_at: Math.floor(Date.now() / 1000) + 31 * 86_400 }],
  ])("close_at %s", async (_name, body) => {
    const { response } = await callGateway({
      method: "PUT",
      url: `https://gateway.test/v1/closes/${MERCHANT}/${uniqueId("R")}`,
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_REQUEST", param: "close_at" });
  });

  it("none when no one field is at fault", async () => {
    const { response } = await callGateway({ body: "[]" });
    const body = (await response.json()) as ErrorEnvelope;
    expect(body.code).toBe("INVALID_JSON");
    expect(body).not.toHaveProperty("param");
  });
});

describe("doc_url and the error reference", () => {
  it("every error answer links its code's entry, on the host the caller used", async () => {
    const { response } = await callGateway({ url: "https://pay-gw.example.com/v4/pay/orders/nope" });
    expect(await response.json()).toMatchObject({
      code: "NOT_FOUND",
      doc_url: "https://pay-gw.example.com/docs/errors#NOT_FOUND",
    });
  });

  it("GET /docs/errors needs no key and has an anchor for every gateway code, and one for SparkPay's", async () => {
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/docs/errors",
      headers: { Authorization: "" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'.*style-src 'unsafe-inline'/);
    const html = await response.text();
    expect(html).not.toMatch(/<script/);
    for (const [code, status] of Object.entries(GATEWAY_ERRORS)) {
      expect(html).toMatch(
        new RegExp(
          `<tr id="${code}"><td><a href="#${code}"><code>${code}</code></a></td><td>${status}</td><td>[^<]{12,}`,
        ),
      );
    }
    expect(html).toContain('id="sparkpay-codes"');
    expect(html).toContain("The order&#39;s close job cannot do that now"); // CLOSE_CONFLICT's description, escaped
  });

  it("GET /docs renders the reference from the OpenAPI document, with every route in it", async () => {
    const { response } = await callGateway({
      method: "GET",
      url: "https://gateway.test/docs",
      headers: { Authorization: "" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    // Only this response's nonce runs scripts, and all of the page's scripts carry it; the bundle is pinned.
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    const html = await response.text();
    expect([...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag)).toEqual([
      `<script nonce="${nonce}">`, // zod's settings, before the bundle loads
      `<script src="${SCALAR_BUNDLE}" nonce="${nonce}">`,
      `<script type="text/javascript" nonce="${nonce}">`,
    ]);
    expect(SCALAR_BUNDLE).toMatch(/@scalar\/api-reference@\d+\.\d+\.\d+\//);
    expect(html).toContain("Scalar.createApiReference('#app'");
    // The page is not the document: Scalar loads it from this origin's /openapi.json, which serves it unchanged.
    expect(html).toContain('"url":"/openapi.json"');
    expect(html.length).toBeLessThan(4096);
    const served = await callGateway({
      method: "GET",
      url: "https://gateway.test/openapi.json",
      headers: { Authorization: "" },
    });
    const servedDocument = (await served.response.json()) as typeof document;
    expect(servedDocument).toEqual(document);
    // It holds no "</", so it could still be inlined into a script as JSON (which does not escape "</script>").
    expect(JSON.stringify(document)).not.toContain("</");
    const again = await callGateway({ method: "GET", url: "https://gateway.test/docs" });
    expect(again.response.headers.get("content-security-policy")).not.toContain(nonce);
    const paths = Object.keys(document.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/v4/pay/orders/close",
        "/v4/pay/orders/{merchant_no}/{request_no}",
        "/v1/closes/{merchant_no}/{request_no}",
        "/healthz",
        "/openapi.json",
        "/docs",
        "/docs/errors",
      ]),
    );
    for (const path of paths) expect(JSON.stringify(servedDocument.paths)).toContain(JSON.stringify(path));
  });

  it("API_DOCS=off: no /docs, no /docs/errors, no doc_url; closes unaffected", async () => {
    const off = { API_DOCS: "off" } as Partial<Env>;
    for (const url of ["https://gateway.test/docs", "https://gateway.test/docs/errors"]) {
      const { response } = await callGateway({ method: "GET", url, env: off });
      expect(response.status).toBe(404);
      expect(await response.json()).not.toHaveProperty("doc_url");
    }
    const refused = await callGateway({ body: "[]", env: off });
    expect(await refused.response.json()).not.toHaveProperty("doc_url");
    expect((await closeOrder(uniqueId("ORDER"), { env: off })).response.status).toBe(200);
  });

  it("an unknown API_DOCS value is reported by /healthz (still ready) and means off", async () => {
    const odd = { API_DOCS: "of" } as Partial<Env>;
    const health = await callGateway({ method: "GET", url: "https://gateway.test/healthz", env: odd });
    expect(health.response.status).toBe(200);
    expect(await health.response.json()).toMatchObject({
      status: "ready",
      checks: { API_DOCS: { status: "warning", message: "API_DOCS must be on or off; until fixed, /docs is off." } },
    });
    const docs = await callGateway({ method: "GET", url: "https://gateway.test/docs", env: odd });
    expect(docs.response.status).toBe(404);
    expect(env.API_DOCS).toBe("on");
  });
});
