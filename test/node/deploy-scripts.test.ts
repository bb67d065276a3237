import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkSecrets,
  missingSecrets,
  parseSecretList,
  requiredSecrets,
  secretsVerdict,
  workerNotFound,
} from "../../scripts/deploy/check-secrets";
import { targetWorker, type WranglerResult } from "../../scripts/deploy/common";
import {
  currentVersionId,
  healthzUrl,
  judgeHealth,
  migrationAdvice,
  parseSteps,
  type RollOutDeps,
  rollbackArgs,
  rollOut,
  versionIdFromUpload,
  versionOverrideHeader,
  versionsDeployArgs,
  versionsUploadArgs,
} from "../../scripts/deploy/gradual";
import {
  applyMigrations,
  closeJobsDatabase,
  databaseProblem,
  STAND_IN_DATABASE_ID,
} from "../../scripts/deploy/migrate";
import { readOptions, UsageError } from "../../scripts/lib/cli";
import { SECRET_NAMES } from "../../src/settings/report";

const NEW = "0f3c2a1b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const OLD = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const OTHER = "11111111-2222-4333-8444-555555555555";
const PRODUCTION = "sparkpay-edge-gateway-production";

/** `wrangler secret list --format json` as wrangler 4.86.0 prints it (JSON.stringify(list, null, "  ")). */
const secretList = (names: readonly string[]) =>
  JSON.stringify(
    names.map((name) => ({ name, type: "secret_text" })),
    null,
    "  ",
  );
const ok = (stdout = ""): WranglerResult => ({ code: 0, stdout, stderr: "" });
const failed = (stderr: string): WranglerResult => ({ code: 1, stdout: "", stderr });

describe("check-secrets: reading `wrangler secret list`", () => {
  it("reads the names from wrangler's JSON, notices before it skipped", () => {
    expect(parseSecretList(secretList(SECRET_NAMES))).toEqual([...SECRET_NAMES]);
    expect(parseSecretList(`[notice] something wrangler said\n${secretList(["GATEWAY_API_KEYS"])}\n`)).toEqual([
      "GATEWAY_API_KEYS",
    ]);
    expect(parseSecretList("[]\n")).toEqual([]);
  });

  it.each([
    ["no list at all", "Nothing here"],
    ["a JSON object", '{"name":"GATEWAY_API_KEYS"}'],
    ["an entry without a name", '[{"type":"secret_text"}]'],
    ["cut-short JSON", '[{"name":"GATEWAY_API_KEYS",'],
  ])("refuses %s", (_name, stdout) => {
    expect(() => parseSecretList(stdout)).toThrow();
  });

  it("names what is missing, in the required order", () => {
    expect(missingSecrets(SECRET_NAMES, ["GATEWAY_API_KEYS", "SOMETHING_ELSE"])).toEqual([
      "SPARKPAY_PRIVATE_KEY",
      "SPARKPAY_PLATFORM_PUBLIC_KEY",
    ]);
    expect(missingSecrets(SECRET_NAMES, [...SECRET_NAMES])).toEqual([]);
  });

  it("requires the webhook secret only where a webhook URL is set", () => {
    expect(requiredSecrets({ CLOSE_WEBHOOK_URL: "" })).toEqual([...SECRET_NAMES]);
    expect(requiredSecrets({})).toEqual([...SECRET_NAMES]);
    expect(requiredSecrets({ CLOSE_WEBHOOK_URL: "https://hooks.example.com/sparkpay" })).toEqual([
      ...SECRET_NAMES,
      "CLOSE_WEBHOOK_SECRET",
    ]);
  });

  it("says what to run, and fails, when one is missing", () => {
    expect(
      secretsVerdict({
        workerName: PRODUCTION,
        env: "production",
        required: SECRET_NAMES,
        missing: ["GATEWAY_API_KEYS"],
      }),
    ).toEqual({
      code: 1,
      message:
        "Missing secrets on sparkpay-edge-gateway-production: GATEWAY_API_KEYS. " +
        "Set each with `npx wrangler secret put NAME --env production` (docs/operations.md).",
    });
    expect(secretsVerdict({ workerName: PRODUCTION, env: "production", required: SECRET_NAMES, missing: [] })).toEqual({
      code: 0,
      message: "All 3 secrets are set on sparkpay-edge-gateway-production.",
    });
  });

  it("recognises wrangler's answer for a Worker that does not exist yet", () => {
    expect(workerNotFound(failed(`✘ [ERROR] Worker "${PRODUCTION}" (env: production) not found.`))).toBe(true);
    expect(workerNotFound(failed("✘ [ERROR] Authentication error [code: 10000]"))).toBe(false);
  });
});

