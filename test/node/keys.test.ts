import { execFile, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { unstable_getVarsForDev } from "wrangler";
import { parseEnvFile } from "../../scripts/lib/env-file";
import { parseCallerKeys } from "../../src/caller-keys";

// `npm run keys`, as a person runs it, on fresh keys, each in a project of its own (wrangler.toml and
// node_modules, as in the repository), then every printed doctor command run as printed.
const KEYS = join(process.cwd(), "scripts/keys.ts");
const DOCTOR = join(process.cwd(), "scripts/doctor.ts");
const PLACEHOLDER = "replace-with-the-platform-public-key-from-your-sparkpay-dashboard";
/** What `npm start` leaves in .dev.vars: a sandbox setup the doctor must not read for a real Worker. */
const SANDBOX_DEV_VARS = 'SPARKPAY_APP_ID=sandbox_app\nSPARKPAY_PRIVATE_KEY="not a key"\nGATEWAY_API_KEYS=sandbox\n';
const platformPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;

function project(): string {
  const root = mkdtempSync(join(tmpdir(), "gw-keys-"));
  // wrangler.toml as an operator has it after `wrangler d1 create` (docs/operations.md, step 1): real database ids.
  const toml = readFileSync("wrangler.toml", "utf8").replace(
    /00000000-0000-0000-0000-00000000000(\d)/g,
    "5b1c8f0e-7d2a-4e3b-9c4d-1a2b3c4d5e6$1",
  );
  writeFileSync(join(root, "wrangler.toml"), toml);
  symlinkSync(join(process.cwd(), "node_modules"), join(root, "node_modules"));
  writeFileSync(join(root, ".dev.vars"), SANDBOX_DEV_VARS);
  return root;
}

/** `npm run keys -- <args>` in `cwd`. */
const keys = (cwd: string, args: string[]) => {
  const result = spawnSync("node", ["--import", "tsx", KEYS, ...args], { cwd, encoding: "utf8" });
  return { code: result.status, out: result.stdout, err: result.stderr };
};

/** `npm run doctor -- <args>` in `cwd`, exactly as package.json runs it. */
const doctor = (cwd: string, args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile("node", ["--import", "tsx", DOCTOR, "--", ...args], { cwd }, (_error, out) =>
      resolve({ code: child.exitCode ?? -1, out }),
    );
  });

/** The arguments of every `npm run doctor -- …` line printed, in order. */
const printedDoctorRuns = (out: string) =>
  [...out.matchAll(/^ {3}npm run doctor -- (.+)$/gm)].map((match) => match[1]!.split(" "));

/** The command lines printed (indented under their numbered step; a line ending in | goes on on the next). */
const printedCommands = (out: string) =>
  out
    .split("\n")
    .filter((line) => /^ {3,5}(npx |npm |cat |mv |rm |curl )/.test(line))
    .map((line) => line.trim());

/** How docs/keys.md shows what differs from run to run: the printed public key, and a caller id. */
const DOC_PEM = "-----BEGIN PUBLIC KEY-----\n(the public key, as printed)\n-----END PUBLIC KEY-----\n";
const DOC_ID = "<old id>";
/**
 * Expects `out` to end with docs/keys.md's copy of the runbook `name` (the text block between
 * `<!-- runbook: NAME … -->` and `<!-- /runbook -->`), word for word, once the run's own key and id read as the doc's.
 */
function expectDocumentedRunbook(out: string, name: string, run: { publicKeyPem?: string; callerId?: string }) {
  const doc = readFileSync("docs/keys.md", "utf8");
  const section = new RegExp(
    `<!-- runbook: ${name}\\b[^\\n]*-->\\n\`\`\`text\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- /runbook -->`,
  ).exec(doc);
  expect(section, `docs/keys.md has no runbook ${name}`).not.toBeNull();
  const runbook = section![1]!;
  let printed = run.publicKeyPem ? out.replaceAll(run.publicKeyPem, DOC_PEM) : out;
  if (run.callerId) printed = printed.replaceAll(run.callerId, DOC_ID);
  expect(printed.slice(printed.indexOf(runbook.split("\n")[0]!)).trimEnd()).toBe(runbook);
}

