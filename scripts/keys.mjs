// @ts-check
/**
 * Key tools for each step, for ONE Worker: the top-level one (`npm run deploy`) without --env, or
 * [env.staging] / [env.production] with `--env`. node:crypto only.
 *
 *   npm run keys [-- --env staging|production]           first install: merchant key pair + caller key
 *   npm run keys -- --rotate [--env staging|production]  the next merchant key, beside the current one
 *   npm run keys -- --caller-key [--env …] [--replace ID] one new caller key, to replace the current one
 *   (each also takes --out DIR, the keys folder, default keys/<env> or keys/, and --force)
 *
 * Keys go to a git-ignored folder; each run also writes the env file `npm run doctor` reads as it is
 * (`.dev.vars.<env>`, or `.dev.vars.top-level`, which leaves `npm start`'s `.dev.vars` alone), mode 0600,
 * and prints the steps, in order, each a command or a precise action. Nothing existing is replaced
 * without --force. Exit 0 done, 1 refused (nothing written), 2 usage mistake.
 */
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { formatEnvFile, readEnvFile, writePrivateFile } from "./lib/env-file.mjs";
import { generateCallerKey, generateRsaKeyPair } from "./lib/keygen.mjs";

const ENVIRONMENTS = ["staging", "production"];
const USAGE =
  "npm run keys -- [--env staging|production] [--rotate | --caller-key [--replace ID]] [--out DIR] [--force]";
/** What the doctor flags until the operator pastes SparkPay's key (src/settings/values.ts refuses `replace-with-`). */
const PLATFORM_PLACEHOLDER = "replace-with-the-platform-public-key-from-your-sparkpay-dashboard";
const CALLER_PLACEHOLDER = "replace-with-your-current-gateway-api-keys";
const PRIVATE_PLACEHOLDER = "replace-with-your-merchant-private-key";

/** A usage mistake: one line, exit 2. */
class UsageError extends Error {}
/** Something the tool will not do as things are: one message, exit 1, nothing written. */
class Refusal extends Error {}

/** @typedef {ReturnType<typeof targetFor>} Target */

/** @param {string | undefined} env */
function targetFor(env, out = join("keys", env ?? "")) {
  const dir = out;
  return {
    env,
    /** ` --env X`, or nothing for the top level: every printed command names this target only. */
    flag: env ? ` --env ${env}` : "",
    dir,
    file: (/** @type {string} */ name) => join(dir, name),
    envFile: env ? `.dev.vars.${env}` : ".dev.vars.top-level",
    /** How the doctor reads that env file: `.dev.vars.<env>` is its default for --env. */
    doctorSource: env ? `--env ${env}` : "--env-file .dev.vars.top-level",
    varsSection: env ? `[env.${env}.vars]` : "[vars]",
    deploy: env ? `npm run deploy:${env}` : "npm run deploy",
    keysCommand: env ? `npm run keys -- --env ${env}` : "npm run keys",
    title: env ? `[env.${env}] (npm run deploy:${env})` : "the top-level Worker (npm run deploy)",
    application: env ? `the SparkPay application you use for ${env}` : "the SparkPay application this Worker uses",
  };
}

/** A path as the operator types it: relative to here when inside, quoted for the shell when needed. */
function shown(/** @type {string} */ path) {
  const inside = relative(process.cwd(), path);
  const text = inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** "Wrote …" and one aligned line per file: its path, then what it is. */
function wrote(/** @type {Target} */ target, /** @type {Array<[string, string] | false>} */ rows) {
  const present = rows.filter((row) => row !== false);
  const width = Math.max(...present.map(([path]) => path.length));
  return [
    `Wrote, for ${target.title} only:`,
    ...present.map(([path, what]) => `  ${path.padEnd(width)}  ${what}`),
  ].join("\n");
}

/** The Worker's workers.dev address, from its name in wrangler.toml, for the health check. */
function healthUrl(/** @type {Target} */ target) {
  const toml = existsSync("wrangler.toml") ? readFileSync("wrangler.toml", "utf8") : "";
  const section = target.env
    ? new RegExp(`^\\[env\\.${target.env}\\][^\\n]*\\n([\\s\\S]*?)(?=^\\[|$(?![\\s\\S]))`, "m").exec(toml)?.[1]
    : /^([\s\S]*?)(?=^\[)/m.exec(toml)?.[1];
  const name = /^name\s*=\s*"([^"]+)"/m.exec(section ?? "")?.[1];
  return name ? `https://${name}.<your-subdomain>.workers.dev/healthz` : "https://<your gateway>/healthz";
}

