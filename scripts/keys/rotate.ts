/**
 * `npm run keys -- --rotate [--env X]`: the next merchant key beside the current one, the env file holding both,
 * and the rotation runbook. The runbook's text is also docs/keys.md's (test/node/keys.test.ts keeps them equal).
 */
import { createPublicKey } from "node:crypto";
import { existsSync } from "node:fs";
import { readEnvFile, writePrivateFile } from "../lib/env-file";
import { generateRsaKeyPair } from "../lib/keygen";
import { readPrivateKey, refuseExisting, wrote } from "./files";
import { envFileText, envSettings, placeholderNotes } from "./settings";
import { healthUrl, shown, type Target } from "./target";

/** The key files of a rotation, as the operator types them. */
interface RotationPaths {
  current: string;
  currentPublic: string;
  next: string;
  nextPublic: string;
  old: string;
  oldPublic: string;
}

/** Merchant key rotation, in order, with no failed request. */
export function rotationRunbook(target: Target, p: RotationPaths, nextPublicKeyPem: string): string {
  return `Merchant key rotation, in order, with no failed request. On SparkPay's 40000 (signature check failed)
the gateway signs the same request again with the other stored key, in either direction, and keeps the one
SparkPay accepts: so the order of the two keys is safe, and so is SparkPay going back to the old key. A key
SparkPay rejected is never kept.

1. Store current + next (requests are still signed with the current key, the first one):
   cat ${p.current} ${p.next} |
     npx wrangler secret put SPARKPAY_PRIVATE_KEY${target.flag}

2. Check offline against the CURRENT public key (still what SparkPay has); expect "All good":
   npm run doctor -- ${target.doctorSource} --merchant-public-key ${p.currentPublic}

3. Upload the new public key (${p.nextPublic}) to SparkPay (merchant dashboard, API keys), for
   ${target.application}. From then on SparkPay answers the current key's signatures with
   40000; the gateway signs the same request again with the next key (safe: a rejected signature means SparkPay
   did nothing), succeeds, and keeps the next key in that isolate. Callers see no error; the debug log shows
   \`key: 2\`. The new public key:

${nextPublicKeyPem}
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
   files once the new key has served for a while and SparkPay will not go back to the old one.`;
}

/** Writes the next key and the env file with both keys (refusing a second rotation); returns what to print. */
export function rotate(target: Target, force: boolean): string {
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
    throw new Error(
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
    throw new Error(
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
    const currentPublic = createPublicKey(currentKey).export({ type: "spki", format: "pem" }) as string;
    writePrivateFile(current.publicKey, currentPublic, { mode: 0o644 });
  }
  writePrivateFile(next.privateKey, privateKeyPem, { replace: force });
  writePrivateFile(next.publicKey, publicKeyPem, { replace: force, mode: 0o644 });
  writePrivateFile(target.envFile, envText, { replace: previous !== undefined });

  const notes = placeholderNotes(target, settings);
  const p: RotationPaths = {
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
  const before = notes.length ? `\nBefore step 2:\n${notes.join("\n")}\n` : "";
  return `${listing}\n${before}\n${rotationRunbook(target, p, publicKeyPem)}`;
}
