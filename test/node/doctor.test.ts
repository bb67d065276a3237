import { execFile } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen";

// `npm run doctor`, as a person runs it, on fresh keys.
const dir = mkdtempSync(join(tmpdir(), "gw-doctor-"));
const DOCTOR = join(process.cwd(), "scripts/doctor.ts");

/** The doctor as a child process, exactly as `npm run doctor -- <args>` runs it, in `cwd`. */
const runDoctor = (args: string[], cwd = process.cwd()) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const child = execFile("node", ["--import", "tsx", DOCTOR, "--", ...args], { cwd }, (_error, out, err) =>
      resolve({ code: child.exitCode ?? -1, out, err }),
    );
  });

let envCount = 0;
/** The doctor on the good settings with `overrides`, written to an env file as an operator would. */
const doctor = (overrides: Record<string, string> = {}, args: string[] = []) =>
  runDoctor([
    "--env-file",
    writeEnv(`settings${envCount++}.env`, { ...goodSettings, ...overrides }),
    "--merchant-public-key",
    join(dir, "merchant_public.pem"),
    ...args,
  ]);

/** dotenv, double-quoted with \n escapes, as `npm start` writes .dev.vars. */
const quoted = (pem: string) => `"${pem.trim().replaceAll("\n", "\\n")}"`;
let goodSettings: Record<string, string> = {};
let privatePem = "";
const platformPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;

function writeEnv(name: string, settings: Record<string, string>): string {
  return writeEnvAt(join(dir, name), settings);
}

/** A dotenv file; a PEM with real newlines goes in double quotes, as dotenv reads multi-line values. */
function writeEnvAt(path: string, settings: Record<string, string>): string {
  const line = ([key, value]: [string, string]) =>
    value.includes("\n") && !value.startsWith('"') ? `${key}="${value}"` : `${key}=${value}`;
  writeFileSync(path, Object.entries(settings).map(line).join("\n"));
  return path;
}

beforeAll(() => {
  const merchant = generateRsaKeyPair();
  privatePem = merchant.privateKeyPem;
  writeFileSync(join(dir, "merchant_public.pem"), merchant.publicKeyPem);
  goodSettings = {
    SPARKPAY_APP_ID: "app_live_0001",
    SPARKPAY_PRIVATE_KEY: quoted(privatePem),
    SPARKPAY_PLATFORM_PUBLIC_KEY: quoted(platformPem),
    GATEWAY_API_KEYS: generateCallerKey(),
  };
}, 30_000);