/** The caller id the gateway logs (`caller` field): the first 6 bytes of the key's SHA-256, in hex. */
function callerId(/** @type {string} */ key) {
  return createHash("sha256").update(key).digest().subarray(0, 6).toString("hex");
}

/** Refuses when any of `paths` exists, unless --force. */
function refuseExisting(/** @type {string[]} */ paths, /** @type {boolean} */ force, /** @type {string} */ why) {
  const existing = paths.filter((path) => existsSync(path)).map(shown);
  if (existing.length === 0 || force) return;
  const others = existing.length > 1 ? ` (so do ${existing.slice(1).join(", ")})` : "";
  throw new Refusal(`${existing[0]} already exists${others}. ${why}`);
}

/**
 * The env file's settings after this run: the three secrets first (from `updates`, else the file,
 * else the key files, else a placeholder the doctor flags), then every other setting the file held.
 * @param {Target} target
 * @param {Map<string, string> | undefined} previous
 * @param {Record<string, string>} updates
 * @returns {Array<[string, string, string?]>}
 */
function envSettings(target, previous, updates) {
  const fromFile = (/** @type {string} */ name) =>
    existsSync(target.file(name)) ? readFileSync(target.file(name), "utf8").trim() : undefined;
  const pick = (/** @type {string} */ name, /** @type {() => string | undefined} */ fallback, placeholder = "") =>
    updates[name] ?? previous?.get(name) ?? fallback() ?? placeholder;
  const secrets = {
    SPARKPAY_PRIVATE_KEY: pick("SPARKPAY_PRIVATE_KEY", () => fromFile("merchant_private.pem"), PRIVATE_PLACEHOLDER),
    SPARKPAY_PLATFORM_PUBLIC_KEY: pick("SPARKPAY_PLATFORM_PUBLIC_KEY", () => undefined, PLATFORM_PLACEHOLDER),
    GATEWAY_API_KEYS: pick("GATEWAY_API_KEYS", () => fromFile("gateway_api_key.txt"), CALLER_PLACEHOLDER),
  };
  /** @type {Array<[string, string, string?]>} */
  const settings = [
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
 * The env file's text (checked to read back as written): made before anything is written, so a
 * refusal leaves every file as it was.
 * @param {Target} target
 * @param {Array<[string, string, string?]>} settings
 */
function envFileText(target, settings) {
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
function placeholderNotes(/** @type {Target} */ target, /** @type {Array<[string, string, string?]>} */ settings) {
  return settings
    .filter(([, value]) => value.includes("replace-with-"))
    .map(
      ([name]) =>
        `   - ${name} in ${target.envFile} is a placeholder: put the real value there ` +
        "(the doctor flags it until then).",
    );
}

/** Reads a PEM private key file, or refuses naming it. */
function readPrivateKey(/** @type {string} */ path) {
  const pem = readFileSync(path, "utf8");
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch {
    throw new Refusal(`${shown(path)} is not a private key node:crypto can read (PEM, unencrypted).`);
  }
}

/** `npm run keys [-- --env X]`: the first merchant key pair and caller key, and the steps to load them. */
function install(/** @type {Target} */ target, /** @type {boolean} */ force) {
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

  const platformFile = target.file("sparkpay_platform_public.pem");
  const previousPlatform = previous?.get("SPARKPAY_PLATFORM_PUBLIC_KEY");
  const platformKept = !!previousPlatform && !previousPlatform.includes("replace-with-");
  const other = target.env
    ? ""
    : "\n\nStaging and production each have their own keys: run `npm run keys -- --env staging` (or production).";
  const listing = wrote(target, [
    [shown(files.privateKey), "merchant private key (PKCS#8, mode 0600): keep it secret"],
    [shown(files.publicKey), "its public key (SPKI), for SparkPay"],
    [shown(files.callerKey), "a caller key (mode 0600)"],
    [target.envFile, "the three secrets, as `npm run doctor` reads them (git-ignored, mode 0600)"],
  ]);
  console.log(`${listing}${other}

Then, in order:

1. Upload this public key (${shown(files.publicKey)}) to SparkPay (merchant dashboard, API keys), for
   ${target.application}:

${publicKeyPem}
2. Set that application's AppID in wrangler.toml, ${target.varsSection}:
   SPARKPAY_APP_ID = "<the AppID SparkPay shows>"

3. Save SparkPay's platform public key (SparkPay dashboard) as ${shown(platformFile)}, and paste the same PEM
   text into ${target.envFile} between the double quotes of SPARKPAY_PLATFORM_PUBLIC_KEY, in place of
   ${PLATFORM_PLACEHOLDER}
   (its lines stay as they are). The doctor flags SPARKPAY_PLATFORM_PUBLIC_KEY until then.${
     platformKept
       ? `\n   (${target.envFile} already holds the platform key it had: keep it if it is still SparkPay's.)`
       : ""
   }

4. Check everything offline; expect "All good":
   npm run doctor -- ${target.doctorSource} --merchant-public-key ${shown(files.publicKey)}

5. Store the three secrets in the Worker:
   npx wrangler secret put SPARKPAY_PRIVATE_KEY${target.flag} < ${shown(files.privateKey)}
   npx wrangler secret put SPARKPAY_PLATFORM_PUBLIC_KEY${target.flag} < ${shown(platformFile)}
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${shown(files.callerKey)}

6. Deploy:
   ${target.deploy}`);
}

/** `npm run keys -- --rotate [--env X]`: the next merchant key beside the current one, and the runbook. */
function rotate(/** @type {Target} */ target, /** @type {boolean} */ force) {
  const current = { privateKey: target.file("merchant_private.pem"), publicKey: target.file("merchant_public.pem") };
  const next = {
    privateKey: target.file("merchant_private.next.pem"),
    publicKey: target.file("merchant_public.next.pem"),
  };
  const old = {
    privateKey: target.file("merchant_private.old.pem"),
    publicKey: target.file("merchant_public.old.pem"),
  };
  if (!existsSync(current.privateKey)) {
    throw new Refusal(
      `${shown(current.privateKey)} does not exist: --rotate makes the next key beside the current one. ` +
        `Put the current key there (or name its folder with --out DIR); for a first key run \`${target.keysCommand}\`.`,
    );
  }
  refuseExisting(
    [next.privateKey, next.publicKey],
    force,
    "A rotation is under way: finish it (its step 6 moves these files), or pass --force to make another next key.",
  );
  refuseExisting(
    [old.privateKey, old.publicKey],
    force,
    "It is the key of an earlier rotation, kept until that one was done: delete it, or pass --force.",
  );
  const { pem: currentPem, key: currentKey } = readPrivateKey(current.privateKey);
  const previous = readEnvFile(target.envFile);
  const stored = previous?.get("SPARKPAY_PRIVATE_KEY");
  const storedOther = stored !== undefined && !stored.includes("replace-with-") && stored.trim() !== currentPem.trim();
  if (storedOther && !force) {
    throw new Refusal(
      `SPARKPAY_PRIVATE_KEY in ${target.envFile} is not the key in ${shown(current.privateKey)}; --rotate would ` +
        "replace it with that key and the next one. Pass --force to do so.",
    );
  }
  const wroteCurrentPublic = !existsSync(current.publicKey);
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const settings = envSettings(target, previous, {
    SPARKPAY_PRIVATE_KEY: `${currentPem.trim()}\n${privateKeyPem.trim()}`,
  });
  const envText = envFileText(target, settings);
  if (wroteCurrentPublic) {
    const currentPublic = /** @type {string} */ (createPublicKey(currentKey).export({ type: "spki", format: "pem" }));
    writePrivateFile(current.publicKey, currentPublic, { mode: 0o644 });
  }
  writePrivateFile(next.privateKey, privateKeyPem, { replace: force });
  writePrivateFile(next.publicKey, publicKeyPem, { replace: force, mode: 0o644 });
  writePrivateFile(target.envFile, envText, { replace: previous !== undefined });

  const notes = placeholderNotes(target, settings);
  const p = {
    current: shown(current.privateKey),
    currentPublic: shown(current.publicKey),
    next: shown(next.privateKey),
    nextPublic: shown(next.publicKey),
    old: shown(old.privateKey),
    oldPublic: shown(old.publicKey),
  };
  const listing = wrote(target, [
    [p.next, "the next merchant private key (PKCS#8, mode 0600)"],
    [p.nextPublic, "its public key (SPKI), for SparkPay"],
    wroteCurrentPublic && [p.currentPublic, "the current key's public key (it was missing)"],
    [target.envFile, "SPARKPAY_PRIVATE_KEY = the current key, then the next one; other settings kept (mode 0600)"],
  ]);
  console.log(`${listing}
${notes.length ? `\nBefore step 2:\n${notes.join("\n")}\n` : ""}
Merchant key rotation, in order, with no failed request. On SparkPay's 40000 (signature check failed)
the gateway signs the same request again with the other stored key, in either direction, and keeps the one
SparkPay accepts: so the order of the two keys is safe, and so is SparkPay going back to the old key.

1. Store current + next (requests are still signed with the current key, the first one):
   cat ${p.current} ${p.next} |
     npx wrangler secret put SPARKPAY_PRIVATE_KEY${target.flag}

2. Check offline against the CURRENT public key (still what SparkPay has); expect "All good":
   npm run doctor -- ${target.doctorSource} --merchant-public-key ${p.currentPublic}

3. Upload the new public key (${p.nextPublic}) to SparkPay (merchant dashboard, API keys), for
   ${target.application}:

${publicKeyPem}
4. Check: after a close through the gateway,
   curl -s ${healthUrl(target)}   # or your own route
   shows "merchant_keys": {"configured": 2, "last_accepted": 2}; and this says SPARKPAY_PRIVATE_KEY matches:
   npm run doctor -- ${target.doctorSource} --merchant-public-key ${p.nextPublic}

5. Store the new key only:
   npx wrangler secret put SPARKPAY_PRIVATE_KEY${target.flag} < ${p.next}

6. Promote the files, keeping the old key until the rotation is done:
   mv ${p.current} ${p.old}
   mv ${p.currentPublic} ${p.oldPublic}
   mv ${p.next} ${p.current}
   mv ${p.nextPublic} ${p.currentPublic}
   and in ${target.envFile} delete the first PEM block of SPARKPAY_PRIVATE_KEY (the old key). Delete the .old.pem
   files once the new key has served for a while and SparkPay will not go back to the old one.`);
}

/** `npm run keys -- --caller-key [--env X] [--replace ID]`: one new caller key, and the steps to switch to it. */
function rotateCallerKey(
  /** @type {Target} */ target,
  /** @type {boolean} */ force,
  /** @type {string | undefined} */ replaceId,
) {
  const files = {
    current: target.file("gateway_api_key.txt"),
    newKey: target.file("gateway_api_key.new.txt"),
    oldNew: target.file("gateway_api_keys.old-new.txt"),
    newOnly: target.file("gateway_api_keys.new.txt"),
  };
  refuseExisting(
    [files.newKey, files.oldNew, files.newOnly],
    force,
    "A caller-key rotation is under way: finish it (its step 4 removes these files), " +
      "or pass --force to make another new key.",
  );
  const previous = readEnvFile(target.envFile);
  const fromEnvFile = previous?.get("GATEWAY_API_KEYS");
  const currentValue =
    fromEnvFile ?? (existsSync(files.current) ? readFileSync(files.current, "utf8").trim() : undefined);
  const source = fromEnvFile !== undefined ? target.envFile : shown(files.current);
  if (!currentValue?.trim()) {
    throw new Refusal(
      `No current GATEWAY_API_KEYS: neither ${target.envFile} nor ${shown(files.current)} holds it, and Cloudflare ` +
        `does not show secrets back. Add GATEWAY_API_KEYS="<the value you stored>" to ${target.envFile} and run again.`,
    );
  }
  if (currentValue.includes("replace-with-")) {
    throw new Refusal(`GATEWAY_API_KEYS in ${source} is still a placeholder: put the value you stored there first.`);
  }
  const entries = currentValue
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [key = "", ...scope] = entry.split(":");
      return { entry, key, scope: scope.length ? scope.join(":") : undefined, id: callerId(key) };
    });
  const ids = entries.map((entry) => entry.id).join(", ");
  let old = entries.length === 1 && replaceId === undefined ? entries[0] : undefined;
  if (replaceId !== undefined) {
    old = entries.find((entry) => entry.id === replaceId.toLowerCase());
    if (!old) throw new Refusal(`No key in GATEWAY_API_KEYS (${source}) has the id ${replaceId}; its ids: ${ids}.`);
  }
  if (!old) {
    throw new Refusal(
      `GATEWAY_API_KEYS in ${source} holds ${entries.length} keys (ids ${ids}): name the one to replace with ` +
        "--replace ID (the id the logs' caller field shows).",
    );
  }
  const newKey = generateCallerKey();
  // The new key may act for exactly the merchants the old one could.
  const newEntry = old.scope === undefined ? newKey : `${newKey}:${old.scope}`;
  const oldNew = [...entries.map((entry) => entry.entry), newEntry].join(",");
  const newOnly = entries.map((entry) => (entry === old ? newEntry : entry.entry)).join(",");
  const settings = envSettings(target, previous, { GATEWAY_API_KEYS: oldNew });
  const envText = envFileText(target, settings);
  mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  writePrivateFile(files.newKey, `${newKey}\n`, { replace: force });
  writePrivateFile(files.oldNew, `${oldNew}\n`, { replace: force });
  writePrivateFile(files.newOnly, `${newOnly}\n`, { replace: force });
  writePrivateFile(target.envFile, envText, { replace: previous !== undefined });

  const scope = old.scope === undefined ? "" : ` (for the same merchants as the old one: ${old.scope})`;
  const notes = placeholderNotes(target, settings);
  const f = {
    current: shown(files.current),
    newKey: shown(files.newKey),
    oldNew: shown(files.oldNew),
    newOnly: shown(files.newOnly),
  };
  const listing = wrote(target, [
    [f.newKey, `the new caller key${scope}, id ${callerId(newKey)}: give it to the callers (mode 0600)`],
    [f.oldNew, `GATEWAY_API_KEYS with the old key (id ${old.id}) and the new one (mode 0600)`],
    [f.newOnly, "GATEWAY_API_KEYS without the old key (mode 0600)"],
    [target.envFile, "GATEWAY_API_KEYS = the old and the new key; other settings kept (mode 0600)"],
  ]);
  console.log(`${listing}${notes.length ? `\n\nStill to do in the env file (for the doctor):\n${notes.join("\n")}` : ""}

Caller-key rotation, in order, with no failed request:

1. Accept the old and the new key (old,new):
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${f.oldNew}

2. Move every caller to the new key (${f.newKey}); watch the logs' \`caller\` field
   (npx wrangler tail${target.flag}, or Workers Logs) until the old id ${old.id} no longer appears.

3. Accept the new key only:
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${f.newOnly}

4. Tidy up: in ${target.envFile} set GATEWAY_API_KEYS to the text of ${f.newOnly}, then
   mv ${f.newOnly} ${f.current}
   rm ${f.oldNew} ${f.newKey}

A leaked key: remove it at once, without waiting for step 2: run step 3 now (callers still on the old key get 401
until they use the new one). Nothing else changes.`);
}

