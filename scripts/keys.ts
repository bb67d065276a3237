/**
 * `npm run keys`: key tools for each step, for ONE Worker: the top-level one (`npm run deploy`) without --env, or
 * [env.staging] / [env.production] with `--env`. node:crypto only. One module per command:
 *
 *   npm run keys [-- --env staging|production]           keys/install.ts: merchant key pair + caller key
 *   npm run keys -- --rotate [--env staging|production]  keys/rotate.ts: the next merchant key, beside the current one
 *   npm run keys -- --caller-key [--env …] [--replace ID] keys/caller-key.ts: one new caller key for a current one
 *   (each also takes --out DIR, the keys folder, default keys/<env> or keys/, and --force)
 *
 * Keys go to a git-ignored folder; each run also writes the env file `npm run doctor` reads as it is
 * (`.dev.vars.<env>`, or `.dev.vars.top-level`, which leaves `npm start`'s `.dev.vars` alone), mode 0600,
 * and prints the steps, in order, each a command or a precise action. Nothing existing is replaced
 * without --force. Exit 0 done, 1 refused (nothing written), 2 usage mistake.
 */
import { existsSync } from "node:fs";
import { rotateCallerKey } from "./keys/caller-key";
import { install } from "./keys/install";
import { rotate } from "./keys/rotate";
import { ENVIRONMENTS, targetFor } from "./keys/target";
import { isMain, readOptions, runCli, UsageError } from "./lib/cli";

const USAGE =
  "Usage: npm run keys -- [--env staging|production] [--rotate | --caller-key [--replace ID]] [--out DIR] [--force]";

function main(): void {
  const values = readOptions(process.argv.slice(2), {
    env: { type: "string" },
    out: { type: "string" },
    force: { type: "boolean", default: false },
    rotate: { type: "boolean", default: false },
    "caller-key": { type: "boolean", default: false },
    replace: { type: "string" },
  });
  if (values.env !== undefined && !(ENVIRONMENTS as readonly string[]).includes(values.env)) {
    throw new UsageError(
      `--env must be one of ${ENVIRONMENTS.join(", ")} (leave it out for the top-level Worker); got "${values.env}".`,
    );
  }
  if (values.rotate && values["caller-key"]) throw new UsageError("--rotate or --caller-key, not both.");
  if (values.replace !== undefined && !values["caller-key"]) throw new UsageError("--replace goes with --caller-key.");
  if (values.replace !== undefined && !/^[0-9a-f]{12}$/i.test(values.replace)) {
    throw new UsageError(`--replace takes a caller id as the logs show it: 12 hex digits; got "${values.replace}".`);
  }
  if (values.out === "") throw new UsageError("--out takes a folder.");
  if (!existsSync("wrangler.toml")) {
    throw new Error("Run this in the project folder (the one with wrangler.toml): `npm run keys` does.");
  }
  const target = targetFor(values.env, values.out);
  if (values.rotate) console.log(rotate(target, values.force));
  else if (values["caller-key"]) console.log(rotateCallerKey(target, values.force, values.replace));
  else console.log(install(target, values.force));
}

if (isMain(import.meta.url)) runCli("keys", USAGE, main);
