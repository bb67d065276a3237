/**
 * `node --import tsx scripts/deploy/migrate.ts -- --env staging|production`
 *
 * Applies the D1 migrations the environment's close-jobs database has not had yet, before a deploy job uploads a
 * version: a version reads the newest columns, and /healthz (and so the rollout) would refuse it against an older
 * database. `wrangler d1 migrations apply CLOSE_JOBS_DB --remote --env <env>` (wrangler keeps its own record of what
 * was applied; running it again applies nothing). Refuses a database_id that is still wrangler.toml's stand-in: that
 * database was never created (`wrangler d1 create`, docs/operations.md).
 * Needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID. Exit 0 applied (or nothing pending), 1 refused or failed,
 * 2 usage mistake.
 */
import { unstable_readConfig } from "wrangler";
import { isMain, readOptions, runCli } from "../lib/cli";
import { CONFIG_PATH, runWrangler, targetWorker, type Wrangler } from "./common";

const USAGE = "Usage: node --import tsx scripts/deploy/migrate.ts -- --env staging|production";

/** The ids wrangler.toml ships with, so local runs and dry runs work before any database exists. */
export const STAND_IN_DATABASE_ID = /^0{8}-0{4}-0{4}-0{4}-0{8}\d{4}$/;

export interface CloseJobsDatabase {
  name: string;
  id: string;
}

/** The environment's CLOSE_JOBS_DB in wrangler.toml, or undefined when it declares none. */
export function closeJobsDatabase(env: string): CloseJobsDatabase | undefined {
  const config = unstable_readConfig({ config: CONFIG_PATH, env });
  const db = config.d1_databases.find((database: { binding: string }) => database.binding === "CLOSE_JOBS_DB");
  return db ? { name: String(db.database_name), id: String(db.database_id) } : undefined;
}

/** What is wrong with the database a deploy would use, or undefined. */
export function databaseProblem(env: string, database: CloseJobsDatabase | undefined): string | undefined {
  if (!database) return `[env.${env}] declares no CLOSE_JOBS_DB under [[env.${env}.d1_databases]] in ${CONFIG_PATH}.`;
  if (STAND_IN_DATABASE_ID.test(database.id)) {
    return (
      `CLOSE_JOBS_DB's database_id in [env.${env}] is still the stand-in ${database.id}: create the database ` +
      `(\`npx wrangler d1 create ${database.name}\`) and put the id it prints in ${CONFIG_PATH} (docs/operations.md).`
    );
  }
  return undefined;
}

/** The whole step, with wrangler as a parameter; returns the exit code. */
export async function applyMigrations(
  options: { env: string; database: CloseJobsDatabase | undefined },
  wrangler: Wrangler,
  log: (line: string) => void = console.log,
): Promise<number> {
  const { env, database } = options;
  const problem = databaseProblem(env, database);
  if (problem) {
    log(problem);
    return 1;
  }
  const result = await wrangler(["d1", "migrations", "apply", "CLOSE_JOBS_DB", "--remote", "--env", env]);
  if (result.code !== 0) {
    log(
      `Could not apply the D1 migrations to ${database!.name}: wrangler exited ${result.code} (above). Nothing was ` +
        "uploaded; the version that serves now goes on serving.",
    );
    return 1;
  }
  log(`${database!.name} has every migration in migrations/.`);
  return 0;
}

if (isMain(import.meta.url)) {
  runCli("migrate", USAGE, async () => {
    const values = readOptions(process.argv.slice(2), { env: { type: "string" } });
    const { env } = targetWorker(values.env);
    return applyMigrations({ env, database: closeJobsDatabase(env) }, runWrangler);
  });
}
