/**
 * The env file `npm run keys` writes for the doctor (`.dev.vars.<env>`, `.dev.vars.top-level`): the three secrets
 * first, then every other setting the file held, as it was.
 */
import { existsSync, readFileSync } from "node:fs";
import { type EnvSetting, formatEnvFile } from "../lib/env-file";
import type { Target } from "./target";

/** What the doctor flags until the operator pastes SparkPay's key (the gateway refuses `replace-with-`). */
export const PLATFORM_PLACEHOLDER = "replace-with-the-platform-public-key-from-your-sparkpay-dashboard";
const CALLER_PLACEHOLDER = "replace-with-your-current-gateway-api-keys";
const PRIVATE_PLACEHOLDER = "replace-with-your-merchant-private-key";

/**
 * The env file's settings after this run: each secret from `updates`, else the file, else the key files, else a
 * placeholder the doctor flags; then every other setting the file held.
 */
export function envSettings(
  target: Target,
  previous: Map<string, string> | undefined,
  updates: Record<string, string>,
): EnvSetting[] {
  const fromFile = (name: string) =>
    existsSync(target.file(name)) ? readFileSync(target.file(name), "utf8").trim() : undefined;
  const pick = (name: string, fallback: () => string | undefined, placeholder = "") =>
    updates[name] ?? previous?.get(name) ?? fallback() ?? placeholder;
  const secrets = {
    SPARKPAY_PRIVATE_KEY: pick("SPARKPAY_PRIVATE_KEY", () => fromFile("merchant_private.pem"), PRIVATE_PLACEHOLDER),
    SPARKPAY_PLATFORM_PUBLIC_KEY: pick("SPARKPAY_PLATFORM_PUBLIC_KEY", () => undefined, PLATFORM_PLACEHOLDER),
    GATEWAY_API_KEYS: pick("GATEWAY_API_KEYS", () => fromFile("gateway_api_key.txt"), CALLER_PLACEHOLDER),
  };
  const settings: EnvSetting[] = [
    [
      "SPARKPAY_PRIVATE_KEY",
      secrets.SPARKPAY_PRIVATE_KEY,
      "Merchant private key, PKCS#8 PEM (during a rotation: the current key, then the next one).",
    ],
    [
      "SPARKPAY_PLATFORM_PUBLIC_KEY",
      secrets.SPARKPAY_PLATFORM_PUBLIC_KEY,
      "SparkPay's platform public key, from your SparkPay dashboard: its PEM text between the quotes.",
    ],
    ["GATEWAY_API_KEYS", secrets.GATEWAY_API_KEYS, "Caller keys, comma-separated (Authorization: Bearer <key>)."],
  ];
  const others = [...(previous ?? [])].filter(([name]) => !(name in secrets));
  for (const [index, [name, value]] of others.entries()) {
    settings.push([name, value, index === 0 ? "Other settings, kept as they were." : undefined]);
  }
  return settings;
}

/**
 * The env file's text (checked to read back as written): made before anything is written, so a refusal leaves
 * every file as it was.
 */
export function envFileText(target: Target, settings: EnvSetting[]): string {
  const doctor = `npm run doctor -- ${target.doctorSource}`;
  return formatEnvFile(
    [
      `Secrets of ${target.title}, written by \`npm run keys\`. Git-ignored, mode 0600.`,
      `Read as they are by \`${doctor}\` and \`wrangler dev ${target.doctorSource}\`.`,
      `Cloudflare holds the real secrets: \`npx wrangler secret put NAME${target.flag} < file\`.`,
      "Values are in double quotes; PEM lines stay on their own lines.",
    ],
    settings,
  );
}

/** Placeholders still in the env file, each with what to do about it. */
export function placeholderNotes(target: Target, settings: EnvSetting[]): string[] {
  return settings
    .filter(([, value]) => value.includes("replace-with-"))
    .map(
      ([name]) =>
        `   - ${name} in ${target.envFile} is a placeholder: put the real value there ` +
        "(the doctor flags it until then).",
    );
}
