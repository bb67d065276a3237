/**
 * What every script under scripts/ shares on its command line: reading options, usage mistakes, exit codes, and
 * whether a module is the script node was started with (a test imports the same module without running it).
 *
 *   exit 0  done
 *   exit 1  failed or refused: one line naming why, never a stack trace
 *   exit 2  a usage mistake: one line naming it, then the usage text
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A usage mistake (an unknown option, a value out of range): exit 2, with the usage text. */
export class UsageError extends Error {}

/**
 * The script's options. A leading "--" is dropped: scripts run as `node --import tsx script.ts -- --env X`, because
 * without it Node 20 takes an `--env-file` anywhere in argv as its own option.
 */
export function readOptions<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // node:util's first sentence only: the rest is advice about positional arguments, which no script takes.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message.split(". ")[0]?.replace(/\.$/, "")}.`);
  }
}

/** Whether `moduleUrl` (a module's import.meta.url) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Runs a script's `main` and turns its outcome into the exit code: the number it returns or resolves with (else the
 * process.exitCode it set, else 0), 2 with the usage text for a UsageError, 1 for any other error. Messages are one
 * line, prefixed with the script's name. `exitWhenDone` ends the process once main is done, for scripts whose local
 * servers would keep it alive.
 */
export function runCli(name: string, usage: string, main: () => unknown, { exitWhenDone = false } = {}): void {
  const finish = (code: number) => {
    process.exitCode = code;
    if (exitWhenDone) process.exit(code);
  };
  Promise.resolve()
    .then(main)
    .then(
      (code) => finish(typeof code === "number" ? code : Number(process.exitCode ?? EXIT.ok)),
      (error: unknown) => {
        // fetch's "fetch failed" says why only in its cause (the socket's error).
        const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
        const message = (error instanceof Error ? error.message + cause : String(error)).replace(/\s*\n\s*/g, " ");
        if (error instanceof UsageError) {
          console.error(`${name}: ${message}\n${usage}`);
          finish(EXIT.usage);
        } else {
          console.error(`${name}: ${message}`);
          finish(EXIT.failure);
        }
      },
    );
}
