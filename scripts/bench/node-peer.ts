/**
 * The Node peer for `npm run bench`: the proxy a merchant would otherwise write with node:http and
 * node:crypto. It signs the body the same way (SHA256withRSA over `ts\nnonce\nbody\n`), forwards it
 * over a keep-alive connection, verifies SparkPay's response signature, and relays the answer.
 * Prints its port on stdout.
 */
import { createPrivateKey, createPublicKey, createSign, createVerify, randomBytes } from "node:crypto";
import { Agent, createServer, request } from "node:http";

const env = process.env;
const privateKey = createPrivateKey(env.BENCH_MERCHANT_PRIVATE_KEY ?? "");
const platformKey = createPublicKey(env.BENCH_PLATFORM_PUBLIC_KEY ?? "");
const upstream = new URL(env.BENCH_UPSTREAM ?? "");
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const { request_no, merchant_no } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const body = JSON.stringify({ request_no, merchant_no });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString("hex");
    const signature = createSign("RSA-SHA256").update(`${timestamp}\n${nonce}\n${body}\n`).sign(privateKey, "base64");
    const forward = request(
      upstream,
      {
        method: "POST",
        agent,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          "User-Agent": "merchant-proxy/1",
          "Sparkpay-App-Id": env.BENCH_APP_ID ?? "",
          "Sparkpay-Timestamp": timestamp,
          "Sparkpay-Nonce": nonce,
          "Sparkpay-Signature": signature,
        },
      },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on("data", (chunk) => parts.push(chunk));
        answer.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          const h = answer.headers;
          const ok = createVerify("RSA-SHA256")
            .update(`${h["sparkpay-timestamp"]}\n${h["sparkpay-nonce"]}\n${text}\n`)
            .verify(platformKey, String(h["sparkpay-signature"]), "base64");
          res.writeHead(ok ? 200 : 502, { "Content-Type": "application/json" });
          res.end(ok ? text : '{"code":"BAD_SIGNATURE"}');
        });
      },
    );
    forward.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    forward.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : 0);
});