// Each run starts tsx and reads wrangler.toml with wrangler itself (~1-2 s), so allow for a busy machine.
describe("npm run doctor", { timeout: 30_000 }, () => {
  it("prints all good for the new keys", async () => {
    const result = await doctor();
    expect(result.out).toMatch(/matches the merchant public key/);
    expect(result.out).toMatch(/\nAll good\.\n$/);
    expect(result.out).not.toMatch(/^(FAIL|WARN)/m);
    expect(result.code).toBe(0);
  });

  it.each([
    [
      "a PKCS#1 private key",
      () => ({ SPARKPAY_PRIVATE_KEY: pkcs1() }),
      0,
      /^WARN {2}SPARKPAY_PRIVATE_KEY +SPARKPAY_PRIVATE_KEY is PKCS#1 \(BEGIN RSA PRIVATE KEY\).*openssl pkey/m,
    ],
    [
      "swapped keys (the platform setting holds our own public key)",
      () => ({ SPARKPAY_PLATFORM_PUBLIC_KEY: readFileSync(join(dir, "merchant_public.pem"), "utf8") }),
      1,
      new RegExp(
        "^FAIL {2}SPARKPAY_PLATFORM_PUBLIC_KEY +" +
          "SPARKPAY_PLATFORM_PUBLIC_KEY is the public half of your own SPARKPAY_PRIVATE_KEY",
        "m",
      ),
    ],
    [
      "the private key in the platform setting",
      () => ({ SPARKPAY_PLATFORM_PUBLIC_KEY: privatePem }),
      1,
      /^FAIL {2}SPARKPAY_PLATFORM_PUBLIC_KEY +SPARKPAY_PLATFORM_PUBLIC_KEY \(key 1\) holds a private key/m,
    ],
    [
      "flattened newlines",
      () => ({ SPARKPAY_PRIVATE_KEY: privatePem.trim().replaceAll("\n", "\\n") }),
      0,
      /^WARN {2}SPARKPAY_PRIVATE_KEY +SPARKPAY_PRIVATE_KEY has its newlines flattened to a literal \\n/m,
    ],
    [
      "an http base URL",
      () => ({ SPARKPAY_BASE_URL: "http://api.sparkpay.top" }),
      1,
      /^FAIL {2}SPARKPAY_BASE_URL +SPARKPAY_BASE_URL must be an https:\/\/ URL/m,
    ],
    [
      "a private key SparkPay does not know",
      () => ({ SPARKPAY_PRIVATE_KEY: otherPrivate() }),
      1,
      /^FAIL {2}SPARKPAY_PRIVATE_KEY +no key in SPARKPAY_PRIVATE_KEY matches the merchant public key .* 40000/m,
    ],
    [
      "a malformed caller key",
      () => ({ GATEWAY_API_KEYS: "short" }),
      1,
      /^FAIL {2}GATEWAY_API_KEYS +GATEWAY_API_KEYS entry 1 is malformed/m,
    ],
    [
      "the placeholder AppID",
      () => ({ SPARKPAY_APP_ID: "replace-with-your-sparkpay-app-id" }),
      1,
      /^FAIL {2}SPARKPAY_APP_ID +SPARKPAY_APP_ID is still the placeholder/m,
    ],
    [
      "a webhook URL over plain http",
      () => ({ CLOSE_WEBHOOK_URL: "http://hooks.example.com/sparkpay", CLOSE_WEBHOOK_SECRET: "s".repeat(40) }),
      1,
      /^FAIL {2}CLOSE_WEBHOOK_URL +CLOSE_WEBHOOK_URL must be an https:\/\/ URL/m,
    ],
    [
      "a webhook URL without its secret",
      () => ({ CLOSE_WEBHOOK_URL: "https://hooks.example.com/sparkpay" }),
      1,
      /^FAIL {2}CLOSE_WEBHOOK_SECRET +CLOSE_WEBHOOK_SECRET is not set/m,
    ],
  ])("names %s precisely", async (_name, planted, exitCode, line) => {
    const result = await doctor(planted());
    expect(result.out).toMatch(line);
    expect(result.code).toBe(exitCode);
    expect(result.out).not.toContain(privatePem.split("\n")[2]);
  });

  it("checks an environment's own vars and limiters in wrangler.toml", async () => {
    const { SPARKPAY_APP_ID: _appId, ...withoutAppId } = goodSettings;
    const result = await runDoctor([
      "--env",
      "staging",
      "--env-file",
      writeEnv("staging.env", { ...withoutAppId, GATEWAY_API_KEYS: "k".repeat(20) }),
    ]);
    expect(result.out).toMatch(/wrangler\.toml \[env\.staging\]/);
    expect(result.out).toMatch(/^FAIL {2}SPARKPAY_APP_ID +SPARKPAY_APP_ID is still the placeholder/m);
    expect(result.out).toMatch(/^ok {4}CALLER_RATE_LIMITER/m);
    // A deploy target's database must exist: wrangler.toml's stand-in id is refused, with the command that makes one.
    expect(result.out).toMatch(
      /^FAIL {2}CLOSE_JOBS_DB +CLOSE_JOBS_DB's database_id in \[env\.staging\] is still the stand-in .*`npx wrangler d1 create sparkpay-close-jobs-staging`/m,
    );
  });
});

