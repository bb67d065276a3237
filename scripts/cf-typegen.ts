/**
 * `npm run cf-typegen [-- --check]`: worker-configuration.d.ts (the Env type) from wrangler.toml, as `wrangler types`
 * writes it, with the setting names npm start writes to .dev.vars (DEV_VARS_SETTINGS) as the local secrets.
 *
 * Why those names: wrangler dev (npm start, npm run dev) hashes the names in .dev.vars into its check of this file,
 * and prints "Your types might be out of date" when that hash is not the file's. Generated from the same names
 * (through --env-file, a scratch file of names without values), the file agrees with npm start's .dev.vars; and the
 * result is the same with or without a local .dev.vars, since wrangler reads the --env-file instead of it.
 * `--check` (what .ci/run runs) generates the file again and compares: `wrangler types --check` would hash whatever
 * .dev.vars holds. Exit 0 up to date (or written), 1 out of date, 2 usage mistake.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { WRANGLER_ENV } from "./build-bundle";
import { DEV_VARS, DEV_VARS_SETTINGS } from "./dev-setup";
import { EXIT, isMain, readOptions, runCli } from "./lib/cli";

const TYPES_FILE = "worker-configuration.d.ts";
/** In wrangler's own (git-ignored) folder: its path is part of the command the generated file's header records. */
const NAMES_FILE = ".wrangler/dev-vars-names.env";

/** Writes worker-configuration.d.ts with `wrangler types`, the names of .dev.vars as its secrets. */
function generate(): void {
  mkdirSync(".wrangler", { recursive: true });
  writeFileSync(
    NAMES_FILE,
    [
      `# The settings ${DEV_VARS} holds (scripts/dev-setup.ts), for npm run cf-typegen.`,
      ...DEV_VARS_SETTINGS.map((name) => `${name}=`),
      "",
    ].join("\n"),
  );
  execFileSync(
    "node_modules/.bin/wrangler",
    ["types", "--include-runtime=false", "--strict-vars=false", "--env-file", NAMES_FILE],
    { env: WRANGLER_ENV, stdio: ["ignore", "ignore", "pipe"] },
  );
}

function main(): number {
  const { check } = readOptions(process.argv.slice(2), { check: { type: "boolean", default: false } });
  if (!check) {
    generate();
    console.log(`Wrote ${TYPES_FILE}.`);
    return EXIT.ok;
  }
  const committed = readFileSync(TYPES_FILE, "utf8");
  let generated: string;
  try {
    generate();
    generated = readFileSync(TYPES_FILE, "utf8");
  } finally {
    writeFileSync(TYPES_FILE, committed); // a check leaves the file as it found it
  }
  if (generated !== committed) {
    console.error(`${TYPES_FILE} is out of date: run \`npm run cf-typegen\` and commit it.`);
    return EXIT.failure;
  }
  console.log(`${TYPES_FILE} is up to date.`);
  return EXIT.ok;
}

if (isMain(import.meta.url)) runCli("cf-typegen", "Usage: npm run cf-typegen [-- --check]", main);