describe("check-secrets: the whole check", () => {
  const run = async (answer: WranglerResult) => {
    const calls: string[][] = [];
    const lines: string[] = [];
    const code = await checkSecrets(
      { env: "production", workerName: PRODUCTION },
      async (args) => {
        calls.push(args);
        return answer;
      },
      (line) => lines.push(line),
    );
    return { code, calls, out: lines.join("\n") };
  };

  it("lists the secrets of the environment's own Worker, names only", async () => {
    const result = await run(ok(secretList(SECRET_NAMES)));
    expect(result.calls).toEqual([["secret", "list", "--env", "production", "--format", "json"]]);
    expect(result).toMatchObject({ code: 0, out: "All 3 secrets are set on sparkpay-edge-gateway-production." });
  });

  it("stops with the missing names", async () => {
    const result = await run(ok(secretList(["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY"])));
    expect(result.code).toBe(1);
    expect(result.out).toContain("Missing secrets on sparkpay-edge-gateway-production: GATEWAY_API_KEYS. ");
  });

  it("treats a Worker that does not exist yet as having no secrets", async () => {
    const result = await run(failed(`✘ [ERROR] Worker "${PRODUCTION}" (env: production) not found.`));
    expect(result.code).toBe(1);
    expect(result.out).toContain(`Missing secrets on ${PRODUCTION}: ${SECRET_NAMES.join(", ")}.`);
  });

  it("fails, pointing at the token, when wrangler cannot list them", async () => {
    const result = await run(failed("✘ [ERROR] Authentication error [code: 10000]"));
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/Could not list the secrets of .*CLOUDFLARE_API_TOKEN/);
  });

  it("fails when wrangler's output is not a list", async () => {
    expect((await run(ok("Secret Name: GATEWAY_API_KEYS"))).code).toBe(1);
  });
});

describe("common", () => {
  it("takes the arguments after the `--` that keeps Node 20 off --env-file", () => {
    expect(readOptions(["--", "--env", "staging"], { env: { type: "string" } })).toEqual({ env: "staging" });
    expect(readOptions(["--env", "staging"], { env: { type: "string" } })).toEqual({ env: "staging" });
    expect(() => readOptions(["--", "--nope"], { env: { type: "string" } })).toThrow(UsageError);
  });

  it("knows each environment's Worker from wrangler.toml, and nothing else", () => {
    expect(targetWorker("production")).toMatchObject({ env: "production", workerName: PRODUCTION });
    expect(targetWorker("staging")).toMatchObject({ env: "staging", workerName: "sparkpay-edge-gateway-staging" });
    expect(() => targetWorker("prod")).toThrow(UsageError);
    expect(() => targetWorker(undefined)).toThrow(UsageError);
  });
});