function readArguments() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        env: { type: "string" },
        out: { type: "string" },
        force: { type: "boolean", default: false },
        rotate: { type: "boolean", default: false },
        "caller-key": { type: "boolean", default: false },
        replace: { type: "string" },
      },
    }).values;
  } catch (error) {
    // node:util's message, first sentence only (the rest is about positional arguments).
    const message = (error instanceof Error ? error.message : String(error)).split(". ")[0]?.replace(/\.$/, "");
    throw new UsageError(`${message}. Usage: ${USAGE}`);
  }
}

function main() {
  const values = readArguments();
  if (values.env !== undefined && !ENVIRONMENTS.includes(values.env)) {
    throw new UsageError(
      `--env must be one of ${ENVIRONMENTS.join(", ")} (leave it out for the top-level Worker); got "${values.env}".`,
    );
  }
  if (values.rotate && values["caller-key"])
    throw new UsageError(`--rotate or --caller-key, not both. Usage: ${USAGE}`);
  if (values.replace !== undefined && !values["caller-key"]) {
    throw new UsageError(`--replace goes with --caller-key. Usage: ${USAGE}`);
  }
  if (values.replace !== undefined && !/^[0-9a-f]{12}$/i.test(values.replace)) {
    throw new UsageError(`--replace takes a caller id as the logs show it: 12 hex digits; got "${values.replace}".`);
  }
  if (values.out === "") throw new UsageError(`--out takes a folder. Usage: ${USAGE}`);
  if (!existsSync("wrangler.toml")) {
    throw new Refusal("Run this in the project folder (the one with wrangler.toml): `npm run keys` does.");
  }
  const target = targetFor(values.env, values.out);
  if (values.rotate) rotate(target, values.force);
  else if (values["caller-key"]) rotateCallerKey(target, values.force, values.replace);
  else install(target, values.force);
}

try {
  main();
} catch (error) {
  // One line, never a stack trace: a usage mistake exits 2, anything else 1.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`keys: ${message.replace(/\s*\n\s*/g, " ")}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
