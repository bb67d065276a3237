import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { parse } from "yaml";

type Step = { uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
type Job = { if?: string; environment?: string; steps: Step[] };
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML; the assertions check its shape
type Workflow = { on: Record<string, any>; jobs: Record<string, Job> };

const load = (file: string) => parse(readFileSync(`.github/workflows/${file}`, "utf8")) as Workflow;
const ci = load("ci.yml");
const deploy = load("deploy.yml");
const REQUIRED_SECRETS = ["SPARKPAY_PRIVATE_KEY", "SPARKPAY_PLATFORM_PUBLIC_KEY", "GATEWAY_API_KEYS"];

describe("ci.yml", () => {
  it("runs .ci/run on every push and pull request, on Node 20", () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["push", "pull_request"]));
    expect(ci.on.push).toBeNull(); // every branch
    const steps = Object.values(ci.jobs).flatMap((job) => job.steps);
    expect(steps.map((step) => step.run).filter(Boolean)).toEqual([".ci/run"]);
    expect(steps.find((step) => step.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(20);
  });
});

describe("deploy.yml", () => {
  const action = (job: Job) => job.steps.find((step) => step.uses?.startsWith("cloudflare/wrangler-action@"))!;

  it.each([
    ["staging", /github\.ref == 'refs\/heads\/main'/],
    ["production", /startsWith\(github\.ref, 'refs\/tags\/v'\)/],
  ])(
    "%s: its own GitHub environment, wrangler-action pinned to a major, environment input and --env agree",
    (name, trigger) => {
      const job = deploy.jobs[name]!;
      expect(job.environment).toBe(name);
      expect(job.if).toMatch(trigger);
      expect(job.if).toMatch(new RegExp(`inputs\\.environment == '${name}'`));
      const step = action(job);
      expect(step.uses).toMatch(/^cloudflare\/wrangler-action@v\d+$/);
      expect(step.with!.environment).toBe(name);
      expect(step.with!.command).toBe(`deploy --env ${name}`);
      expect(step.with!.apiToken).toBe("${{ secrets.CLOUDFLARE_API_TOKEN }}");
      expect(step.with!.accountId).toBe("${{ secrets.CLOUDFLARE_ACCOUNT_ID }}");
      // Every secret wrangler.toml requires for this environment is uploaded, from this environment's secrets.
      const required = unstable_readConfig({ config: "wrangler.toml", env: name }).secrets?.required ?? [];
      expect(required.sort()).toEqual([...REQUIRED_SECRETS].sort());
      expect(step.with!.secrets!.trim().split("\n").sort()).toEqual(required);
      for (const secret of required) expect(step.env![secret]).toBe(`\${{ secrets.${secret} }}`);
      // Tests run before anything is deployed.
      expect(job.steps.findIndex((s) => s.run === ".ci/run")).toBeLessThan(job.steps.indexOf(step));
    },
  );

  it("deploys staging on pushes to main, production on v* tags or a manual dispatch", () => {
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.on.push.tags).toEqual(["v*"]);
    expect(deploy.on.workflow_dispatch.inputs.environment.options).toEqual(["staging", "production"]);
    // Production never deploys on a plain push to main, and a manual run must come from main or a tag.
    expect(deploy.jobs.production!.if).not.toMatch(/event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(deploy.jobs.production!.if).toMatch(
      new RegExp(
        String.raw`workflow_dispatch' && inputs\.environment == 'production' && ` +
          String.raw`\(github\.ref == 'refs\/heads\/main' \|\| startsWith\(github\.ref, 'refs\/tags\/v'\)\)`,
      ),
    );
  });

  it("uses the wrangler version the project pins", () => {
    const pinned = JSON.parse(readFileSync("package.json", "utf8")).devDependencies.wrangler;
    for (const job of Object.values(deploy.jobs)) expect(action(job).with!.wranglerVersion).toBe(pinned);
  });
});
