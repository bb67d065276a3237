/**
 * The workflows' properties, not their text: who runs what, in which order, with which secrets,
 * against which Worker. The `if:` expressions are evaluated, not matched.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as gradual from "../../scripts/deploy/gradual";
import { SECRET_NAMES } from "../../src/settings/report";

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  "continue-on-error"?: unknown;
};
type Job = {
  if?: string;
  environment?: string;
  concurrency?: unknown;
  env?: Record<string, unknown>;
  steps: Step[];
  "continue-on-error"?: unknown;
};
type Workflow = {
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML; the assertions check its shape
  on: Record<string, any>;
  permissions?: unknown;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
};

const read = (file: string) => readFileSync(`.github/workflows/${file}`, "utf8");
const ci = parse(read("ci.yml")) as Workflow;
const deployText = read("deploy.yml");
const deploy = parse(deployText) as Workflow;
const ENVIRONMENTS = ["staging", "production"] as const;
const CLOUDFLARE_SECRETS = ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"];
const PINNED_WRANGLER = JSON.parse(readFileSync("package.json", "utf8")).devDependencies.wrangler as string;

// ---------------------------------------------------------------------------------------------
// GitHub expressions: a small evaluator for the forms the workflows use (||, &&, !, ==, !=,
// parentheses, 'strings', context paths, startsWith/endsWith/contains), with GitHub's
// case-insensitive string comparison.
// ---------------------------------------------------------------------------------------------
type Value = string | number | boolean | null;
type Context = Record<string, Record<string, Value>>;

function evaluate(expression: string, context: Context): Value {
  const tokens = expression.match(/'(?:[^']|'')*'|\|\||&&|==|!=|[()!,]|[A-Za-z_][\w.-]*|\d+|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new Error(`expected ${expected ?? "more"} in ${expression}, got ${token}`);
    return token;
  };
  const truthy = (v: Value) => v !== null && v !== false && v !== 0 && v !== "";
  const text = (v: Value) => (v === null ? "" : String(v)).toLowerCase();
  const equal = (a: Value, b: Value) =>
    typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b;
  const functions: Record<string, (a: Value, b: Value) => boolean> = {
    startswith: (a, b) => text(a).startsWith(text(b)),
    endswith: (a, b) => text(a).endsWith(text(b)),
    contains: (a, b) => text(a).includes(text(b)),
  };
  const primary = (): Value => {
    const token = take();
    if (token === "(") {
      const value = or();
      take(")");
      return value;
    }
    if (token === "!") return !truthy(primary());
    if (token.startsWith("'")) return token.slice(1, -1).replaceAll("''", "'");
    if (/^\d+$/.test(token)) return Number(token);
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    if (peek() === "(") {
      const fn = functions[token.toLowerCase()];
      if (!fn) throw new Error(`unknown function ${token}`);
      take("(");
      const first = or();
      take(",");
      const second = or();
      take(")");
      return fn(first, second);
    }
    const [scope, ...path] = token.split(".");
    if (!(scope! in context) || path.length !== 1) throw new Error(`unknown context ${token}`);
    return context[scope!]![path[0]!] ?? null;
  };
  const comparison = (): Value => {
    const left = primary();
    if (peek() === "==") return take() && equal(left, primary());
    if (peek() === "!=") return take() && !equal(left, primary());
    return left;
  };
  const and = (): Value => {
    let value = comparison();
    while (peek() === "&&") {
      take();
      const right = comparison();
      value = truthy(value) ? right : value;
    }
    return value;
  };
  function or(): Value {
    let value = and();
    while (peek() === "||") {
      take();
      const right = and();
      value = truthy(value) ? value : right;
    }
    return value;
  }
  const value = or();
  if (at !== tokens.length) throw new Error(`unparsed rest of ${expression}: ${tokens.slice(at).join(" ")}`);
  return value;
}

/** GitHub's branch and tag filters: `*` matches anything but `/`, `**` anything. */
const globMatches = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern
      .split("**")
      .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replaceAll("*", "[^/]*"))
      .join(".*")}$`,
  ).test(name);

/** Whether the workflow starts for an event on a ref, from its `on:` filters. */
function workflowStarts(workflow: Workflow, event: string, ref: string): boolean {
  if (!(event in workflow.on)) return false;
  const filters = workflow.on[event];
  if (event !== "push" || filters === null) return true;
  const [kind, name] = ref.startsWith("refs/tags/")
    ? (["tags", ref.slice("refs/tags/".length)] as const)
    : (["branches", ref.slice("refs/heads/".length)] as const);
  const patterns: string[] | undefined = filters[kind];
  return patterns?.some((pattern) => globMatches(pattern, name)) ?? false;
}

/** The jobs that run for an event, ref and (for a manual dispatch) chosen environment. */
function jobsRun(workflow: Workflow, event: string, ref: string, environment?: string): string[] {
  if (!workflowStarts(workflow, event, ref)) return [];
  const context: Context = {
    github: { event_name: event, ref },
    inputs: environment === undefined ? {} : { environment },
  };
  return Object.entries(workflow.jobs)
    .filter(([, job]) => job.if === undefined || Boolean(evaluate(job.if.replace(/^\$\{\{|\}\}$/g, ""), context)))
    .map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// Reading steps
// ---------------------------------------------------------------------------------------------
/** Shell words of a run line, double quotes removed (the runs here use no other quoting). */
const words = (run: string) => [...run.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
/** Everything a step hands to a command: its run line, action inputs and environment. */
const stepText = (step: Step) => JSON.stringify([step.run ?? "", step.with ?? {}, step.env ?? {}]);
const runs = (step: Step, pattern: RegExp) => pattern.test(step.run ?? "");
const usesWranglerAction = (step: Step) => step.uses?.startsWith("cloudflare/wrangler-action@") ?? false;
/** A step that can reach Cloudflare: it is given the token, or runs wrangler or a deploy script. */
const touchesCloudflare = (step: Step) =>
  stepText(step).includes("CLOUDFLARE_API_TOKEN") ||
  usesWranglerAction(step) ||
  runs(step, /\bwrangler\b|scripts\/deploy\//);
/** The rollout script, which uploads the version and deploys it. */
const isRollout = (step: Step) => runs(step, /scripts\/deploy\/gradual\.ts\b/);
/** A step that uploads code: wrangler (directly or through the action) or the rollout script. */
const isUpload = (step: Step) =>
  isRollout(step) ||
  runs(step, /\bwrangler\s+(versions\s+upload|deploy)\b/) ||
  (usesWranglerAction(step) && /\b(versions\s+upload|deploy)\b/.test(String(step.with?.command ?? "")));
/** An option's value in a run line's words (`--name value` or `--name=value`). */
const option = (args: string[], name: string) => {
  const i = args.findIndex((word) => word === name || word.startsWith(`${name}=`));
  return i === -1 ? undefined : args[i]!.includes("=") ? args[i]!.split("=").slice(1).join("=") : args[i + 1];
};
/** `$NAME` / `${NAME}` in a run line, resolved against the step's env. */
const resolve = (word: string, step: Step) =>
  word.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => String(step.env?.[name] ?? whole));
const index = (job: Job, predicate: (step: Step) => boolean) => job.steps.findIndex(predicate);

describe("ci.yml", () => {
  it("runs .ci/run on every push and pull request, on Node 20", () => {
    expect(workflowStarts(ci, "push", "refs/heads/any-branch")).toBe(true);
    expect(workflowStarts(ci, "push", "refs/tags/v1.0.0")).toBe(true);
    expect(workflowStarts(ci, "pull_request", "refs/pull/7/merge")).toBe(true);
    for (const job of Object.values(ci.jobs)) {
      expect(job.if).toBeUndefined();
      expect(job.steps.map((step) => step.run).filter(Boolean)).toEqual([".ci/run"]);
      expect(job.steps.find((step) => step.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(20);
    }
  });
});

describe("deploy.yml: when each job runs", () => {
  it.each([
    ["push", "refs/heads/main", undefined, ["staging"]],
    ["push", "refs/heads/feature/x", undefined, []],
    ["push", "refs/tags/v1.2.0", undefined, ["production"]],
    ["push", "refs/tags/release-1", undefined, []],
    ["pull_request", "refs/pull/7/merge", undefined, []],
    ["workflow_dispatch", "refs/heads/main", "staging", ["staging"]],
    ["workflow_dispatch", "refs/heads/feature/x", "staging", ["staging"]],
    ["workflow_dispatch", "refs/heads/main", "production", ["production"]],
    ["workflow_dispatch", "refs/tags/v1.2.0", "production", ["production"]],
    ["workflow_dispatch", "refs/heads/feature/x", "production", []],
    ["workflow_dispatch", "refs/heads/main-old", "production", []],
    ["workflow_dispatch", "refs/heads/v2", "production", []],
  ] as const)("%s on %s (input %s): %j", (event, ref, input, expected) => {
    expect(jobsRun(deploy, event, ref, input)).toEqual(expected);
  });

  it("offers exactly the two environments for a manual dispatch", () => {
    expect(deploy.on.workflow_dispatch.inputs.environment.options).toEqual([...ENVIRONMENTS]);
    expect(Object.keys(deploy.jobs).sort()).toEqual([...ENVIRONMENTS].sort());
  });

  it("reads the repository only", () => {
    expect(deploy.permissions).toEqual({ contents: "read" });
  });
});

describe("deploy.yml: secrets stay in Cloudflare", () => {
  it("references no secret but the Cloudflare token and account id", () => {
    const expressions = [
      ...[...deployText.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!),
      ...Object.values(deploy.jobs).flatMap((job) => [job.if ?? "", ...job.steps.map((step) => step.if ?? "")]),
    ];
    const secretUses = expressions.flatMap((expression) => [...expression.matchAll(/\bsecrets\b(\s*\.\s*\w+)?/g)]);
    expect(secretUses.length).toBeGreaterThan(0);
    for (const use of secretUses) expect(CLOUDFLARE_SECRETS).toContain(use[1]?.replace(/[\s.]/g, ""));
    expect(deployText).not.toMatch(/secrets\s*:\s*inherit/);
  });

  it.each(ENVIRONMENTS)("%s: hands no gateway secret to any step, by input, env or wrangler", (name) => {
    const job = deploy.jobs[name]!;
    expect(JSON.stringify([deploy.env ?? {}, job.env ?? {}])).not.toMatch(/CLOUDFLARE_API_TOKEN/);
    for (const step of job.steps) {
      expect(step.with ?? {}).not.toHaveProperty("secrets");
      for (const secret of SECRET_NAMES) expect(stepText(step)).not.toContain(secret);
      expect(step.run ?? "").not.toMatch(/\bsecret\s+(put|bulk)\b|--secrets-file/);
    }
  });
});

describe.each(ENVIRONMENTS)("deploy.yml: the %s job", (name) => {
  const job = deploy.jobs[name]!;
  const ciRun = index(job, (step) => step.run?.trim() === ".ci/run");
  const doctor = index(job, (step) => runs(step, /\bnpm run doctor\b/));
  const secretCheck = index(job, (step) => runs(step, /scripts\/deploy\/check-secrets\.ts\b/));
  const upload = index(job, isUpload);
  const rollout = job.steps.find(isRollout);

  it("runs in its own GitHub environment, one deploy at a time, and never ignores a failure", () => {
    expect(job.environment).toBe(name);
    expect(job.concurrency).toBeTruthy();
    expect(JSON.stringify(job.concurrency)).toContain(name);
    expect(job["continue-on-error"]).toBeUndefined();
    for (const step of job.steps) {
      expect(step["continue-on-error"]).toBeUndefined();
      expect(step.run ?? "").not.toMatch(/\|\|\s*(true\b|:(\s|$))|;\s*exit 0\b|set \+e/);
    }
  });

  it("runs .ci/run before anything touches Cloudflare, and .ci/run gets no token", () => {
    expect(ciRun).toBeGreaterThanOrEqual(0);
    const first = index(job, touchesCloudflare);
    expect(first).toBeGreaterThan(ciRun);
    expect(job.steps.slice(0, ciRun + 1).some(touchesCloudflare)).toBe(false);
  });

  it("runs the doctor on its own environment's vars only, offline, before any upload", () => {
    expect(doctor).toBeGreaterThan(ciRun);
    expect(doctor).toBeLessThan(upload);
    const args = words(job.steps[doctor]!.run!);
    expect(args).toContain("--vars-only");
    expect(option(args, "--env")).toBe(name);
    expect(touchesCloudflare(job.steps[doctor]!)).toBe(false);
  });

  it("checks the secrets exist on its own Worker before any upload", () => {
    expect(secretCheck).toBeGreaterThan(ciRun);
    expect(secretCheck).toBeLessThan(upload);
    expect(option(words(job.steps[secretCheck]!.run!), "--env")).toBe(name);
  });

  it("names its own environment in every --env", () => {
    const envs = job.steps.flatMap((step) => {
      const fromRun = step.run ? words(step.run) : [];
      const fromAction = usesWranglerAction(step) ? words(String(step.with?.command ?? "")) : [];
      return [...fromRun, ...fromAction].flatMap((word, i, all) =>
        word === "--env" || word === "-e" ? [all[i + 1]] : word.startsWith("--env=") ? [word.slice(6)] : [],
      );
    });
    expect(envs.length).toBeGreaterThanOrEqual(3);
    for (const env of envs) expect(env).toBe(name);
    for (const step of job.steps.filter(usesWranglerAction)) expect(step.with?.environment).toBe(name);
  });

  it("deploys through the rollout script only (never a plain `wrangler deploy`)", () => {
    expect(rollout).toBeDefined();
    expect(upload).toBe(job.steps.indexOf(rollout!));
    expect(upload).toBeGreaterThan(Math.max(ciRun, doctor, secretCheck));
    expect(job.steps.filter(isUpload)).toEqual([rollout]);
    for (const step of job.steps) expect(stepText(step)).not.toMatch(/wrangler(-action)?\W+deploy\b(?!\s+--dry-run)/);
  });

  it(
    name === "production"
      ? "uploads a version, deploys a share first, checks /healthz after each step, rolls back and fails if not ready"
      : "uploads a version, deploys it, checks /healthz, rolls back and fails if not ready",
    async () => {
      const args = words(rollout!.run!);
      expect(option(args, "--env")).toBe(name);
      expect(resolve(option(args, "--url")!, rollout!)).toBe("${{ vars.GATEWAY_URL }}");
      const steps = gradual.parseSteps(option(args, "--steps") ?? "100");
      if (name === "production") expect(steps[0]).toBeLessThan(100);
      expect(steps.at(-1)).toBe(100);

      // The rollout as configured, against a stand-in Cloudflare.
      const NEW = "0f3c2a1b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
      const OLD = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
      const simulate = async (healthy: boolean) => {
        const events: string[] = [];
        const envs: Array<string | undefined> = [];
        const code = await gradual.rollOut(
          {
            env: name,
            workerName: `gw-${name}`,
            url: "https://gw.example.com",
            steps,
            tag: option(args, "--tag"),
            message: option(args, "--message"),
          },
          {
            attempts: 2,
            intervalMs: 0,
            sleep: async () => {},
            log: () => {},
            wrangler: async (wranglerArgs) => {
              events.push(
                wranglerArgs.slice(0, wranglerArgs[1] === "deploy" && wranglerArgs[0] === "versions" ? 3 : 2).join(" "),
              );
              envs.push(option(wranglerArgs, "--env"));
              const status = JSON.stringify({ versions: [{ version_id: OLD, percentage: 100 }] });
              const upload = JSON.stringify({ type: "version-upload", version: 1, version_id: NEW });
              return {
                code: 0,
                stdout: wranglerArgs[0] === "deployments" ? status : "",
                stderr: "",
                output: wranglerArgs[1] === "upload" ? upload : undefined,
              };
            },
            get: async (url) => {
              events.push(`GET ${new URL(url).pathname}`);
              return { status: healthy ? 200 : 503, body: JSON.stringify({ status: healthy ? "ready" : "not_ready" }) };
            },
          },
        );
        expect(envs.every((env) => env === name)).toBe(true);
        return { code, events };
      };

      const good = await simulate(true);
      expect(good.code).toBe(0);
      expect(good.events).toEqual([
        "deployments status",
        "versions upload",
        "triggers deploy",
        ...steps.flatMap((pct) => [`versions deploy ${NEW}@${pct}%`, "GET /healthz"]),
      ]);

      const bad = await simulate(false);
      expect(bad.code).not.toBe(0);
      expect(bad.events.at(-1)).toBe(`rollback ${OLD}`);
      expect(bad.events.filter((event) => event.startsWith("versions deploy"))).toHaveLength(1);
    },
  );

  it("uses the wrangler the project pins", () => {
    for (const step of job.steps) {
      if (usesWranglerAction(step)) expect(step.with?.wranglerVersion).toBe(PINNED_WRANGLER);
      // npx runs node_modules/.bin/wrangler from `npm ci`, never a fresh download of another version.
      const args = words(step.run ?? "");
      args.forEach((word, i) => {
        if (!/^wrangler(@|$)/.test(word)) return;
        expect(word).toBe("wrangler");
        expect(
          args
            .slice(0, i)
            .filter((w) => w !== "--no-install")
            .at(-1),
        ).toBe("npx");
      });
      expect(step.run ?? "").not.toMatch(/\bnpm\s+(i|install|add)\b.*\bwrangler\b/);
    }
  });
});

describe("deploy.yml: wrangler", () => {
  it("is the version package.json pins, exactly, and the lockfile installs it", () => {
    expect(PINNED_WRANGLER).toMatch(/^\d+\.\d+\.\d+$/);
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
    expect(lock.packages["node_modules/wrangler"].version).toBe(PINNED_WRANGLER);
  });
});
