/**
 * `npm run doctor [-- --env staging|production] [--env-file .dev.vars] [--merchant-public-key FILE]`
 *
 * Checks the gateway's settings offline, with the gateway's own parsing (src/config.ts,
 * src/sparkpay/keys.ts), and names each problem with its fix. Settings come from wrangler.toml
 * (vars and limiters of the chosen environment), then the env file (default .dev.vars), then the
 * process environment. Exit code 0 when nothing is wrong (warnings allowed), 1 otherwise.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { ADVISORY_SETTINGS, loadConfig, RATE_LIMITER_BINDINGS, SETTING_NAMES } from "../src/config";
import type { GatewayEnv } from "../src/env";
import { pairsWithPrivateKey } from "../src/sparkpay/key-pairs";
import { readKeyBlocks } from "../src/sparkpay/keys";

type Verdict = "ok" | "WARN" | "FAIL";
const results: Array<{ verdict: Verdict; setting: string; text: string }> = [];
const say = (verdict: Verdict, setting: string, text: string) => results.push({ verdict, setting, text });

/** dotenv files as wrangler reads them: KEY=value, "double quoted" with \n escapes, 'single quoted' literal. */
function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const pattern = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:\\.|[^"\\])*"|'[^']*'|[^\n#]*)/gm;
  for (const [, key, raw = ""] of text.matchAll(pattern)) {
    const value = raw.trim();
    values[key!] = value.startsWith('"')
      ? value.slice(1, -1).replace(/\\n/g, "\n").replace(/\\"/g, '"')
      : value.startsWith("'")
        ? value.slice(1, -1)
        : value;
  }
  return values;
}

async function main() {
  const { values } = parseArgs({
    options: { env: { type: "string" }, "env-file": { type: "string" }, "merchant-public-key": { type: "string" } },
  });
  const envFile =
    values["env-file"] ??
    (values.env && existsSync(`.dev.vars.${values.env}`) ? `.dev.vars.${values.env}` : ".dev.vars");
  process.env.WRANGLER_LOG ??= "error"; // wrangler's own notices are not the doctor's findings
  const wrangler = unstable_readConfig({ config: "wrangler.toml", env: values.env });
  const fromFile = existsSync(envFile) ? parseDotenv(readFileSync(envFile, "utf8")) : {};
  const settings: Record<string, string | undefined> = { ...(wrangler.vars as Record<string, string>) };
  for (const name of SETTING_NAMES) settings[name] = process.env[name] ?? fromFile[name] ?? settings[name];
  const envSection = values.env ? ` [env.${values.env}]` : "";
  const envFileShown = existsSync(envFile) ? envFile : `(no ${envFile})`;
  console.log(`SparkPay gateway doctor: wrangler.toml${envSection}, ${envFileShown}, environment\n`);

  // The gateway's own checks, with the limiters stubbed: they are checked in wrangler.toml below.
  const stubLimiter = { limit: async () => ({ success: true }) };
  const env = {
    ...settings,
    CALLER_RATE_LIMITER: stubLimiter,
    MERCHANT_RATE_LIMITER: stubLimiter,
  } as unknown as GatewayEnv;
  const logError = console.error;
  console.error = () => {}; // the gateway's "configuration problem" log line; the same findings are printed below
  const { report } = await loadConfig(env).finally(() => (console.error = logError));
  for (const name of SETTING_NAMES) {
    const result = report.checks[name] ?? "ok";
    say(
      result.startsWith("ok") ? "ok" : ADVISORY_SETTINGS.has(name) ? "WARN" : "FAIL",
      name,
      result.startsWith("ok") ? "" : result,
    );
  }
  for (const name of RATE_LIMITER_BINDINGS) {
    if (wrangler.ratelimits.some((limiter: { name: string }) => limiter.name === name)) say("ok", name, "");
    else
      say(
        "FAIL",
        name,
        `${name} is not declared under [[${values.env ? `env.${values.env}.` : ""}ratelimits]] in wrangler.toml.`,
      );
  }

  // What the gateway accepts but a person should still hear about.
  for (const name of ["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY"] as const) {
    if (settings[name]?.includes("\\n")) {
      say(
        "WARN",
        name,
        `${name} has its newlines flattened to a literal \\n. The gateway undoes that, but other tools will not; ` +
          `store the PEM file as it is: \`wrangler secret put ${name} < key.pem\`.`,
      );
    }
  }
  const privateOk = report.checks.SPARKPAY_PRIVATE_KEY === "ok";
  if (
    privateOk &&
    readKeyBlocks("SPARKPAY_PRIVATE_KEY", settings.SPARKPAY_PRIVATE_KEY).some(
      (block) => block.structure === "pkcs1-private",
    )
  ) {
    say(
      "WARN",
      "SPARKPAY_PRIVATE_KEY",
      "SPARKPAY_PRIVATE_KEY is PKCS#1 (BEGIN RSA PRIVATE KEY). The gateway converts it, " +
        "but SparkPay documents PKCS#8; convert it once with `openssl pkey -in key.pem -out key_pkcs8.pem`.",
    );
  }

  // The private key must match what SparkPay has (the swapped-keys check is the gateway's own, above).
  if (privateOk) {
    // Where `npm run keys [-- --env X]` puts it, unless told otherwise.
    const keysFile = values.env ? `keys/${values.env}/merchant_public.pem` : "keys/merchant_public.pem";
    const uploadedFile = values["merchant-public-key"] ?? (existsSync(keysFile) ? keysFile : undefined);
    if (uploadedFile) {
      const uploaded = readFileSync(uploadedFile, "utf8");
      if (pairsWithPrivateKey(settings.SPARKPAY_PRIVATE_KEY, uploaded, "--merchant-public-key"))
        say("ok", "SPARKPAY_PRIVATE_KEY", `matches the merchant public key in ${uploadedFile}.`);
      else
        say(
          "FAIL",
          "SPARKPAY_PRIVATE_KEY",
          `no key in SPARKPAY_PRIVATE_KEY matches the merchant public key in ${uploadedFile}; ` +
            "SparkPay would answer 40000 (signature check failed). " +
            "Store the private key whose public key you uploaded, " +
            "or upload `openssl pkey -in merchant_private.pem -pubout`.",
        );
    }
  }

  // One line per setting: its worst verdict, then every message.
  const width = Math.max(...results.map((r) => r.setting.length));
  const order: Verdict[] = ["FAIL", "WARN", "ok"];
  for (const setting of [...new Set(results.map((r) => r.setting))]) {
    const mine = results.filter((r) => r.setting === setting);
    const worst = order.find((verdict) => mine.some((r) => r.verdict === verdict))!;
    const notes = mine.filter((r) => r.text && (r.verdict === worst || r.verdict !== "ok")).map((r) => r.text);
    console.log(`${worst.padEnd(4)}  ${setting.padEnd(width)}  ${notes.join(`\n${" ".repeat(width + 8)}`)}`.trimEnd());
  }
  const failures = new Set(results.filter((r) => r.verdict === "FAIL").map((r) => r.setting)).size;
  const warnings = new Set(results.filter((r) => r.verdict === "WARN").map((r) => r.setting)).size;
  const warningCount = `${warnings} warning${warnings > 1 ? "s" : ""}`;
  console.log(
    failures === 0
      ? `\nAll good${warnings ? `, with ${warningCount}` : ""}.`
      : `\n${failures} setting${failures > 1 ? "s" : ""} to fix${warnings ? `, ${warningCount}` : ""}.`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
