/**
 * Crypto floor for `npm run bench`: one RSA-2048 sign and one verify per request, and the forward:
 * the work the gateway cannot avoid. Also `/crypto?op=sign|verify&n=N` runs N operations, to measure
 * the crypto limit inside workerd.
 */
const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const encoder = new TextEncoder();
let keys;

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function importKeys(env) {
  keys ??= {
    merchant: await crypto.subtle.importKey("pkcs8", fromBase64(env.MERCHANT_PKCS8_BASE64), ALGORITHM, false, ["sign"]),
    platform: await crypto.subtle.importKey("spki", fromBase64(env.PLATFORM_SPKI_BASE64), ALGORITHM, false, ["verify"]),
  };
  return keys;
}

export default {
  async fetch(request, env) {
    const { merchant, platform } = await importKeys(env);
    const url = new URL(request.url);
    if (url.pathname === "/crypto") {
      const n = Number(url.searchParams.get("n"));
      const message = encoder.encode(`1700000000\nnonce\n${"x".repeat(64)}\n`);
      const signature = await crypto.subtle.sign(ALGORITHM, merchant, message);
      const platformSignature = fromBase64(env.PLATFORM_SAMPLE_SIGNATURE);
      const platformMessage = encoder.encode(env.PLATFORM_SAMPLE_MESSAGE);
      for (let i = 0; i < n; i++) {
        if (url.searchParams.get("op") === "sign") await crypto.subtle.sign(ALGORITHM, merchant, message);
        else await crypto.subtle.verify(ALGORITHM, platform, platformSignature, platformMessage);
      }
      return new Response(String(signature.byteLength));
    }
    const body = await request.text();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = crypto.randomUUID().replaceAll("-", "");
    const signature = await crypto.subtle.sign(
      ALGORITHM,
      merchant,
      encoder.encode(`${timestamp}\n${nonce}\n${body}\n`),
    );
    const upstream = await fetch(env.UPSTREAM, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Sparkpay-Timestamp": timestamp,
        "Sparkpay-Nonce": nonce,
        "Sparkpay-Signature": btoa(String.fromCharCode(...new Uint8Array(signature))),
      },
      body,
    });
    const text = await upstream.text();
    const h = upstream.headers;
    const ok = await crypto.subtle.verify(
      ALGORITHM,
      platform,
      fromBase64(h.get("Sparkpay-Signature")),
      encoder.encode(`${h.get("Sparkpay-Timestamp")}\n${h.get("Sparkpay-Nonce")}\n${text}\n`),
    );
    return new Response(ok ? text : '{"code":"BAD_SIGNATURE"}', {
      status: ok ? 200 : 502,
      headers: { "Content-Type": "application/json" },
    });
  },
};
