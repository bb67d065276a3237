/**
 * `npm run test:browser`: the API reference as a person sees it, in headless Chromium (puppeteer-core driving the
 * machine's Chromium, see ./chromium.ts) against the deploy bundle in workerd with its static assets, as wrangler.toml
 * configures them, and the sandbox as SparkPay. Every request every page makes is recorded, and every CSP violation
 * and uncaught error; the last tests check those records. Screenshots land in .ci/out/browser/.
 */
import { mkdirSync } from "node:fs";
import type { Miniflare } from "miniflare";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { createSandbox, SANDBOX_APP_ID } from "../../sandbox/sparkpay-sandbox.mjs";
import { buildAssets } from "../../scripts/build-assets";
import { buildDeployBundle } from "../../scripts/build-bundle";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen";
import { sandboxSettings, startLocalGateway } from "../../scripts/local-gateway";
import openapiDocument from "../../src/openapi.json";
import { launchChromium, requireChromium } from "./chromium";

const SCREENSHOTS = ".ci/out/browser";
const PHONE = { width: 390, height: 844 };

const merchant = generateRsaKeyPair();
const platform = generateRsaKeyPair();
const callerKey = generateCallerKey();
const sandbox = createSandbox({ merchantPublicKey: merchant.publicKeyPem, platformPrivateKey: platform.privateKeyPem });

let mf: Miniflare | undefined;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let origin: string;

/** What the pages did, over the whole run. */
const requests: string[] = [];
const violations: string[] = [];
const pageErrors: string[] = [];

/** A new tab that records its requests, CSP violations (the event and the console's word for it) and errors. */
async function openPage(): Promise<Page> {
  const page = await chromium!.browser.newPage();
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(`console: ${message.text()}`);
  });
  await page.exposeFunction("reportViolation", (violation: string) => violations.push(violation));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { reportViolation: (violation: string) => void }).reportViolation;
      report(`${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return page;
}

/** Relative luminance and contrast ratio, as WCAG 2 defines them, of CSS rgb() colours. */
function contrast(foreground: string, background: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((channel) => {
      const c = Number(channel) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

beforeAll(async () => {
  const executablePath = requireChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  buildAssets();
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const started = await startLocalGateway({
    scriptPath: buildDeployBundle(),
    upstream: (request) => sandbox.handle(request),
    bindings: sandboxSettings({
      appId: SANDBOX_APP_ID,
      merchantPrivateKeyPem: merchant.privateKeyPem,
      platformPublicKeyPem: platform.publicKeyPem,
      callerKey,
    }),
    // The assets exactly as wrangler.toml declares them (directory, binding, run_worker_first, html_handling).
    worker: { assets: workerOptions.assets },
    onStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.resume();
    },
  });
  mf = started.mf;
  origin = started.url;
  chromium = await launchChromium(executablePath);
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await mf?.dispose();
});

const operations = Object.entries(openapiDocument.paths).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, { summary: string }>).map(([method, { summary }]) => ({
    method: method.toUpperCase(),
    path,
    summary,
  })),
);

describe("GET /docs in Chromium", { timeout: 60_000 }, () => {
  it("renders every route of the OpenAPI document, from this origin's files", async () => {
    const page = await openPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${origin}/docs`, { waitUntil: "networkidle0" });
    await page.screenshot({ path: `${SCREENSHOTS}/docs.png` });
    expect(operations.length).toBeGreaterThanOrEqual(9);
    for (const { method, path, summary } of operations) {
      // Scalar draws a section once it is scrolled to; its id ends with METHOD + path. It may swap the placeholder
      // for a new element with the same id, so the section is looked up (and scrolled to) afresh on every try.
      const shown = await page.evaluate(
        async (suffix, summary) => {
          const find = () =>
            [...document.querySelectorAll("[id]")].find((element) => element.id.endsWith(suffix)) as
              | HTMLElement
              | undefined;
          for (let waited = 0; waited < 15_000; waited += 100) {
            const section = find();
            section?.scrollIntoView();
            if (section?.textContent.includes(summary)) return section.textContent;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return find()?.textContent;
        },
        `/${method}${path}`,
        summary,
      );
      expect(shown, `${method} ${path}`).toContain(summary);
    }
    // Once Scalar has drawn the page, the text for when it cannot is gone.
    expect(await page.$("#without-script")).toBeNull();
    await page.close();
  });

  it('"Test Request" with a caller key gets HTTP 200 from this gateway', async () => {
    const page = await openPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${origin}/docs`, { waitUntil: "networkidle0" });
    const answers: Array<{ url: string; status: number; authorization: string | undefined }> = [];
    page.on("response", (response) =>
      answers.push({
        url: response.url(),
        status: response.status(),
        authorization: response.request().headers().authorization,
      }),
    );
    // The first operation, "Close a payment order", with its example body.
    const [testRequest] = await page.$$("xpath/.//button[contains(., 'Test Request')]");
    await testRequest!.scrollIntoView();
    await testRequest!.click();
    const token = await page.waitForSelector('[role=dialog] input[placeholder="Token"]');
    await token!.type(callerKey);
    // Scalar's send button (its accessible text: "Send post request to …"; an operation's name in the dialog's sidebar
    // may also contain "Send"), the visible one, waited for: on a loaded machine it is drawn after the token field.
    let send: Awaited<ReturnType<Page["$"]>> = null;
    for (let waited = 0; !send && waited < 15_000; waited += 100) {
      for (const button of await page.$$("xpath/.//*[@role='dialog']//button[contains(., 'Send post request')]"))
        if (!send && (await button.isVisible())) send = button;
      if (!send) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await send!.click();
    await page.waitForFunction(() => document.querySelector("[role=dialog]")?.textContent?.includes("200 OK"), {
      timeout: 15_000,
    });
    await page.screenshot({ path: `${SCREENSHOTS}/docs-test-request.png` });
    expect(answers.filter((answer) => answer.url.endsWith("/v4/pay/orders/close"))).toEqual([
      { url: `${origin}/v4/pay/orders/close`, status: 200, authorization: `Bearer ${callerKey}` },
    ]);
    await page.close();
  });

  it("shows where the same facts are when JavaScript is off", async () => {
    const page = await openPage();
    await page.setJavaScriptEnabled(false);
    await page.goto(`${origin}/docs`, { waitUntil: "networkidle0" });
    await page.screenshot({ path: `${SCREENSHOTS}/docs-without-javascript.png` });
    const text = await page.evaluate(() => document.body.textContent);
    expect(text).toContain("JavaScript");
    for (const href of ["/openapi.json", "/docs/errors"]) {
      const link = await page.$(`#without-script a[href="${href}"]`);
      expect(await link?.isVisible(), href).toBe(true);
    }
    await page.close();
  });
});

