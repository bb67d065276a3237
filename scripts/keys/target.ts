/**
 * The one Worker a `npm run keys` run works on: the top-level one (`npm run deploy`) without --env, or
 * [env.staging] / [env.production] with it. Every path, command and name a run prints comes from here, so a
 * printed step never names another Worker.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";

export const ENVIRONMENTS = ["staging", "production"] as const;

export type Target = ReturnType<typeof targetFor>;

export function targetFor(env: string | undefined, dir = join("keys", env ?? "")) {
  return {
    env,
    /** ` --env X`, or nothing for the top level: every printed command names this target only. */
    flag: env ? ` --env ${env}` : "",
    dir,
    file: (name: string) => join(dir, name),
    envFile: env ? `.dev.vars.${env}` : ".dev.vars.top-level",
    /** How the doctor reads that env file: `.dev.vars.<env>` is its default for --env. */
    doctorSource: env ? `--env ${env}` : "--env-file .dev.vars.top-level",
    varsSection: env ? `[env.${env}.vars]` : "[vars]",
    deploy: env ? `npm run deploy:${env}` : "npm run deploy",
    keysCommand: env ? `npm run keys -- --env ${env}` : "npm run keys",
    title: env ? `[env.${env}] (npm run deploy:${env})` : "the top-level Worker (npm run deploy)",
    application: env ? `the SparkPay application you use for ${env}` : "the SparkPay application this Worker uses",
  };
}

/** A path as the operator types it: relative to here when inside, quoted for the shell when needed. */
export function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  const text = inside && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The Worker's workers.dev address, from its name in wrangler.toml, for the health check. */
export function healthUrl(target: Target): string {
  const toml = existsSync("wrangler.toml") ? readFileSync("wrangler.toml", "utf8") : "";
  const section = target.env
    ? new RegExp(`^\\[env\\.${target.env}\\][^\\n]*\\n([\\s\\S]*?)(?=^\\[|$(?![\\s\\S]))`, "m").exec(toml)?.[1]
    : /^([\s\S]*?)(?=^\[)/m.exec(toml)?.[1];
  const name = /^name\s*=\s*"([^"]+)"/m.exec(section ?? "")?.[1];
  return name ? `https://${name}.<your-subdomain>.workers.dev/healthz` : "https://<your gateway>/healthz";
}
