/**
 * The benchmark's SparkPay stand-in (a child process of `npm run bench`): answers every close with one close
 * envelope, every query (GET) with the order CLOSED and every creation with its order's cashier_url, signed afresh
 * with the platform key each time. The gateway refuses a signed answer it has already seen (replay protection), so
 * one answer cannot be reused; signing costs this process the same for every target, so the ratios stay fair. Prints
 * its port on stdout.
 */
import { createPrivateKey, createSign, randomBytes } from "node:crypto";
import { createServer } from "node:http";

const {
  BENCH_PLATFORM_PRIVATE_KEY: platformPem = "",
  BENCH_REQUEST_NO: requestNo = "",
  BENCH_MERCHANT_NO: merchantNo = "",
} = process.env;
const platformKey = createPrivateKey(platformPem);
const order = { request_no: requestNo, merchant_no: merchantNo, merchant_order_no: `MO_${requestNo}` };
const closeBody = JSON.stringify({ code: 0, message: "success", data: order });
const queryBody = JSON.stringify({ code: 0, message: "success", data: { ...order, pay_status: "CLOSED" } });

function signedHeaders(body: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString("hex");
  const signature = createSign("RSA-SHA256").update(`${timestamp}\n${nonce}\n${body}\n`).sign(platformKey, "base64");
  return {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    "Sparkpay-Timestamp": timestamp,
    "Sparkpay-Nonce": nonce,
    "Sparkpay-Signature": signature,
  };
}

/** A creation's answer names the order of its request: the gateway refuses an answer about another order. */
function createdBody(requestBody: string): string {
  const { request_no: created = "", merchant_no: merchant = "" } = JSON.parse(requestBody || "{}");
  const data = { cashier_url: `https://cashier.bench.example/${created}`, request_no: created, merchant_no: merchant };
  return JSON.stringify({ code: 0, message: "success", data });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const creation = req.url === "/v4/pay/cashier";
    const body = creation
      ? createdBody(Buffer.concat(chunks).toString())
      : req.method === "GET"
        ? queryBody
        : closeBody;
    res.writeHead(200, signedHeaders(body));
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : 0);
});