describe("GET /docs/errors in Chromium", { timeout: 60_000 }, () => {
  it.each(["light", "dark"] as const)("fits a 390 px wide phone screen, nothing cut off (%s)", async (scheme) => {
    const page = await openPage();
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    await page.setViewport(PHONE);
    await page.goto(`${origin}/docs/errors#UPSTREAM_SIGNATURE_INVALID`, { waitUntil: "networkidle0" });
    await page.screenshot({ path: `${SCREENSHOTS}/errors-390-${scheme}.png` });
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      beyond: [...document.body.querySelectorAll("*")]
        .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((element) => element.outerHTML.slice(0, 80)),
    }));
    expect(layout.viewport).toBe(PHONE.width);
    expect(layout.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(layout.beyond).toEqual([]);
    await page.close();
  });

  it.each(["light", "dark"] as const)("is readable in the %s colour scheme (WCAG AA contrast)", async (scheme) => {
    const page = await openPage();
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    await page.goto(`${origin}/docs/errors#CLOSE_CONFLICT`, { waitUntil: "networkidle0" });
    const colors = await page.evaluate(() => {
      const style = (selector: string) => getComputedStyle(document.querySelector(selector)!);
      return {
        page: style("body").backgroundColor,
        text: style("body").color,
        link: style("td a").color,
        code: style("td code").color,
        codeBackground: style("td code").backgroundColor,
        target: style("tr:target").backgroundColor,
      };
    });
    const dark = contrast(colors.page, "rgb(0, 0, 0)") < contrast(colors.page, "rgb(255, 255, 255)");
    expect(dark, `background ${colors.page}`).toBe(scheme === "dark");
    expect(contrast(colors.text, colors.page)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.link, colors.page)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.code, colors.codeBackground)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.text, colors.target)).toBeGreaterThanOrEqual(4.5);
    await page.close();
  });
});

describe("what the pages did", () => {
  it("every request stayed on the gateway's origin", () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"))).toEqual([]);
    // The page's own files came from here: Scalar's bundle, the document, the favicon.
    for (const file of ["/standalone.js", "/openapi.json", "/favicon.svg"])
      expect(
        requests.some((url) => url.endsWith(file)),
        file,
      ).toBe(true);
  });

  it("no Content Security Policy violation and no uncaught error", () => {
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