describe("gradual: pure helpers", () => {
  it("reads the version id from wrangler's output file (the last upload), or from its log", () => {
    const file = [
      JSON.stringify({ type: "wrangler-session", version: 1, wrangler_version: "4.86.0" }),
      JSON.stringify({ type: "version-upload", version: 1, worker_name: PRODUCTION, version_id: OTHER }),
      JSON.stringify({ type: "version-upload", version: 1, worker_name: PRODUCTION, version_id: NEW }),
      "",
    ].join("\n");
    expect(versionIdFromUpload(file)).toBe(NEW);
    expect(versionIdFromUpload(`Uploaded ${PRODUCTION} (3.21 sec)\nWorker Version ID: ${NEW}\n`)).toBe(NEW);
    // A --dry-run writes version_id null.
    expect(versionIdFromUpload(JSON.stringify({ type: "version-upload", version_id: null }))).toBeUndefined();
    expect(versionIdFromUpload("")).toBeUndefined();
  });

  it("finds the version serving now, the largest share of a split", () => {
    const status = (versions: Array<[string, number]>) =>
      JSON.stringify({
        id: "d1",
        source: "wrangler",
        strategy: "percentage",
        versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
      });
    expect(currentVersionId(status([[OLD, 100]]))).toBe(OLD);
    expect(
      currentVersionId(
        status([
          [OTHER, 10],
          [OLD, 90],
        ]),
      ),
    ).toBe(OLD);
    expect(currentVersionId(`a notice\n${status([[OLD, 100]])}`)).toBe(OLD);
    expect(currentVersionId("not json")).toBeUndefined();
    expect(currentVersionId(status([]))).toBeUndefined();
  });

  it("takes rising steps that end at 100", () => {
    expect(parseSteps("10,100")).toEqual([10, 100]);
    expect(parseSteps(" 5, 25 ,100")).toEqual([5, 25, 100]);
    expect(parseSteps("100")).toEqual([100]);
    for (const bad of ["10", "0,100", "50,10,100", "10,10,100", "10.5,100", "10,101", "", "x"])
      expect(() => parseSteps(bad), bad).toThrow(UsageError);
  });

  it("builds `wrangler versions upload` with the tag and message cut to Cloudflare's limits", () => {
    expect(versionsUploadArgs({ env: "staging" })).toEqual(["versions", "upload", "--env", "staging"]);
    const args = versionsUploadArgs({ env: "production", tag: "t".repeat(40), message: "m".repeat(300) });
    expect(args.slice(0, 5)).toEqual(["versions", "upload", "--env", "production", "--tag"]);
    expect(args[5]).toHaveLength(25);
    expect(args[6]).toBe("--message");
    expect(args[7]).toHaveLength(100);
  });

  it("builds `wrangler versions deploy`: the new version at a share, the previous at the rest", () => {
    expect(versionsDeployArgs({ env: "production", versionId: NEW, percentage: 10, previousVersionId: OLD })).toEqual([
      "versions",
      "deploy",
      `${NEW}@10%`,
      `${OLD}@90%`,
      "--env",
      "production",
      "--yes",
      "--message",
      "10%",
    ]);
    expect(
      versionsDeployArgs({
        env: "staging",
        versionId: NEW,
        percentage: 100,
        previousVersionId: OLD,
        message: "v1.2.0",
      }),
    ).toEqual(["versions", "deploy", `${NEW}@100%`, "--env", "staging", "--yes", "--message", "v1.2.0 (100%)"]);
    expect(() => versionsDeployArgs({ env: "production", versionId: NEW, percentage: 10 })).toThrow();
    const long = versionsDeployArgs({ env: "staging", versionId: NEW, percentage: 100, message: "m".repeat(300) });
    expect(long.at(-1)!.length).toBeLessThanOrEqual(100);
  });

  it("builds `wrangler rollback` to the previous version, the reason as its message", () => {
    const args = rollbackArgs({ env: "production", previousVersionId: OLD, reason: "x".repeat(500) });
    expect(args.slice(0, 5)).toEqual(["rollback", OLD, "--env", "production", "--yes"]);
    expect(args[5]).toBe("--message");
    expect(args[6]!.startsWith("CI rollback: ")).toBe(true);
    expect(args[6]!.length).toBeLessThanOrEqual(120);
  });

  it("checks /healthz on the https URL only", () => {
    expect(healthzUrl("https://gw.example.workers.dev")).toBe("https://gw.example.workers.dev/healthz");
    expect(healthzUrl("https://gw.example.workers.dev/")).toBe("https://gw.example.workers.dev/healthz");
    expect(healthzUrl("https://pay.example.com/gateway/")).toBe("https://pay.example.com/gateway/healthz");
    for (const bad of ["", "gw.example.workers.dev", "http://gw.example.workers.dev", "ftp://x"])
      expect(() => healthzUrl(bad), bad).toThrow(UsageError);
  });

  it("targets the new version with Cloudflare-Workers-Version-Overrides", () => {
    expect(versionOverrideHeader(PRODUCTION, NEW)).toEqual({
      "Cloudflare-Workers-Version-Overrides": `${PRODUCTION}="${NEW}"`,
    });
  });

  it("judges /healthz: only 200 with status ready passes", () => {
    const ready = JSON.stringify({ status: "ready", version: "0.1.0", checks: { SPARKPAY_APP_ID: { status: "ok" } } });
    const notReady = JSON.stringify({
      status: "not_ready",
      checks: {
        SPARKPAY_APP_ID: { status: "problem", message: "SPARKPAY_APP_ID is still the placeholder (replace-with-…)" },
        LOG_LEVEL: { status: "warning", message: "LOG_LEVEL must be one of debug, info, warn, error" },
        CLOSE_WEBHOOK_SECRET: { status: "unused", message: "not used: CLOSE_WEBHOOK_URL is not set" },
      },
    });
    expect(judgeHealth(200, ready).ready).toBe(true);
    const verdict = judgeHealth(503, notReady);
    expect(verdict.ready).toBe(false);
    expect(verdict.reason).toContain("HTTP 503, not_ready; SPARKPAY_APP_ID: SPARKPAY_APP_ID is still the placeholder");
    expect(verdict.reason).not.toContain("LOG_LEVEL");
    expect(verdict.reason).not.toContain("CLOSE_WEBHOOK_SECRET");
    expect(judgeHealth(200, JSON.stringify({ status: "not_ready" })).ready).toBe(false);
    expect(judgeHealth(503, ready).ready).toBe(false);
    expect(judgeHealth(200, "<html>error 1042</html>")).toEqual({
      ready: false,
      reason: 'HTTP 200, not JSON: "<html>error 1042</html>"',
    });
  });
});

