// @ts-check
/**
 * The benchmark's SparkPay stand-in (a child process of `npm run bench`): answers every request with
 * one close envelope, signed with the platform key once a minute, so it does no crypto per request
 * and costs every target the same. Prints its port on stdout.
 */
import { createSign, randomBytes } from "node:crypto";
import { createServer } from "node:http";

const {
  BENCH_PLATFORM_PRIVATE_KEY: platformKey = "",
  BENCH_REQUEST_NO: requestNo = "",
  BENCH_MERCHANT_NO: merchantNo = "",
} = process.env;
const body = JSON.stringify({
  code: 0,
  message: "success",
  data: { request_no: requestNo, merchant_no: merchantNo, merchant_order_no: `MO_${requestNo}` },
});

/** @type {Record<string, string>} */
let headers = {};
function resign() {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString("hex");
  const signature = createSign("RSA-SHA256").update(`${timestamp}\n${nonce}\n${body}\n`).sign(platformKey, "base64");
  headers = {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    "Sparkpay-Timestamp": timestamp,
    "Sparkpay-Nonce": nonce,
    "Sparkpay-Signature": signature,
  };
}
resign();
setInterval(resign, 60_000).unref();

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : 0);
});
