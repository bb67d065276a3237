/**
 * What the deploy scripts share: their arguments, wrangler.toml's environments, and running the
 * project's own (pinned) wrangler.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";

export const CONFIG_PATH = "wrangler.toml";

/** The output of one wrangler run. */
export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
  /** What wrangler wrote to WRANGLER_OUTPUT_FILE_PATH: one JSON entry a line (e.g. the uploaded version). */
  output?: string;
}
/** Runs `wrangler <args>`; the deploy scripts take it as a parameter, so tests can pass a stand-in. */
export type Wrangler = (args: string[]) => Promise<WranglerResult>;

/** A usage mistake: exit 2, as `npm run doctor` does. */
export class UsageError extends Error {}

/**
 * The script's options. Scripts are run as `node --import tsx script.ts -- --env X`: without the
 * "--", Node 20 takes an `--env-file` anywhere in argv as its own option.
 */
export function readOptions<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The wrangler environment named by --env, checked against wrangler.toml, and its Worker's name. */
export function targetWorker(env: string | undefined): {
  env: string;
  workerName: string;
  vars: Record<string, unknown>;
} {
  const environments = Object.keys(experimental_readRawConfig({ config: CONFIG_PATH }).rawConfig.env ?? {});
  if (env === undefined || !environments.includes(env)) {
    throw new UsageError(
      `--env must be one of ${environments.join(", ")} (the environments in ${CONFIG_PATH}); got ${env ?? "nothing"}.`,
    );
  }
  const config = unstable_readConfig({ config: CONFIG_PATH, env });
  const workerName = config.name;
  if (!workerName) throw new UsageError(`[env.${env}] in ${CONFIG_PATH} has no Worker name.`);
  return { env, workerName, vars: config.vars };
}

/** `npx wrangler …`: the devDependency `npm ci` installed (never a download), output captured and shown. */
export const runWrangler: Wrangler = (args) =>
  new Promise((resolve, reject) => {
    const outputDir = mkdtempSync(join(tmpdir(), "wrangler-output-"));
    const outputFile = join(outputDir, "output.json");
    const readOutput = () => {
      try {
        return readFileSync(outputFile, "utf8");
      } catch {
        return undefined;
      } finally {
        rmSync(outputDir, { recursive: true, force: true });
      }
    };
    const child = spawn("npx", ["--no-install", "wrangler", ...args], {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_OUTPUT_FILE_PATH: outputFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    child.on("error", (error) => {
      readOutput();
      reject(error);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, output: readOutput() }));
  });

/**
 * The JSON value wrangler printed on stdout, starting at the first line that begins with `opener`
 * ("[" or "{") and parses: any notice printed before it is skipped. undefined when there is none.
 */
export function parseJsonAfterNotices(stdout: string, opener: "[" | "{"): unknown {
  for (const match of stdout.matchAll(/^[ \t]*(.)/gm)) {
    if (match[1] !== opener) continue;
    try {
      return JSON.parse(stdout.slice(match.index));
    } catch {
      // not the JSON yet: a notice that happens to start with the same character
    }
  }
  return undefined;
}

/** Whether this module is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs a script's main: exit with its code, 2 for a usage mistake, 1 for anything unexpected. */
export function runMain(main: () => Promise<number>, usage: string): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${error.message}\n${usage}`);
        process.exitCode = 2;
      } else {
        console.error(error);
        process.exitCode = 1;
      }
    },
  );
}
