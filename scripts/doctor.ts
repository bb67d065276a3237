/**
 * `npm run doctor [-- --env staging|production] [--env-file FILE] [--merchant-public-key FILE] [--vars-only]`
 *
 * Checks the gateway's settings offline, with the gateway's own checks (src/settings/, the same
 * code /healthz runs), and names each problem with its fix. Settings are read exactly as
 * `wrangler dev [--env X] [--env-file FILE]` reads them, with wrangler's own code
 * (unstable_readConfig, unstable_getVarsForDev): the environment's vars from wrangler.toml, then
 * `.dev.vars.<env>` or `.dev.vars` (or the --env-file files) on top. `--vars-only` checks
 * wrangler.toml alone (for a deploy job, where secrets live in Cloudflare, not in files).
 * Exit 0 when nothing is wrong (warnings allowed), 1 when something is, 2 for a usage mistake.
 */
import { existsSync, readFileSync } from "node:fs";
import { experimental_readRawConfig, unstable_getVarsForDev, unstable_readConfig } from "wrangler";
import type { GatewayEnv } from "../src/env";
import { RATE_LIMITER_BINDINGS } from "../src/settings/bindings";
import type { Check } from "../src/settings/check";
import { loadSettings, SECRET_NAMES, SETTING_NAMES } from "../src/settings/report";
import { notifyUrlFor } from "../src/settings/urls";
import { present } from "../src/settings/values";
import { WEBHOOK_SETTINGS, webhooksWanted } from "../src/settings/webhooks";
import { pairsWithPrivateKey } from "../src/sparkpay/key-pairs";
import { readKeyBlocks } from "../src/sparkpay/pem";
import { closeJobsDatabase, databaseProblem } from "./deploy/migrate";
import { isMain, readOptions, runCli, UsageError } from "./lib/cli";

const USAGE =
  "Usage: npm run doctor -- [--env staging|production] [--env-file FILE] [--merchant-public-key FILE] [--vars-only]";
const CONFIG_PATH = "wrangler.toml";

type Verdict = "ok" | "WARN" | "FAIL";
const results: Array<{ verdict: Verdict; setting: string; text: string }> = [];
const say = (verdict: Verdict, setting: string, text: string) => results.push({ verdict, setting, text });
/** A check as the doctor prints it: ok (also when unused), WARN for a warning, FAIL for a problem. */
const sayCheck = (setting: string, check: Check = { status: "ok" }) =>
  check.status === "ok" || check.status === "unused"
    ? say("ok", setting, "")
    : say(check.status === "warning" ? "WARN" : "FAIL", setting, check.message);

/** A usage mistake: one line naming what is valid, then the usage; exit 2. */
function usageError(message: string): never {
  throw new UsageError(message);
}

function readArguments() {
  return readOptions(process.argv.slice(2), {
    env: { type: "string" },
    "env-file": { type: "string", multiple: true },
    "merchant-public-key": { type: "string" },
    "vars-only": { type: "boolean", default: false },
  });
}

