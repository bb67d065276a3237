import { execFile, spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen.mjs";

// `npm run doctor`, as a person runs it, on fresh keys.
const dir = mkdtempSync(join(tmpdir(), "gw-keys-"));
const _run = (command: string, args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: result.status, out: result.stdout, err: result.stderr };
};
/** The doctor as a child process, as `npm run doctor` runs it. */
const doctor = (envFile: string, env: Record<string, string> = {}, args: string[] = []) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile(
      "node_modules/.bin/tsx",
      ["scripts/doctor.ts", "--env-file", envFile, "--merchant-public-key", join(dir, "merchant_public.pem"), ...args],
      { env: { ...process.env, ...env } },
      (_error, out) => resolve({ code: child.exitCode ?? -1, out }),
    );
  });

/** dotenv, double-quoted with \n escapes, as `npm start` writes .dev.vars. */
const quoted = (pem: string) => `"${pem.trim().replaceAll("\n", "\\n")}"`;
let envFile = "";
let privatePem = "";
const platformPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;

function writeEnv(name: string, settings: Record<string, string>): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join("\n"),
  );
  return path;
}

beforeAll(() => {
  const merchant = generateRsaKeyPair();
  privatePem = merchant.privateKeyPem;
  writeFileSync(join(dir, "merchant_public.pem"), merchant.publicKeyPem);
  envFile = writeEnv("good.env", {
    SPARKPAY_APP_ID: "app_live_0001",
    SPARKPAY_PRIVATE_KEY: quoted(privatePem),
    SPARKPAY_PLATFORM_PUBLIC_KEY: quoted(platformPem),
    GATEWAY_API_KEYS: generateCallerKey(),
  });
}, 30_000);

// Each run starts tsx and reads wrangler.toml with wrangler itself (~1-2 s), so allow for a busy machine.
describe("npm run doctor", { timeout: 30_000 }, () => {
  it("prints all good for the new keys", async () => {
    const result = await doctor(envFile);
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
  ])("names %s precisely", async (_name, planted, exitCode, line) => {
    const result = await doctor(envFile, planted());
    expect(result.out).toMatch(line);
    expect(result.code).toBe(exitCode);
    expect(result.out).not.toContain(privatePem.split("\n")[2]);
  });

  it("checks an environment's own vars and limiters in wrangler.toml", async () => {
    const result = await doctor(
      writeEnv("staging.env", {
        SPARKPAY_PRIVATE_KEY: quoted(privatePem),
        SPARKPAY_PLATFORM_PUBLIC_KEY: quoted(platformPem),
        GATEWAY_API_KEYS: "k".repeat(20),
      }),
      {},
      ["--env", "staging"],
    );
    expect(result.out).toMatch(/wrangler\.toml \[env\.staging\]/);
    expect(result.out).toMatch(/^FAIL {2}SPARKPAY_APP_ID +SPARKPAY_APP_ID is still the placeholder/m);
    expect(result.out).toMatch(/^ok {4}CALLER_RATE_LIMITER/m);
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
