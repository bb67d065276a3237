/**
 * The D1 migrations (migrations/*.sql) as statements to run one by one, for the local runs that bind CLOSE_JOBS_DB
 * (`npm run soak`'s durable phase, `npm run bench`), where no `wrangler d1 migrations apply` runs.
 */
import { readdirSync, readFileSync } from "node:fs";

/**
 * The .sql files in `dir`, in name order, as single statements (comment lines dropped, split at `;`). The migrations
 * here hold no `;` inside a string or trigger body, which this simple split relies on.
 */
export function migrationStatements(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .flatMap((name) =>
      readFileSync(`${dir}/${name}`, "utf8")
        .split("\n")
        .filter((line) => !/^\s*--/.test(line))
        .join("\n")
        .split(";")
        .map((statement) => statement.trim())
        .filter((statement) => statement !== ""),
    );
}
