/**
 * The workflows' properties, not their text: who runs what, in which order, with which secrets,
 * against which Worker. The `if:` expressions are evaluated, not matched, and each deploy job is read
 * as GitHub runs it: the reusable workflow it calls, with the job's inputs filled in.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";
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
  /** A job that runs a reusable workflow: its path, inputs and secrets. */
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
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
/** The reusable workflows deploy.yml's jobs call (`uses: ./.github/workflows/<file>`), by path, with their text. */
const called = new Map(
  [...new Set(Object.values(deploy.jobs).flatMap((job) => (job.uses ? [job.uses] : [])))].map((uses) => {
    const file = /^\.\/\.github\/workflows\/([\w.-]+\.ya?ml)$/.exec(uses)?.[1];
    if (!file) throw new Error(`${uses}: not a workflow of this repository`);
    const text = read(file);
    return [uses, { file, text, workflow: parse(text) as Workflow }] as const;
  }),
);
/** deploy.yml and the workflows it calls: where secrets and expressions may appear. */
const deployTexts = [deployText, ...[...called.values()].map((c) => c.text)];

/**
 * A deploy.yml job as GitHub runs it: for a job that calls a reusable workflow, that workflow's one job with the
 * caller's inputs filled in (its `env` on top of the called workflow's); otherwise the job itself.
 */
function runningJob(name: string): { job: Job; env: Record<string, unknown> } {
  const caller = deploy.jobs[name]!;
  if (!caller.uses) return { job: caller, env: { ...deploy.env, ...caller.env } };
  const { workflow } = called.get(caller.uses)!;
  const jobs = Object.values(workflow.jobs);
  if (jobs.length !== 1) throw new Error(`${caller.uses} has ${jobs.length} jobs; the test reads one`);
  const job = withInputs(jobs[0]!, caller.with ?? {});
  return { job, env: { ...workflow.env, ...job.env } };
}
const ENVIRONMENTS = ["staging", "production"] as const;
const CLOUDFLARE_SECRETS = ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"];
const PINNED_WRANGLER = JSON.parse(readFileSync("package.json", "utf8")).devDependencies.wrangler as string;

// ---------------------------------------------------------------------------------------------
// GitHub expressions, evaluated by GitHub's own expression library (@actions/expressions)
// ---------------------------------------------------------------------------------------------
type Context = Record<string, Record<string, unknown>>;

/** The value of a GitHub expression (the text inside `${{ }}`, or a job's `if:`) with `context`. */
function evaluate(expression: string, context: Context): data.ExpressionData {
  const parsed = new Parser(new Lexer(expression).lex().tokens, Object.keys(context), []).parse();
  return new Evaluator(parsed, JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary).evaluate();
}

/**
 * `value` with every `${{ … }}` that reads only `inputs` replaced by its value, as GitHub does for a called workflow;
 * any other expression (secrets, vars) is kept as written. Strings, arrays and objects, all the way down.
 */
function withInputs<T>(value: T, inputs: Record<string, unknown>): T {
  if (typeof value === "string") {
    return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (whole, expression: string) => {
      try {
        return evaluate(expression, { inputs }).coerceString();
      } catch {
        return whole; // names another context: GitHub fills it in at run time
      }
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item) => withInputs(item, inputs)) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withInputs(item, inputs)])) as T;
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
    .filter(([, job]) => job.if === undefined || truthy(evaluate(job.if.replace(/^\$\{\{|\}\}$/g, ""), context)))
    .map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// Reading steps
// ---------------------------------------------------------------------------------------------
/** Shell words of a run line, double quotes removed (the runs here use no other quoting). */
const words = (run: string) => [...run.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
/** `$NAME` / `${NAME}` in a word, resolved against the variables a step sees (the job's, then its own). */
const resolve = (word: string, variables: Record<string, unknown>) =>
  word.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => String(variables[name] ?? whole));
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
const index = (job: Job, predicate: (step: Step) => boolean) => job.steps.findIndex(predicate);

/**
 * What GitHub's own workflow parser (@actions/workflow-parser) says about a workflow file: its errors, and how many
 * jobs it read. In a child process: the parser imports its schema as JSON without an import attribute, which Node
 * refuses and tsx's loader allows.
 */
const GITHUB_PARSER = `
  import { readFileSync } from "node:fs";
  import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
  const file = process.argv[1];
  const parsed = parseWorkflow({ name: file, content: readFileSync(file, "utf8") }, new NoOperationTraceWriter());
  const template = parsed.value ? await convertWorkflowTemplate(parsed.context, parsed.value) : undefined;
  const errors = [...parsed.context.errors.getErrors().map((e) => e.message), ...(template?.errors ?? []).map((e) => e.Message)];
  console.log(JSON.stringify({ errors, jobs: template?.jobs.length ?? 0 }));
`;
const githubParser = (file: string) =>
  JSON.parse(
    execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", GITHUB_PARSER, file], {
      encoding: "utf8",
    }),
  ) as { errors: string[]; jobs: number };

