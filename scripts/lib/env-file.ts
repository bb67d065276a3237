/**
 * The env files `npm run keys` writes (`.dev.vars.<env>`, `.dev.vars.top-level`) and `npm run doctor`
 * and `wrangler dev` read. Read with dotenv's parser (pinned to the version wrangler bundles, since
 * wrangler does not export it and importing wrangler takes seconds). Written with every value in
 * double quotes and real newlines inside them, which that parser reads back unchanged, so a PEM
 * keeps its lines; every file written is parsed back and compared first.
 * Secret files are created with mode 0600 and replaced only when asked to.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import dotenv from "dotenv";

/** One setting of an env file: its name, its value, and a comment line to put above it. */
export type EnvSetting = [name: string, value: string, comment?: string];

/**
 * An env file's settings, exactly as wrangler reads them: with dotenv's parser, at the version
 * wrangler bundles (wrangler does not export it).
 */
export function parseEnvFile(source: string): Map<string, string> {
  return new Map(Object.entries(dotenv.parse(source)));
}

/** The file's settings, or undefined when there is no such file. */
export function readEnvFile(path: string): Map<string, string> | undefined {
  return existsSync(path) ? parseEnvFile(readFileSync(path, "utf8")) : undefined;
}

/**
 * `# comment` lines, then `NAME="value"` for each setting, each value in double quotes with real
 * newlines. Refuses what double quotes cannot carry unchanged through dotenv and the variable
 * expansion wrangler applies to --env-file files (`"`, `\`, `$`).
 */
export function formatEnvFile(comments: string[], settings: EnvSetting[]): string {
  const lines = comments.map((line) => `# ${line}`.trimEnd());
  for (const [name, value, comment] of settings) {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new Error(`${name} is not a setting name an env file can hold.`);
    if (/["\\$]/.test(value)) {
      throw new Error(`${name} holds a character (" \\ or $) that an env file cannot keep as it is; fix it by hand.`);
    }
    if (comment) lines.push("", `# ${comment}`);
    lines.push(`${name}="${value.replace(/\r\n?/g, "\n")}"`);
  }
  const text = `${lines.join("\n")}\n`;
  const readBack = parseEnvFile(text);
  for (const [name, value] of settings) {
    if (readBack.get(name) !== value.replace(/\r\n?/g, "\n"))
      throw new Error(`${name} would not read back as written.`);
  }
  return text;
}

/**
 * Writes a file only its owner may read (0600). Without `replace`, an existing file is never
 * touched (the check and the creation are one step). With it, the file is replaced whole: written
 * beside it, then renamed over it, so a reader never sees half a file.
 */
export function writePrivateFile(path: string, text: string, { replace = false, mode = 0o600 } = {}): void {
  if (!replace) {
    writeFileSync(path, text, { mode, flag: "wx" });
    chmodSync(path, mode); // whatever the umask
    return;
  }
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode, flag: "wx" });
    chmodSync(temporary, mode);
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}