describe("npm run doctor: settings read as wrangler reads them", { timeout: 30_000 }, () => {
  /** A project folder of its own: wrangler.toml and the given dotenv files, as an operator has them. */
  function project(
    files: Record<string, Record<string, string>>,
    toml = readFileSync("wrangler.toml", "utf8"),
  ): string {
    const root = mkdtempSync(join(tmpdir(), "gw-project-"));
    writeFileSync(join(root, "wrangler.toml"), toml);
    symlinkSync(join(process.cwd(), "node_modules"), join(root, "node_modules"));
    for (const [name, settings] of Object.entries(files)) writeEnvAt(join(root, name), settings);
    return root;
  }

  it(".dev.vars overrides wrangler.toml's vars, plain settings included", async () => {
    const root = project({ ".dev.vars": { ...goodSettings, SPARKPAY_BASE_URL: "http://api.sparkpay.top" } });
    const result = await runDoctor([], root);
    expect(result.out).toMatch(/^SparkPay gateway doctor: wrangler\.toml, \.dev\.vars$/m);
    expect(result.out).toMatch(/^FAIL {2}SPARKPAY_BASE_URL +SPARKPAY_BASE_URL must be an https:\/\/ URL/m);
    expect(result.out).toMatch(/^ok {4}SPARKPAY_APP_ID/m); // from .dev.vars, over the placeholder
  });

  it("with --env, .dev.vars.<env> is read instead of .dev.vars, over that environment's vars", async () => {
    const root = project({
      ".dev.vars": { ...goodSettings, SPARKPAY_BASE_URL: "http://api.sparkpay.top" },
      ".dev.vars.staging": { ...goodSettings, SPARKPAY_TIMEOUT_MS: "fast" },
    });
    const result = await runDoctor(["--env", "staging"], root);
    expect(result.out).toMatch(/wrangler\.toml \[env\.staging\], \.dev\.vars\.staging/);
    expect(result.out).toMatch(/^ok {4}SPARKPAY_BASE_URL/m);
    expect(result.out).toMatch(/^FAIL {2}SPARKPAY_TIMEOUT_MS +SPARKPAY_TIMEOUT_MS must be a whole number/m);
    expect(result.code).toBe(1);
  });

  it("names a durable-close binding an environment does not declare, and a webhook secret --vars-only cannot see", async () => {
    const toml = readFileSync("wrangler.toml", "utf8");
    const withoutD1 = toml
      .replace(/\[\[env\.staging\.d1_databases\]\][^[]*/, "")
      .replace(/\[\[env\.staging\.durable_objects\.bindings\]\][^[]*/, "");
    expect(withoutD1).not.toMatch(/env\.staging\.(d1_databases|durable_objects)/);
    const root = project(
      {},
      withoutD1.replace(
        /(\[env\.staging\.vars\][^[]*?)CLOSE_WEBHOOK_URL = ""/,
        '$1CLOSE_WEBHOOK_URL = "https://hooks.example.com/sparkpay"',
      ),
    );
    const result = await runDoctor(["--env", "staging", "--vars-only"], root);
    expect(result.out).toMatch(
      /^FAIL {2}CLOSE_JOBS_DB +CLOSE_JOBS_DB is not declared under \[\[env\.staging\.d1_databases\]\] in wrangler\.toml\./m,
    );
    expect(result.out).toMatch(/^ok {4}CLOSE_WORKFLOW/m);
    expect(result.out).toMatch(
      /^FAIL {2}CLOSE_ROUND_GATE +CLOSE_ROUND_GATE is not declared under \[\[env\.staging\.durable_objects\.bindings\]\]/m,
    );
    expect(result.out).toMatch(/^ok {4}CLOSE_WEBHOOK_URL/m);
    expect(result.out).toMatch(/^ok {4}CLOSE_WEBHOOK_SECRET +not checked here: a secret/m);
    expect(result.code).toBe(1);
  });

  it("refuses the example values of .dev.vars.example", async () => {
    const result = await runDoctor(["--env-file", ".dev.vars.example"]);
    expect(result.out).toMatch(/^FAIL {2}GATEWAY_API_KEYS +GATEWAY_API_KEYS is still the placeholder/m);
    expect(result.out).not.toMatch(/All good/);
    expect(result.code).toBe(1);
  });

  it("--vars-only checks an environment's wrangler.toml alone, for a deploy job", async () => {
    const result = await runDoctor(["--env", "production", "--vars-only"]);
    expect(result.out).toMatch(/vars only \(secrets live in Cloudflare\)/);
    expect(result.out).toMatch(/^FAIL {2}SPARKPAY_APP_ID +SPARKPAY_APP_ID is still the placeholder/m);
    expect(result.out).toMatch(/^ok {4}GATEWAY_API_KEYS +not checked here: a secret/m);
    expect(result.code).toBe(1);
  });
});

describe("npm run doctor: usage mistakes are one line naming the valid choices, exit 2", { timeout: 30_000 }, () => {
  it.each([
    [
      ["--env", "stagin"],
      /^doctor: --env must be one of staging, production \(the environments in wrangler\.toml\); got "stagin"\.$/m,
    ],
    [["--env-file", "no-such.env"], /^doctor: no-such\.env does not exist\.$/m],
    [["--merchant-public-key", "nope.pem"], /^doctor: nope\.pem does not exist\.$/m],
    [["--verbose"], /^doctor: Unknown option '--verbose'/m],
  ])("%j", async (args, line) => {
    const result = await runDoctor(args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(line);
    expect(result.err).toMatch(/^Usage: npm run doctor -- /m);
    expect(result.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.out).toBe("");
  });
});

function pkcs1(): string {
  return createPrivateKey(privatePem).export({ type: "pkcs1", format: "pem" }) as string;
}

function otherPrivate(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}