/** A stand-in Cloudflare: wrangler's answers and /healthz's, recording what happened in order. */
function cloudflare(options: {
  serving?: string;
  health?: (percentage: number, attempt: number) => number | "network error";
  deployFails?: boolean;
  statusError?: string;
  /** How the upload goes: its id in wrangler's output file (as wrangler writes it), only in its log, or failing. */
  upload?: "output file" | "log only" | "no id" | "fails" | "migration";
  triggersFail?: boolean;
}) {
  const events: string[] = [];
  const headers: Array<Record<string, string>> = [];
  let percentage = 0;
  let attempt = 0;
  const deps: RollOutDeps = {
    attempts: 3,
    intervalMs: 1,
    sleep: async () => {},
    log: () => {},
    wrangler: async (args) => {
      events.push(`wrangler ${args.join(" ")}`);
      if (args[0] === "deployments") {
        if (options.statusError) return failed(options.statusError);
        return ok(JSON.stringify({ versions: [{ version_id: options.serving ?? OLD, percentage: 100 }] }));
      }
      if (args[0] === "versions" && args[1] === "upload") {
        const entry = { type: "version-upload", version: 1, worker_name: PRODUCTION, version_id: NEW };
        switch (options.upload ?? "output file") {
          case "output file":
            return { ...ok(`Uploaded ${PRODUCTION} (2.10 sec)\n`), output: `${JSON.stringify(entry)}\n` };
          case "log only":
            return ok(`Uploaded ${PRODUCTION} (2.10 sec)\nWorker Version ID: ${NEW}\n`);
          case "no id":
            return { ...ok(""), output: `${JSON.stringify({ ...entry, version_id: null })}\n` };
          case "fails":
            return failed("✘ [ERROR] A request to the Cloudflare API failed.");
          case "migration":
            return failed("✘ [ERROR] A request to the Cloudflare API failed. Durable Object migrations … versions.");
        }
      }
      if (args[0] === "triggers") return options.triggersFail ? failed("✘ [ERROR] triggers") : ok();
      if (args[0] === "versions" && args[1] === "deploy") {
        percentage = Number(/@(\d+)%/.exec(args[2]!)![1]);
        attempt = 0;
        return options.deployFails ? failed("✘ [ERROR] A request to the Cloudflare API failed.") : ok();
      }
      return ok();
    },
    get: async (url, sent) => {
      attempt += 1;
      events.push(`GET ${url}`);
      headers.push(sent);
      const status = options.health?.(percentage, attempt) ?? 200;
      if (status === "network error") throw new Error("fetch failed");
      return {
        status,
        body: JSON.stringify({ status: status === 200 ? "ready" : "not_ready", checks: {} }),
      };
    },
  };
  return { deps, events, headers };
}

const production = {
  env: "production",
  workerName: PRODUCTION,
  url: "https://gw.example.com",
  tag: "0123456789ab",
  message: "v1.2.0 abc, run 42",
};
const deploys = (events: string[]) => events.filter((event) => event.startsWith("wrangler versions deploy"));
const rollbacks = (events: string[]) => events.filter((event) => event.startsWith("wrangler rollback"));

