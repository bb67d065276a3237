/**
 * `npm run keys [-- --env X]`: the first merchant key pair and caller key for one Worker, the env file the doctor
 * reads, and the steps that load them. The steps' text is also docs/keys.md's (test/node/keys.test.ts keeps them
 * equal).
 */
import { mkdirSync } from "node:fs";
import { readEnvFile, writePrivateFile } from "../lib/env-file";
import { generateCallerKey, generateRsaKeyPair } from "../lib/keygen";
import { refuseExisting, wrote } from "./files";
import { envFileText, envSettings, PLATFORM_PLACEHOLDER } from "./settings";
import { shown, type Target } from "./target";

/** The steps, in order, that take the new keys to SparkPay and into the Worker. */
export function installRunbook(
  target: Target,
  p: { privateKey: string; publicKey: string; callerKey: string; platformKey: string },
  publicKeyPem: string,
  platformKept: boolean,
): string {
  const kept = platformKept
    ? `\n   (${target.envFile} already holds the platform key it had: keep it if it is still SparkPay's.)`
    : "";
  return `1. Upload this public key (${p.publicKey}) to SparkPay (merchant dashboard, API keys), for
   ${target.application}:

${publicKeyPem}
2. Set that application's AppID in wrangler.toml, ${target.varsSection}:
   SPARKPAY_APP_ID = "<the AppID SparkPay shows>"

3. Save SparkPay's platform public key (SparkPay dashboard) as ${p.platformKey}, and paste the same PEM
   text into ${target.envFile} between the double quotes of SPARKPAY_PLATFORM_PUBLIC_KEY, in place of
   ${PLATFORM_PLACEHOLDER}
   (its lines stay as they are). The doctor flags SPARKPAY_PLATFORM_PUBLIC_KEY until then.${kept}

4. Check everything offline; expect "All good":
   npm run doctor -- ${target.doctorSource} --merchant-public-key ${p.publicKey}

5. Store the three secrets in the Worker:
   npx wrangler secret put SPARKPAY_PRIVATE_KEY${target.flag} < ${p.privateKey}
   npx wrangler secret put SPARKPAY_PLATFORM_PUBLIC_KEY${target.flag} < ${p.platformKey}
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${p.callerKey}

6. Deploy:
   ${target.deploy}`;
}

/** Writes the keys and the env file (refusing to replace any without --force); returns what to print. */
export function install(target: Target, force: boolean): string {
  const files = {
    privateKey: target.file("merchant_private.pem"),
    publicKey: target.file("merchant_public.pem"),
    callerKey: target.file("gateway_api_key.txt"),
  };
  refuseExisting(
    [files.privateKey, files.publicKey, files.callerKey, target.envFile],
    force,
    "Keys and env files are not replaced silently: pass --force to replace them with new ones " +
      "(the env file keeps its platform key and other settings), or --out DIR for the keys. " +
      `To rotate a key instead: \`npm run keys -- --rotate${target.flag}\` or \`--caller-key\`.`,
  );
  const previous = readEnvFile(target.envFile);
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const callerKey = generateCallerKey();
  const envText = envFileText(
    target,
    envSettings(target, previous, { SPARKPAY_PRIVATE_KEY: privateKeyPem.trim(), GATEWAY_API_KEYS: callerKey }),
  );
  mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  writePrivateFile(files.privateKey, privateKeyPem, { replace: force });
  writePrivateFile(files.publicKey, publicKeyPem, { replace: force, mode: 0o644 });
  writePrivateFile(files.callerKey, `${callerKey}\n`, { replace: force });
  writePrivateFile(target.envFile, envText, { replace: force });

  const previousPlatform = previous?.get("SPARKPAY_PLATFORM_PUBLIC_KEY");
  const platformKept = !!previousPlatform && !previousPlatform.includes("replace-with-");
  const other = target.env
    ? ""
    : "\n\nStaging and production each have their own keys: run `npm run keys -- --env staging` (or production).";
  const p = {
    privateKey: shown(files.privateKey),
    publicKey: shown(files.publicKey),
    callerKey: shown(files.callerKey),
    platformKey: shown(target.file("sparkpay_platform_public.pem")),
  };
  const listing = wrote(target, [
    [p.privateKey, "merchant private key (PKCS#8, mode 0600): keep it secret"],
    [p.publicKey, "its public key (SPKI), for SparkPay"],
    [p.callerKey, "a caller key (mode 0600)"],
    [target.envFile, "the three secrets, as `npm run doctor` reads them (git-ignored, mode 0600)"],
  ]);
  return `${listing}${other}\n\nThen, in order:\n\n${installRunbook(target, p, publicKeyPem, platformKept)}`;
}