describe.each(readdirSync(".github/workflows").filter((file) => /\.ya?ml$/.test(file)))("%s", (file) => {
  it("is a workflow GitHub accepts: its own parser finds no error", () => {
    const { errors, jobs } = githubParser(`.github/workflows/${file}`);
    expect(errors).toEqual([]);
    expect(jobs).toBeGreaterThan(0);
  });
});

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

  it("reads the repository only, and so do the workflows it calls", () => {
    expect(deploy.permissions).toEqual({ contents: "read" });
    for (const { workflow } of called.values()) expect(workflow.permissions).toEqual({ contents: "read" });
  });
});

describe("deploy.yml: one deploy job for both environments", () => {
  it("both call the same reusable workflow, each with its own environment as input", () => {
    const uses = ENVIRONMENTS.map((name) => deploy.jobs[name]!.uses);
    expect(uses[0]).toBeDefined();
    expect(new Set(uses).size).toBe(1);
    for (const name of ENVIRONMENTS) expect(deploy.jobs[name]!.with?.environment).toBe(name);
  });

  it("the called workflow starts only when called, and takes the environment and the rollout steps", () => {
    for (const { workflow } of called.values()) {
      expect(Object.keys(workflow.on)).toEqual(["workflow_call"]);
      for (const [event, ref] of [
        ["push", "refs/heads/main"],
        ["push", "refs/tags/v1.2.0"],
        ["pull_request", "refs/pull/7/merge"],
        ["workflow_dispatch", "refs/heads/main"],
      ] as const)
        expect(workflowStarts(workflow, event, ref)).toBe(false);
      const inputs = workflow.on.workflow_call.inputs;
      expect(inputs.environment).toMatchObject({ type: "string", required: true });
      expect(inputs.steps).toMatchObject({ type: "string", required: true });
    }
  });
});

describe("deploy.yml: secrets stay in Cloudflare", () => {
  it("references no secret but the Cloudflare token and account id, in it or in the workflows it calls", () => {
    const expressions = [
      ...deployTexts.flatMap((text) => [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!)),
      ...Object.values(deploy.jobs).map((job) => job.if ?? ""),
      ...ENVIRONMENTS.map((name) => runningJob(name).job).flatMap((job) => [
        job.if ?? "",
        ...job.steps.map((step) => step.if ?? ""),
      ]),
    ];
    const secretUses = expressions.flatMap((expression) => [...expression.matchAll(/\bsecrets\b(\s*\.\s*\w+)?/g)]);
    expect(secretUses.length).toBeGreaterThan(0);
    for (const use of secretUses) expect(CLOUDFLARE_SECRETS).toContain(use[1]?.replace(/[\s.]/g, ""));
    for (const text of deployTexts) expect(text).not.toMatch(/secrets\s*:\s*inherit/);
  });

  it.each(ENVIRONMENTS)("%s: hands no gateway secret to any step, by input, env or wrangler", (name) => {
    const caller = deploy.jobs[name]!;
    const { job, env } = runningJob(name);
    expect(JSON.stringify([deploy.env ?? {}, caller.env ?? {}, env])).not.toMatch(/CLOUDFLARE_API_TOKEN/);
    for (const secret of SECRET_NAMES) expect(JSON.stringify(caller.with ?? {})).not.toContain(secret);
    for (const passed of Object.keys(caller.secrets ?? {})) expect(CLOUDFLARE_SECRETS).toContain(passed);
    for (const step of job.steps) {
      expect(step.with ?? {}).not.toHaveProperty("secrets");
      for (const secret of SECRET_NAMES) expect(stepText(step)).not.toContain(secret);
      expect(step.run ?? "").not.toMatch(/\bsecret\s+(put|bulk)\b|--secrets-file/);
    }
  });
});

describe.each(ENVIRONMENTS)("deploy.yml: the %s job", (name) => {
  const caller = deploy.jobs[name]!;
  const { job, env: jobEnv } = runningJob(name);
  /** A step's run line as the shell gets it: its words, each variable the step sees filled in. */
  const argsOf = (step: Step) => words(step.run ?? "").map((word) => resolve(word, { ...jobEnv, ...step.env }));
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
    expect(caller["continue-on-error"]).toBeUndefined();
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
    const args = argsOf(job.steps[doctor]!);
    expect(args).toContain("--vars-only");
    expect(option(args, "--env")).toBe(name);
    expect(touchesCloudflare(job.steps[doctor]!)).toBe(false);
  });

  it("checks the secrets exist on its own Worker before any upload", () => {
    expect(secretCheck).toBeGreaterThan(ciRun);
    expect(secretCheck).toBeLessThan(upload);
    expect(option(argsOf(job.steps[secretCheck]!), "--env")).toBe(name);
  });

  it("names its own environment in every --env", () => {
    const envs = job.steps.flatMap((step) => {
      const fromRun = argsOf(step);
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
      const args = argsOf(rollout!);
      expect(option(args, "--env")).toBe(name);
      expect(option(args, "--url")).toBe("${{ vars.GATEWAY_URL }}");
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
      const args = argsOf(step);
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