describe("gradual: the rollout", () => {
  it("uploads, then goes 10%, /healthz, 100%, /healthz, on the new version each time", async () => {
    const { deps, events, headers } = cloudflare({});
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(0);
    expect(events).toEqual([
      "wrangler deployments status --env production --json",
      "wrangler versions upload --env production --tag 0123456789ab --message v1.2.0 abc, run 42",
      "wrangler triggers deploy --env production",
      `wrangler versions deploy ${NEW}@10% ${OLD}@90% --env production --yes --message v1.2.0 abc, run 42 (10%)`,
      "GET https://gw.example.com/healthz",
      `wrangler versions deploy ${NEW}@100% --env production --yes --message v1.2.0 abc, run 42 (100%)`,
      "GET https://gw.example.com/healthz",
    ]);
    for (const sent of headers) expect(sent).toEqual(versionOverrideHeader(PRODUCTION, NEW));
  });

  it("waits for /healthz to turn ready (propagation) before going on", async () => {
    const { deps, events } = cloudflare({ health: (_pct, attempt) => (attempt < 3 ? 503 : 200) });
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(0);
    expect(events.filter((event) => event.startsWith("GET"))).toHaveLength(6);
  });

  it.each([
    ["not ready at 10%", (pct: number) => (pct === 10 ? 503 : 200), 1],
    ["not ready at 100%", (pct: number) => (pct === 100 ? 503 : 200), 2],
    ["unreachable", () => "network error" as const, 1],
  ])("%s: rolls back to the previous version and fails", async (_name, health, deploysBefore) => {
    const { deps, events } = cloudflare({ health });
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(1);
    expect(deploys(events)).toHaveLength(deploysBefore);
    expect(rollbacks(events)).toHaveLength(1);
    expect(rollbacks(events)[0]).toMatch(new RegExp(`^wrangler rollback ${OLD} --env production --yes --message `));
    expect(events.at(-1)).toBe(rollbacks(events)[0]);
  });

  it("rolls back and fails when `wrangler versions deploy` fails", async () => {
    const { deps, events } = cloudflare({ deployFails: true });
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(1);
    expect(deploys(events)).toHaveLength(1);
    expect(rollbacks(events)).toHaveLength(1);
  });

  it("uploads nothing when the current deployment cannot be read", async () => {
    const { deps, events } = cloudflare({ statusError: "✘ [ERROR] Authentication error [code: 10000]" });
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(1);
    expect(events).toEqual(["wrangler deployments status --env production --json"]);
  });

  it("reads the version id from wrangler's log when its output file has none", async () => {
    const { deps, events } = cloudflare({ upload: "log only" });
    expect(await rollOut({ ...production, steps: [100] }, deps)).toBe(0);
    expect(deploys(events)[0]).toContain(`${NEW}@100%`);
  });

  it.each([
    ["the upload fails", { upload: "fails" as const }],
    ["the upload names no version", { upload: "no id" as const }],
    ["the triggers fail", { triggersFail: true }],
  ])("deploys nothing, and fails, when %s", async (_name, setup) => {
    const { deps, events } = cloudflare(setup);
    expect(await rollOut({ ...production, steps: [10, 100] }, deps)).toBe(1);
    expect(deploys(events)).toEqual([]);
    expect(rollbacks(events)).toEqual([]);
  });

  it("says how to deploy a version Cloudflare refuses for its Durable Object migration", async () => {
    const lines: string[] = [];
    const { deps, events } = cloudflare({ upload: "migration" });
    expect(await rollOut({ ...production, steps: [10, 100] }, { ...deps, log: (line) => lines.push(line) })).toBe(1);
    expect(deploys(events)).toEqual([]);
    expect(lines).toContain(migrationAdvice("production"));
    expect(migrationAdvice("production")).toContain("npx wrangler deploy --env production");
  });

  it("a first deployment (no earlier version): straight to 100%; not ready fails, nothing to roll back", async () => {
    const first = cloudflare({ statusError: `✘ [ERROR] The Worker ${PRODUCTION} has no deployments.` });
    expect(await rollOut({ ...production, steps: [10, 100] }, first.deps)).toBe(0);
    expect(deploys(first.events)).toHaveLength(1);
    expect(deploys(first.events)[0]).toMatch(new RegExp(`^wrangler versions deploy ${NEW}@100% --env production `));

    const broken = cloudflare({
      statusError: `✘ [ERROR] The Worker ${PRODUCTION} has no deployments.`,
      health: () => 503,
    });
    expect(await rollOut({ ...production, steps: [10, 100] }, broken.deps)).toBe(1);
    expect(rollbacks(broken.events)).toEqual([]);
  });

  it("staging: straight to 100%, then /healthz; rolls back if not ready", async () => {
    const staging = { ...production, env: "staging", workerName: "sparkpay-edge-gateway-staging" };
    const good = cloudflare({});
    expect(await rollOut({ ...staging, steps: [100] }, good.deps)).toBe(0);
    expect(deploys(good.events)).toHaveLength(1);
    expect(deploys(good.events)[0]).toMatch(new RegExp(`^wrangler versions deploy ${NEW}@100% --env staging --yes`));
    const bad = cloudflare({ health: () => 503 });
    expect(await rollOut({ ...staging, steps: [100] }, bad.deps)).toBe(1);
    expect(rollbacks(bad.events)[0]).toMatch(new RegExp(`^wrangler rollback ${OLD} --env staging --yes`));
  });

  it("refuses an http URL before touching anything", async () => {
    const { deps, events } = cloudflare({});
    await expect(rollOut({ ...production, url: "http://gw.example.com", steps: [100] }, deps)).rejects.toThrow(
      UsageError,
    );
    expect(events).toEqual([]);
  });
});

