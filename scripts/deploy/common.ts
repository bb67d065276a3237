/**
 * What the deploy scripts share: wrangler.toml's environments, and running the project's own (pinned) wrangler.
 * Their options, usage mistakes and exit codes are scripts/lib/cli.ts's.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { UsageError } from "../lib/cli";

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