/** The env file's settings as wrangler (and so the doctor) reads them: wrangler's own dotenv. */
function settingsAsWranglerReadsThem(root: string, env?: string): Record<string, unknown> {
  const bindings = env
    ? unstable_getVarsForDev(join(root, "wrangler.toml"), undefined, {}, env, true)
    : unstable_getVarsForDev(join(root, "wrangler.toml"), [".dev.vars.top-level"], {}, undefined, true);
  return Object.fromEntries(Object.entries(bindings).map(([name, binding]) => [name, binding.value]));
}

const read = (root: string, path: string) => readFileSync(join(root, path), "utf8");
const mode = (root: string, path: string) => statSync(join(root, path)).mode & 0o777;

/** Step 3 (the platform key pasted between the quotes) and, for the test, an AppID in the env file. */
function pastePlatformKey(root: string, envFile: string) {
  const text = read(root, envFile);
  expect(text).toContain(`SPARKPAY_PLATFORM_PUBLIC_KEY="${PLACEHOLDER}"`);
  writeFileSync(join(root, envFile), `${text.replace(PLACEHOLDER, platformPem.trim())}SPARKPAY_APP_ID=app_test_0001\n`);
}

// Each doctor run starts tsx and reads wrangler.toml with wrangler itself (~2-4 s).
describe("npm run keys: the top-level Worker (npm run deploy)", { timeout: 60_000 }, () => {
  let root = "";
  let output = "";
  let privatePem = "";

  beforeAll(() => {
    root = project();
    const result = keys(root, []);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    output = result.out;
    privatePem = read(root, "keys/merchant_private.pem");
  }, 30_000);

  it("writes a PKCS#8 private key readable only by its owner, the SPKI public key and a caller key", () => {
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(mode(root, "keys/merchant_private.pem")).toBe(0o600);
    expect(read(root, "keys/merchant_public.pem")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(read(root, "keys/gateway_api_key.txt")).toMatch(/^gw_[A-Za-z0-9_-]{16,}\n$/);
    expect(mode(root, "keys/gateway_api_key.txt")).toBe(0o600);
    expect(mode(root, "keys")).toBe(0o700);
  });

  it("writes .dev.vars.top-level (0600) as wrangler reads it, and leaves npm start's .dev.vars alone", () => {
    expect(mode(root, ".dev.vars.top-level")).toBe(0o600);
    expect(read(root, ".dev.vars")).toBe(SANDBOX_DEV_VARS);
    const text = read(root, ".dev.vars.top-level");
    expect(text).toContain('SPARKPAY_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\n'); // real newlines, not \n
    expect(text).not.toContain("\\n");
    const settings = settingsAsWranglerReadsThem(root);
    expect(settings).toEqual({
      SPARKPAY_PRIVATE_KEY: privatePem.trim(),
      SPARKPAY_PLATFORM_PUBLIC_KEY: PLACEHOLDER,
      GATEWAY_API_KEYS: read(root, "keys/gateway_api_key.txt").trim(),
    });
    expect(Object.fromEntries(parseEnvFile(text))).toEqual(settings);
  });

  it("prints the public key to upload and numbered steps for the top-level Worker only", () => {
    expect(output).toContain(read(root, "keys/merchant_public.pem"));
    expect(output).not.toContain(privatePem.split("\n")[1]);
    expect(output).not.toContain(read(root, "keys/gateway_api_key.txt").trim());
    const steps = [...output.matchAll(/^(\d)\. /gm)].map((match) => match[1]);
    expect(steps).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(output).toMatch(/^2\. Set that application's AppID in wrangler.toml, \[vars\]:$/m);
    expect(output).toContain(`in place of\n   ${PLACEHOLDER}\n`);
    expect(printedCommands(output)).toEqual([
      "npm run doctor -- --env-file .dev.vars.top-level --merchant-public-key keys/merchant_public.pem",
      "npx wrangler secret put SPARKPAY_PRIVATE_KEY < keys/merchant_private.pem",
      "npx wrangler secret put SPARKPAY_PLATFORM_PUBLIC_KEY < keys/sparkpay_platform_public.pem",
      "npx wrangler secret put GATEWAY_API_KEYS < keys/gateway_api_key.txt",
      "npm run deploy",
    ]);
  });

  it("prints a doctor command that flags the platform placeholder, then says all good once it is pasted", async () => {
    const [args, ...more] = printedDoctorRuns(output);
    expect(more).toEqual([]);
    const before = await doctor(root, args!);
    expect(before.out).toMatch(/^FAIL +SPARKPAY_PLATFORM_PUBLIC_KEY +.*placeholder/m);
    expect(before.code).toBe(1);
    pastePlatformKey(root, ".dev.vars.top-level");
    const after = await doctor(root, args!);
    expect(after.out).toMatch(/matches the merchant public key in keys\/merchant_public\.pem/);
    expect(after.out).toMatch(/\nAll good\.\n$/);
    expect(after.code).toBe(0);
  });

  it("never replaces existing keys silently", () => {
    const envFile = read(root, ".dev.vars.top-level");
    const again = keys(root, []);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists.*--force/);
    expect(again.err.trimEnd().split("\n")).toHaveLength(1);
    expect(read(root, "keys/merchant_private.pem")).toBe(privatePem);
    expect(read(root, ".dev.vars.top-level")).toBe(envFile);
  });

  it("with --force, makes new keys and keeps the env file's platform key and other settings", () => {
    const forced = keys(root, ["--force"]);
    expect(forced.code).toBe(0);
    const newPrivate = read(root, "keys/merchant_private.pem");
    expect(newPrivate).not.toBe(privatePem);
    expect(mode(root, "keys/merchant_private.pem")).toBe(0o600);
    expect(mode(root, ".dev.vars.top-level")).toBe(0o600);
    expect(settingsAsWranglerReadsThem(root)).toEqual({
      SPARKPAY_PRIVATE_KEY: newPrivate.trim(),
      SPARKPAY_PLATFORM_PUBLIC_KEY: platformPem.trim(),
      GATEWAY_API_KEYS: read(root, "keys/gateway_api_key.txt").trim(),
      SPARKPAY_APP_ID: "app_test_0001",
    });
  });
});

describe("npm run keys -- --env staging, then --rotate and --caller-key", { timeout: 60_000 }, () => {
  let root = "";
  let output = "";
  let privatePem = "";

  beforeAll(() => {
    root = project();
    const result = keys(root, ["--env", "staging"]);
    expect(result.code).toBe(0);
    output = result.out;
    privatePem = read(root, "keys/staging/merchant_private.pem");
  }, 30_000);

  it("writes keys/staging/ and .dev.vars.staging (0600) as wrangler reads it for --env staging", () => {
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(mode(root, "keys/staging/merchant_private.pem")).toBe(0o600);
    expect(read(root, "keys/staging/merchant_public.pem")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(mode(root, "keys/staging/gateway_api_key.txt")).toBe(0o600);
    expect(mode(root, ".dev.vars.staging")).toBe(0o600);
    expect(existsSync(join(root, ".dev.vars.top-level"))).toBe(false);
    expect(existsSync(join(root, "keys/merchant_private.pem"))).toBe(false);
    expect(read(root, ".dev.vars")).toBe(SANDBOX_DEV_VARS);
    expect(settingsAsWranglerReadsThem(root, "staging")).toEqual({
      SPARKPAY_PRIVATE_KEY: privatePem.trim(),
      SPARKPAY_PLATFORM_PUBLIC_KEY: PLACEHOLDER,
      GATEWAY_API_KEYS: read(root, "keys/staging/gateway_api_key.txt").trim(),
    });
  });

  it("prints the steps for staging only", () => {
    expect(output).toContain(read(root, "keys/staging/merchant_public.pem"));
    expect(output).not.toContain(privatePem.split("\n")[1]);
    expect(output).not.toMatch(/production|--env-file|\.dev\.vars\.top-level/);
    expect(output).toMatch(/^2\. Set that application's AppID in wrangler.toml, \[env\.staging\.vars\]:$/m);
    expect(printedCommands(output)).toEqual([
      "npm run doctor -- --env staging --merchant-public-key keys/staging/merchant_public.pem",
      "npx wrangler secret put SPARKPAY_PRIVATE_KEY --env staging < keys/staging/merchant_private.pem",
      "npx wrangler secret put SPARKPAY_PLATFORM_PUBLIC_KEY --env staging < keys/staging/sparkpay_platform_public.pem",
      "npx wrangler secret put GATEWAY_API_KEYS --env staging < keys/staging/gateway_api_key.txt",
      "npm run deploy:staging",
    ]);
  });

  it("prints the steps docs/keys.md shows (its runbook: install), word for word", () => {
    expectDocumentedRunbook(output, "install", { publicKeyPem: read(root, "keys/staging/merchant_public.pem") });
  });

  it("prints a doctor command that reads .dev.vars.staging (not .dev.vars) and says all good", async () => {
    pastePlatformKey(root, ".dev.vars.staging");
    const result = await doctor(root, printedDoctorRuns(output)[0]!);
    expect(result.out).toMatch(/^SparkPay gateway doctor: wrangler.toml \[env.staging\], .dev.vars.staging$/m);
    expect(result.out).toMatch(/\nAll good\.\n$/);
    expect(result.code).toBe(0);
  });

  describe("--rotate", () => {
    let rotation = "";
    let callerKeys = "";

    beforeAll(() => {
      callerKeys = settingsAsWranglerReadsThem(root, "staging").GATEWAY_API_KEYS as string;
      const result = keys(root, ["--rotate", "--env", "staging"]);
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      rotation = result.out;
    }, 30_000);

    it("writes the next key beside the current one, and the env file with current then next", () => {
      const nextPem = read(root, "keys/staging/merchant_private.next.pem");
      expect(nextPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(nextPem).not.toBe(privatePem);
      expect(mode(root, "keys/staging/merchant_private.next.pem")).toBe(0o600);
      expect(read(root, "keys/staging/merchant_public.next.pem")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(read(root, "keys/staging/merchant_private.pem")).toBe(privatePem);
      expect(mode(root, ".dev.vars.staging")).toBe(0o600);
      expect(settingsAsWranglerReadsThem(root, "staging")).toEqual({
        SPARKPAY_PRIVATE_KEY: `${privatePem.trim()}\n${nextPem.trim()}`,
        SPARKPAY_PLATFORM_PUBLIC_KEY: platformPem.trim(),
        GATEWAY_API_KEYS: callerKeys,
        SPARKPAY_APP_ID: "app_test_0001",
      });
    });

    it("prints the rotation runbook's steps, for staging only", () => {
      expect(rotation).toContain(read(root, "keys/staging/merchant_public.next.pem"));
      expect(rotation).not.toContain(read(root, "keys/staging/merchant_private.next.pem").split("\n")[1]);
      expect(rotation).not.toMatch(/production|--env-file/);
      expect(rotation).toMatch(/other stored key, in either direction/);
      expect(rotation).toContain('"merchant_keys": {"configured": 2, "last_accepted": 2}');
      expect(printedCommands(rotation)).toEqual([
        "cat keys/staging/merchant_private.pem keys/staging/merchant_private.next.pem |",
        "npx wrangler secret put SPARKPAY_PRIVATE_KEY --env staging",
        "npm run doctor -- --env staging --merchant-public-key keys/staging/merchant_public.pem",
        "curl -s https://sparkpay-edge-gateway-staging.<your-subdomain>.workers.dev/healthz   # or your own route",
        "npm run doctor -- --env staging --merchant-public-key keys/staging/merchant_public.next.pem",
        "npx wrangler secret put SPARKPAY_PRIVATE_KEY --env staging < keys/staging/merchant_private.next.pem",
        "mv keys/staging/merchant_private.pem keys/staging/merchant_private.old.pem",
        "mv keys/staging/merchant_public.pem keys/staging/merchant_public.old.pem",
        "mv keys/staging/merchant_private.next.pem keys/staging/merchant_private.pem",
        "mv keys/staging/merchant_public.next.pem keys/staging/merchant_public.pem",
      ]);
    });

    it("prints the runbook docs/keys.md shows (its runbook: rotate), word for word", () => {
      expectDocumentedRunbook(rotation, "rotate", {
        publicKeyPem: read(root, "keys/staging/merchant_public.next.pem"),
      });
    });

    it("prints doctor commands that say all good against the current and against the next public key", async () => {
      const [current, next] = await Promise.all(printedDoctorRuns(rotation).map((args) => doctor(root, args)));
      expect(current!.out).toMatch(/matches the merchant public key in keys\/staging\/merchant_public\.pem/);
      expect(current!.out).toMatch(/\nAll good\.\n$/);
      expect(next!.out).toMatch(/matches the merchant public key in keys\/staging\/merchant_public\.next\.pem/);
      expect(next!.out).toMatch(/\nAll good\.\n$/);
    });

    it("refuses a second rotation while one is under way", () => {
      const nextPem = read(root, "keys/staging/merchant_private.next.pem");
      const again = keys(root, ["--rotate", "--env", "staging"]);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/merchant_private\.next\.pem already exists.*--force/);
      expect(read(root, "keys/staging/merchant_private.next.pem")).toBe(nextPem);
    });

    it("needs the current key", () => {
      const result = keys(project(), ["--rotate", "--env", "production"]);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^keys: keys\/production\/merchant_private\.pem does not exist.*--env production/);
      expect(result.err.trimEnd().split("\n")).toHaveLength(1);
    });
  });

  describe("--caller-key", () => {
    let result = { code: 0 as number | null, out: "", err: "" };
    let old = "";

    beforeAll(() => {
      old = settingsAsWranglerReadsThem(root, "staging").GATEWAY_API_KEYS as string;
      result = keys(root, ["--caller-key", "--env", "staging"]);
    });

    it("makes one new caller key and writes old,new to the env file and to 0600 files", async () => {
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      const newKey = read(root, "keys/staging/gateway_api_key.new.txt").trim();
      expect(newKey).toMatch(/^gw_[A-Za-z0-9_-]{32}$/);
      expect(read(root, "keys/staging/gateway_api_keys.old-new.txt")).toBe(`${old},${newKey}\n`);
      expect(read(root, "keys/staging/gateway_api_keys.new.txt")).toBe(`${newKey}\n`);
      for (const file of ["gateway_api_key.new.txt", "gateway_api_keys.old-new.txt", "gateway_api_keys.new.txt"]) {
        expect(mode(root, `keys/staging/${file}`)).toBe(0o600);
      }
      expect(mode(root, ".dev.vars.staging")).toBe(0o600);
      const settings = settingsAsWranglerReadsThem(root, "staging");
      expect(settings.GATEWAY_API_KEYS).toBe(`${old},${newKey}`);
      expect(settings.SPARKPAY_APP_ID).toBe("app_test_0001");
      expect((await parseCallerKeys(settings.GATEWAY_API_KEYS as string)).map((key) => key.key)).toEqual([old, newKey]);
    });

    it("prints the old,new step, the move (old key's logged id), the new step, the leaked-key case", async () => {
      const [oldId] = await parseCallerKeys(old);
      const newKey = read(root, "keys/staging/gateway_api_key.new.txt").trim();
      expect(result.out).not.toContain(old);
      expect(result.out).not.toContain(newKey);
      expect(result.out).not.toMatch(/production|--env-file/);
      expect(result.out).toContain(
        `watch the logs' \`caller\` field\n   (npx wrangler tail --env staging, or Workers Logs) ` +
          `until the old id ${oldId!.id} no longer appears.`,
      );
      expect(result.out).toMatch(/^A leaked key: remove it at once.*run step 3 now/m);
      expect(printedCommands(result.out)).toEqual([
        "npx wrangler secret put GATEWAY_API_KEYS --env staging < keys/staging/gateway_api_keys.old-new.txt",
        "npx wrangler secret put GATEWAY_API_KEYS --env staging < keys/staging/gateway_api_keys.new.txt",
        "mv keys/staging/gateway_api_keys.new.txt keys/staging/gateway_api_key.txt",
        "rm keys/staging/gateway_api_keys.old-new.txt keys/staging/gateway_api_key.new.txt",
      ]);
    });

    it("prints the runbook docs/keys.md shows (its runbook: caller-key), word for word", async () => {
      const [oldId] = await parseCallerKeys(old);
      expectDocumentedRunbook(result.out, "caller-key", { callerId: oldId!.id });
    });

    it("refuses a second one while one is under way", () => {
      const envFile = read(root, ".dev.vars.staging");
      const again = keys(root, ["--caller-key", "--env", "staging"]);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/gateway_api_key\.new\.txt already exists.*--force/);
      expect(read(root, ".dev.vars.staging")).toBe(envFile);
    });
  });
});

describe("npm run keys -- --caller-key with several keys", () => {
  const scoped = "gw_aaaaaaaaaaaaaaaaaaaaaaaa";
  const other = "gw_bbbbbbbbbbbbbbbbbbbbbbbb";
  let root = "";

  beforeAll(() => {
    root = project();
    writeFileSync(join(root, ".dev.vars.production"), `GATEWAY_API_KEYS=${scoped}:M1|M2,${other}\nLOG_LEVEL=debug\n`);
  });

  it("asks which one to replace, by the id the logs show", async () => {
    const ids = (await parseCallerKeys(`${scoped},${other}`)).map((key) => key.id);
    const result = keys(root, ["--caller-key", "--env", "production"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`holds 2 keys (ids ${ids.join(", ")}): name the one to replace with --replace ID`);
    expect(existsSync(join(root, "keys/production/gateway_api_key.new.txt"))).toBe(false);
  });

  it("replaces that one, the new key acting for the same merchants, the others kept", async () => {
    const [scopedId] = await parseCallerKeys(scoped);
    const result = keys(root, ["--caller-key", "--env", "production", "--replace", scopedId!.id]);
    expect(result.code).toBe(0);
    const newKey = read(root, "keys/production/gateway_api_key.new.txt").trim();
    expect(read(root, "keys/production/gateway_api_keys.old-new.txt")).toBe(
      `${scoped}:M1|M2,${other},${newKey}:M1|M2\n`,
    );
    expect(read(root, "keys/production/gateway_api_keys.new.txt")).toBe(`${newKey}:M1|M2,${other}\n`);
    const settings = settingsAsWranglerReadsThem(root, "production");
    expect(settings.GATEWAY_API_KEYS).toBe(`${scoped}:M1|M2,${other},${newKey}:M1|M2`);
    expect(settings.LOG_LEVEL).toBe("debug");
    expect(mode(root, ".dev.vars.production")).toBe(0o600);
    expect(result.out).not.toMatch(/staging/);
  });
});

describe("npm run keys: usage mistakes", () => {
  it.each([
    [["--env", "qa"], /^keys: --env must be one of staging, production .*got "qa"\.$/],
    [["--env", "staging", "--bogus"], /^keys: Unknown option '--bogus'\.$/],
    [["--rotate", "--caller-key"], /^keys: --rotate or --caller-key, not both\.$/],
    [["staging"], /^keys: Unexpected argument 'staging'\.$/],
    [["--replace", "0123456789ab"], /^keys: --replace goes with --caller-key\.$/],
  ])("%j: one line naming the mistake, then the usage; exit 2, nothing written", (args, message) => {
    const root = project();
    const result = keys(root, args);
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    const [line, usage, ...more] = result.err.trimEnd().split("\n");
    expect(line).toMatch(message);
    expect(usage).toMatch(/^Usage: npm run keys -- \[--env staging\|production\] /);
    expect(more).toEqual([]);
    expect(existsSync(join(root, "keys"))).toBe(false);
  });
});

describe("the files npm run keys writes", () => {
  it("keep every other setting of the env file as it is, or nothing is written", () => {
    const root = project();
    const envFile = 'GATEWAY_API_KEYS=gw_aaaaaaaaaaaaaaaaaaaaaaaa\nSPARKPAY_APP_ID="app_${HOME}"\n';
    writeFileSync(join(root, ".dev.vars.staging"), envFile);
    const result = keys(root, ["--caller-key", "--env", "staging"]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^keys: SPARKPAY_APP_ID holds a character .* fix it by hand\.\n$/);
    expect(read(root, ".dev.vars.staging")).toBe(envFile);
    expect(existsSync(join(root, "keys"))).toBe(false);
  });

  it("are git-ignored", () => {
    const paths = [
      ".dev.vars.top-level",
      ".dev.vars.staging",
      ".dev.vars.production",
      "keys/merchant_private.pem",
      "keys/staging/merchant_private.next.pem",
      "keys/production/gateway_api_keys.old-new.txt",
    ];
    const result = spawnSync("git", ["check-ignore", "--no-index", ...paths], { encoding: "utf8" });
    expect(result.stdout.trim().split("\n")).toEqual(paths);
  });
});