async function main() {
  const values = readArguments();
  process.env.WRANGLER_LOG ??= "error"; // wrangler's own notices are not the doctor's findings
  const environments = Object.keys(experimental_readRawConfig({ config: CONFIG_PATH }).rawConfig.env ?? {});
  if (values.env !== undefined && !environments.includes(values.env)) {
    usageError(
      `--env must be one of ${environments.join(", ")} (the environments in ${CONFIG_PATH}); got "${values.env}".`,
    );
  }
  for (const file of [...(values["env-file"] ?? []), values["merchant-public-key"] ?? []].flat()) {
    if (!existsSync(file)) usageError(`${file} does not exist.`);
  }
  if (values["vars-only"] && values["env-file"]) usageError("--vars-only reads wrangler.toml alone; drop --env-file.");

  const wrangler = unstable_readConfig({ config: CONFIG_PATH, env: values.env });
  const bindings = values["vars-only"]
    ? Object.fromEntries(Object.entries(wrangler.vars).map(([name, value]) => [name, { value }]))
    : unstable_getVarsForDev(CONFIG_PATH, values["env-file"], wrangler.vars, values.env, true);
  const settings: Record<string, unknown> = Object.fromEntries(
    Object.entries(bindings).map(([name, binding]) => [name, (binding as { value: unknown }).value]),
  );
  const text = (name: string) => (typeof settings[name] === "string" ? (settings[name] as string) : undefined);
  const envSection = values.env ? ` [env.${values.env}]` : "";
  const devVarsFile = [values.env && `.dev.vars.${values.env}`, ".dev.vars"].find((file) => file && existsSync(file));
  const sources = values["vars-only"]
    ? "vars only (secrets live in Cloudflare)"
    : (values["env-file"]?.join(", ") ?? devVarsFile ?? "(no .dev.vars)");
  console.log(`SparkPay gateway doctor: ${CONFIG_PATH}${envSection}, ${sources}\n`);

  // The gateway's own checks, with the limiters stubbed: they are checked in wrangler.toml below.
  const stubLimiter = { limit: async () => ({ success: true }) };
  const env = {
    ...settings,
    CALLER_RATE_LIMITER: stubLimiter,
    MERCHANT_RATE_LIMITER: stubLimiter,
    READ_RATE_LIMITER: stubLimiter,
  } as unknown as GatewayEnv;
  const { report } = await loadSettings(env);
  for (const name of SETTING_NAMES) {
    if (values["vars-only"] && (SECRET_NAMES as readonly string[]).includes(name)) {
      say("ok", name, "not checked here: a secret, set with `wrangler secret put` (the deploy job checks it exists).");
      continue;
    }
    sayCheck(name, report.checks[name]);
  }
  // The durable closes' webhooks: the URL is a var; the secret, like the others, lives in Cloudflare.
  for (const name of WEBHOOK_SETTINGS) {
    if (values["vars-only"] && name === "CLOSE_WEBHOOK_SECRET" && webhooksWanted(settings))
      say("ok", name, "not checked here: a secret, set with `wrangler secret put` (the deploy job checks it exists).");
    else sayCheck(name, report.checks[name]);
  }

  // Bindings are declared in wrangler.toml, per environment (wrangler does not inherit them).
  const table = (name: string) => `[[${values.env ? `env.${values.env}.` : ""}${name}]]`;
  const workflowDeclared = (binding: string, className: string): [string, boolean, string] => [
    binding,
    wrangler.workflows.some(
      (workflow: { binding: string; class_name: string }) =>
        workflow.binding === binding && workflow.class_name === className,
    ),
    `${table("workflows")} (class_name = "${className}")`,
  ];
  const declared: Array<[string, boolean, string]> = [
    ...RATE_LIMITER_BINDINGS.map((name): [string, boolean, string] => [
      name,
      wrangler.ratelimits.some((limiter: { name: string }) => limiter.name === name),
      table("ratelimits"),
    ]),
    [
      "CLOSE_JOBS_DB",
      wrangler.d1_databases.some((db: { binding: string }) => db.binding === "CLOSE_JOBS_DB"),
      table("d1_databases"),
    ],
    workflowDeclared("CLOSE_WORKFLOW", "CloseWorkflow"),
    workflowDeclared("NOTIFY_WORKFLOW", "NotificationWorkflow"),
    [
      "CLOSE_ROUND_GATE",
      wrangler.durable_objects.bindings.some(
        (binding: { name: string; class_name: string }) =>
          binding.name === "CLOSE_ROUND_GATE" && binding.class_name === "CloseRoundGate",
      ),
      `${table("durable_objects.bindings")} (class_name = "CloseRoundGate")`,
    ],
  ];
  for (const [name, found, where] of declared) {
    // A deploy target's database must exist: the stand-in id only serves local runs and dry runs.
    const standIn =
      name === "CLOSE_JOBS_DB" && found && values.env
        ? databaseProblem(values.env, closeJobsDatabase(values.env))
        : undefined;
    if (standIn) say("FAIL", name, standIn);
    else if (found) say("ok", name, "");
    else say("FAIL", name, `${name} is not declared under ${where} in wrangler.toml.`);
  }

  // Where SparkPay must send its notifications: the one URL to paste into SparkPay's side (orders' notify_url).
  if (report.checks.GATEWAY_PUBLIC_URL?.status === "ok") {
    const notifyUrl = notifyUrlFor(present(text("GATEWAY_PUBLIC_URL")));
    say(
      "ok",
      "GATEWAY_PUBLIC_URL",
      notifyUrl
        ? `SparkPay's notify_url: ${notifyUrl}`
        : "unset: set it to the gateway's public URL to have the notify_url to give SparkPay printed here.",
    );
  }

  // What the gateway accepts but a person should still hear about.
  for (const name of ["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY"] as const) {
    if (text(name)?.includes("\\n")) {
      say(
        "WARN",
        name,
        `${name} has its newlines flattened to a literal \\n. The gateway undoes that, but other tools will not; ` +
          `store the PEM file as it is: \`wrangler secret put ${name} < key.pem\`.`,
      );
    }
  }
  const privateOk = report.checks.SPARKPAY_PRIVATE_KEY?.status === "ok" && !values["vars-only"];
  if (
    privateOk &&
    readKeyBlocks("SPARKPAY_PRIVATE_KEY", text("SPARKPAY_PRIVATE_KEY")).some(
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
      const merchant = { setting: "SPARKPAY_PRIVATE_KEY", pem: text("SPARKPAY_PRIVATE_KEY") };
      if (pairsWithPrivateKey(merchant, { setting: "--merchant-public-key", pem: uploaded }))
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

if (isMain(import.meta.url)) runCli("doctor", USAGE, main);
