// @ts-check
/**
 * `npm run keys [-- --env staging|production] [--out DIR] [--force]`
 * Creates the merchant RSA-2048 key pair (PKCS#8 private, SPKI public) and a caller key with
 * node:crypto alone, writes them to a git-ignored folder, and prints the public key to upload to
 * SparkPay and the exact `wrangler secret put` commands.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { generateCallerKey, generateRsaKeyPair } from "./lib/keygen.mjs";

const ENVIRONMENTS = ["staging", "production"];
const { values } = parseArgs({
  options: { env: { type: "string" }, out: { type: "string" }, force: { type: "boolean", default: false } },
});
if (values.env && !ENVIRONMENTS.includes(values.env)) {
  console.error(`--env must be one of ${ENVIRONMENTS.join(", ")} (as in wrangler.toml).`);
  process.exit(1);
}
const dir = values.out ?? join("keys", values.env ?? "");
const files = {
  privateKey: join(dir, "merchant_private.pem"),
  publicKey: join(dir, "merchant_public.pem"),
  callerKey: join(dir, "gateway_api_key.txt"),
};
if (existsSync(files.privateKey) && !values.force) {
  console.error(
    `${files.privateKey} already exists. Keys are not replaced silently: pass --force, or --out another folder.`,
  );
  process.exit(1);
}

const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
mkdirSync(dir, { recursive: true, mode: 0o700 });
writeFileSync(files.privateKey, privateKeyPem, { mode: 0o600 });
writeFileSync(files.publicKey, publicKeyPem);
writeFileSync(files.callerKey, `${generateCallerKey()}\n`, { mode: 0o600 });

const show = (/** @type {string} */ path) => {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith("..") ? shown : path;
};
const targets = values.env ? [values.env] : [undefined, ...ENVIRONMENTS];
const flag = (/** @type {string | undefined} */ env) => (env ? ` --env ${env}` : "");
const wrote =
  `Wrote ${show(files.privateKey)} (PKCS#8, keep it secret), ` +
  `${show(files.publicKey)} (SPKI) and ${show(files.callerKey)}.`;
const ownApplication = values.env
  ? ""
  : " (each environment should have its own SparkPay application and keys: `npm run keys -- --env staging`)";
console.log(`${wrote}

1. Upload this public key to SparkPay (merchant dashboard, API keys) for the application whose
   AppID is SPARKPAY_APP_ID${values.env ? ` in [env.${values.env}]` : ""}:

${publicKeyPem}
2. Store the secrets in the Worker${ownApplication}:
`);
for (const env of targets) {
  console.log(`   # ${env ?? "top level (npm run deploy)"}`);
  console.log(`   npx wrangler secret put SPARKPAY_PRIVATE_KEY${flag(env)} < ${show(files.privateKey)}`);
  console.log(
    `   npx wrangler secret put SPARKPAY_PLATFORM_PUBLIC_KEY${flag(env)} < sparkpay_platform_public.pem` +
      "   # from your SparkPay dashboard",
  );
  console.log(`   npx wrangler secret put GATEWAY_API_KEYS${flag(env)} < ${show(files.callerKey)}\n`);
}
console.log(`3. Check everything offline before deploying:
   npm run doctor -- --merchant-public-key ${show(files.publicKey)}${flag(values.env)}`);