/** A script as the deploy job runs it, with a stand-in `npx` first on PATH (no Cloudflare here). */
const runScript = (script: string, args: string[], npxPrints: string) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const bin = mkdtempSync(join(tmpdir(), "gw-fake-npx-"));
    writeFileSync(join(bin, "npx"), `#!/bin/sh\ncat <<'EOF'\n${npxPrints}\nEOF\n`);
    chmodSync(join(bin, "npx"), 0o755);
    const child = execFile(
      "node",
      ["--import", "tsx", script, "--", ...args],
      { env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` } },
      (_error, out, err) => resolve({ code: child.exitCode ?? -1, out, err }),
    );
  });

describe.concurrent("the scripts as the deploy job runs them", { timeout: 60_000 }, () => {
  it("check-secrets names the missing secret and exits 1", async () => {
    const result = await runScript(
      "scripts/deploy/check-secrets.ts",
      ["--env", "production"],
      secretList(["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY"]),
    );
    expect(result.out).toContain(
      "Missing secrets on sparkpay-edge-gateway-production: GATEWAY_API_KEYS. " +
        "Set each with `npx wrangler secret put NAME --env production` (docs/operations.md).",
    );
    expect(result.code).toBe(1);
  });

  it("check-secrets exits 0 when all are set", async () => {
    const result = await runScript("scripts/deploy/check-secrets.ts", ["--env", "staging"], secretList(SECRET_NAMES));
    expect(result.out).toContain("All 3 secrets are set on sparkpay-edge-gateway-staging.");
    expect(result.code).toBe(0);
  });

  it.each([
    ["check-secrets, an unknown environment", "scripts/deploy/check-secrets.ts", ["--env", "prod"]],
    [
      "gradual, an http URL",
      "scripts/deploy/gradual.ts",
      ["--env", "staging", "--url", "http://gw.example.com", "--steps", "100"],
    ],
  ])("%s: exit 2 with the usage", async (_name, script, args) => {
    const result = await runScript(script, args, "");
    expect(result.err).toMatch(/Usage: node --import tsx scripts\/deploy\//);
    expect(result.code).toBe(2);
  });
});

describe("migrate: the D1 migrations before a version is uploaded", () => {
  const real = { name: "sparkpay-close-jobs-production", id: "5b1c8f0e-7d2a-4e3b-9c4d-1a2b3c4d5e6f" };
  const run = async (database: Parameters<typeof applyMigrations>[0]["database"], answer = ok()) => {
    const calls: string[][] = [];
    const lines: string[] = [];
    const code = await applyMigrations(
      { env: "production", database },
      async (args) => {
        calls.push(args);
        return answer;
      },
      (line) => lines.push(line),
    );
    return { code, calls, out: lines.join("\n") };
  };

  it("applies the environment's pending migrations, remotely, to its own database", async () => {
    const result = await run(real);
    expect(result.calls).toEqual([["d1", "migrations", "apply", "CLOSE_JOBS_DB", "--remote", "--env", "production"]]);
    expect(result).toMatchObject({
      code: 0,
      out: "sparkpay-close-jobs-production has every migration in migrations/.",
    });
  });

  it("stops when wrangler fails, before anything is uploaded", async () => {
    const result = await run(real, failed("Authentication error"));
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /^Could not apply the D1 migrations to sparkpay-close-jobs-production: wrangler exited 1/,
    );
  });

  it("refuses wrangler.toml's stand-in database ids (never created), naming the command that creates one", async () => {
    for (const env of ["staging", "production"]) {
      const database = closeJobsDatabase(env);
      expect(database?.id).toMatch(STAND_IN_DATABASE_ID);
      expect(databaseProblem(env, database)).toMatch(
        new RegExp(`still the stand-in .*\`npx wrangler d1 create ${database!.name}\``),
      );
    }
    const result = await run(closeJobsDatabase("production"));
    expect(result.code).toBe(1);
    expect(result.calls).toEqual([]);
    expect(databaseProblem("production", undefined)).toMatch(/declares no CLOSE_JOBS_DB/);
  });
});
