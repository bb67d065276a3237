/**
 * `npm run keys -- --caller-key [--env X] [--replace ID]`: one new caller key in place of one current key, the
 * files that hold GATEWAY_API_KEYS with and without the old key, and the runbook that switches the callers over.
 * The runbook's text is also docs/keys.md's (test/node/keys.test.ts keeps them equal).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { readEnvFile, writePrivateFile } from "../lib/env-file";
import { generateCallerKey } from "../lib/keygen";
import { refuseExisting, wrote } from "./files";
import { envFileText, envSettings, placeholderNotes } from "./settings";
import { shown, type Target } from "./target";

/** The caller id the gateway logs (`caller` field): the first 6 bytes of the key's SHA-256, in hex. */
function callerId(key: string): string {
  return createHash("sha256").update(key).digest().subarray(0, 6).toString("hex");
}

/** The files of a caller-key rotation, as the operator types them. */
interface CallerKeyPaths {
  current: string;
  newKey: string;
  oldNew: string;
  newOnly: string;
}

/** Caller-key rotation, in order, with no failed request; `oldId` is the replaced key's id in the logs. */
export function callerKeyRunbook(target: Target, f: CallerKeyPaths, oldId: string): string {
  return `Caller-key rotation, in order, with no failed request:

1. Accept the old and the new key (old,new):
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${f.oldNew}

2. Move every caller to the new key (${f.newKey}); watch the logs' \`caller\` field
   (npx wrangler tail${target.flag}, or Workers Logs) until the old id ${oldId} no longer appears.

3. Accept the new key only:
   npx wrangler secret put GATEWAY_API_KEYS${target.flag} < ${f.newOnly}

4. Tidy up: in ${target.envFile} set GATEWAY_API_KEYS to the text of ${f.newOnly}, then
   mv ${f.newOnly} ${f.current}
   rm ${f.oldNew} ${f.newKey}

A leaked key: remove it at once, without waiting for step 2: run step 3 now (callers still on the old key get 401
until they use the new one). Nothing else changes.`;
}

/** The current GATEWAY_API_KEYS (from the env file, else the key file), and where it was read. */
function currentCallerKeys(target: Target, previous: Map<string, string> | undefined, keyFile: string) {
  const fromEnvFile = previous?.get("GATEWAY_API_KEYS");
  const value = fromEnvFile ?? (existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : undefined);
  const source = fromEnvFile !== undefined ? target.envFile : shown(keyFile);
  if (!value?.trim()) {
    throw new Error(
      `No current GATEWAY_API_KEYS: neither ${target.envFile} nor ${shown(keyFile)} holds it, and Cloudflare ` +
        `does not show secrets back. Add GATEWAY_API_KEYS="<the value you stored>" to ${target.envFile} and run again.`,
    );
  }
  if (value.includes("replace-with-")) {
    throw new Error(`GATEWAY_API_KEYS in ${source} is still a placeholder: put the value you stored there first.`);
  }
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [key = "", ...scope] = entry.split(":");
      return { entry, key, scope: scope.length ? scope.join(":") : undefined, id: callerId(key) };
    });
  return { entries, source };
}

/** Writes the new key and the two GATEWAY_API_KEYS files (refusing a second rotation); returns what to print. */
export function rotateCallerKey(target: Target, force: boolean, replaceId: string | undefined): string {
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
  const { entries, source } = currentCallerKeys(target, previous, files.current);
  const ids = entries.map((entry) => entry.id).join(", ");
  let old = entries.length === 1 && replaceId === undefined ? entries[0] : undefined;
  if (replaceId !== undefined) {
    old = entries.find((entry) => entry.id === replaceId.toLowerCase());
    if (!old) throw new Error(`No key in GATEWAY_API_KEYS (${source}) has the id ${replaceId}; its ids: ${ids}.`);
  }
  if (!old) {
    throw new Error(
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
  const f: CallerKeyPaths = {
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
  const still = notes.length ? `\n\nStill to do in the env file (for the doctor):\n${notes.join("\n")}` : "";
  return `${listing}${still}\n\n${callerKeyRunbook(target, f, old.id)}`;
}
