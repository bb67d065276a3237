/**
 * `npm run test:browser`: the sandbox's checkout page as a customer sees it, in headless Chromium. The order is
 * created through the gateway (the deploy bundle in workerd, with D1 and the Workflows), which answers the sandbox's
 * cashier_url; the browser opens that link from the sandbox served over HTTP, presses Pay, and the order is paid and
 * its notification sent. Screenshots land in .ci/out/browser/.
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveSandbox } from "../../sandbox/server.mjs";
import { createSandbox, SANDBOX_APP_ID, SANDBOX_MERCHANTS } from "../../sandbox/sparkpay-sandbox.mjs";
import { buildDeployBundle } from "../../scripts/build-bundle";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen";
import { freeLoopbackPort } from "../../scripts/lib/ports";
import { sandboxSettings } from "../../scripts/local-gateway";
import { startDurableGateway } from "../../scripts/soak/durable";
import { launchChromium, requireChromium } from "./chromium";

const SCREENSHOTS = ".ci/out/browser";
const MERCHANT = SANDBOX_MERCHANTS[0] as string;
const merchant = generateRsaKeyPair();
const platform = generateRsaKeyPair();
const callerKey = generateCallerKey();
const sandbox = createSandbox({ merchantPublicKey: merchant.publicKeyPem, platformPrivateKey: platform.privateKeyPem });

let server: Server | undefined;
let mf: Miniflare | undefined;
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
let gatewayUrl: string;
let sandboxUrl: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  const executablePath = requireChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const port = await freeLoopbackPort();
  server = await serveSandbox(sandbox, { port });
  sandboxUrl = `http://127.0.0.1:${port}`;
  sandbox.notifier.settings.url = "outbox"; // notifications are kept, not sent: this test reads the counters
  const started = await startDurableGateway({
    scriptPath: buildDeployBundle(),
    sandbox,
    bindings: {
      ...sandboxSettings({
        appId: SANDBOX_APP_ID,
        merchantPrivateKeyPem: merchant.privateKeyPem,
        platformPublicKeyPem: platform.publicKeyPem,
        callerKey,
      }),
      SPARKPAY_BASE_URL: sandboxUrl,
      GATEWAY_PUBLIC_URL: "https://gateway.example.com",
    },
  });
  mf = started.mf;
  gatewayUrl = started.url;
  chromium = await launchChromium(executablePath);
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await mf?.dispose();
  server?.close();
});

async function createOrder(requestNo: string): Promise<string> {
  const response = await fetch(`${gatewayUrl}/v4/pay/cashier`, {
    method: "POST",
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      merchant_no: MERCHANT,
      request_no: requestNo,
      total_amount: "25.00",
      merchant_order_currency: "USDT",
      merchant_order_desc: "Two <concert> tickets",
      redirect_url: "https://shop.example.com/orders/1",
      close_at: Math.floor(Date.now() / 1000) + 3600,
    }),
  });
  expect(response.status).toBe(200);
  const created = (await response.json()) as { data: { cashier_url: string }; close_job: { status: string } };
  expect(created.close_job.status).toBe("scheduled");
  return created.data.cashier_url;
}

describe("the sandbox's checkout page in Chromium", { timeout: 60_000 }, () => {
  it("shows the order the gateway created, and Pay pays it and sends SparkPay's notification", async () => {
    const requestNo = `BROWSER_${Date.now()}`;
    const cashierUrl = await createOrder(requestNo);
    expect(cashierUrl).toBe(`${sandboxUrl}/__sandbox/cashier/${MERCHANT}/${requestNo}`);
    const page = await chromium!.browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(cashierUrl, { waitUntil: "load" });
    const text = (selector: string) => page.$eval(selector, (element) => element.textContent?.trim());
    expect(await text("#status")).toBe("PAYING");
    expect(await text("#amount")).toBe("25.00 USDT");
    expect(await page.$eval("dd:nth-of-type(3)", (element) => element.textContent)).toBe("Two <concert> tickets");
    // Nothing wider than a phone's screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${SCREENSHOTS}/checkout.png` });

    const notifiedBefore = sandbox.notifier.stats.notifications;
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#pay")]);
    expect(await text("#status")).toBe("SUCCESS");
    expect(await text("#done")).toBe("Paid. Thank you.");
    expect(await page.$eval("#back", (link) => link.getAttribute("href"))).toBe("https://shop.example.com/orders/1");
    expect(await page.$("#pay")).toBeNull();
    await page.screenshot({ path: `${SCREENSHOTS}/checkout-paid.png` });
    expect(sandbox.orders.get(`${MERCHANT}/${requestNo.toLowerCase()}`)?.pay_status).toBe("SUCCESS");
    expect(sandbox.notifier.stats.notifications).toBe(notifiedBefore + 1);

    // Paying again changes nothing: the page shows the order as it is.
    await page.reload({ waitUntil: "load" });
    expect(await text("#status")).toBe("SUCCESS");
    await page.close();
  });

  it("answers an unknown order with 404, and no page threw", async () => {
    const page = await chromium!.browser.newPage();
    const response = await page.goto(`${sandboxUrl}/__sandbox/cashier/${MERCHANT}/NO_SUCH_ORDER`);
    expect(response?.status()).toBe(404);
    expect(await page.content()).toContain("No such order");
    // A malformed %-escape in the path names no order either.
    expect((await page.goto(`${sandboxUrl}/__sandbox/cashier/${MERCHANT}/%E0%A4%A`))?.status()).toBe(404);
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
