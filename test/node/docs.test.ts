import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { COMPATIBILITY_DATE } from "../../scripts/local-gateway.mjs";
import { GATEWAY_ERRORS } from "../../src/errors";
import { RATE_LIMIT_PERIOD_S } from "../../src/middleware/rate-limit";

const readme = readFileSync("README.md", "utf8");
const wranglerToml = readFileSync("wrangler.toml", "utf8");
const devVarsExample = readFileSync(".dev.vars.example", "utf8");

describe("README", () => {
  it("starts with the two commands a newcomer needs", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toMatch(/^npm ci && npm start\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
    expect(readme.indexOf("```sh")).toBeLessThan(readme.indexOf("\n## "));
  });

  it.each(Object.entries(GATEWAY_ERRORS))("lists %s with its HTTP status", (code, status) => {
    expect(readme).toMatch(new RegExp(`\\| ${status} \\| \`${code}\` \\|`));
  });

  it("documents every setting in wrangler.toml, and every secret in .dev.vars.example", () => {
    const vars = [...wranglerToml.matchAll(/^([A-Z_]+) = /gm)].map((m) => m[1]!);
    const secrets = JSON.parse(/required = (\[.*\])/.exec(wranglerToml)![1]!) as string[];
    expect(vars.length).toBeGreaterThan(0);
    for (const name of [...vars, ...secrets]) expect(readme).toContain(`| \`${name}\` |`);
    for (const name of secrets) expect(devVarsExample).toMatch(new RegExp(`^${name}=`, "m"));
  });
});

describe("wrangler.toml", () => {
  it.each([undefined, "staging", "production"])(
    "environment %s: each limiter's period is the Retry-After the gateway sends",
    (env) => {
      const config = unstable_readConfig({ config: "wrangler.toml", env });
      expect(config.ratelimits.map((limiter: { name: string }) => limiter.name).sort()).toEqual([
        "CALLER_RATE_LIMITER",
        "MERCHANT_RATE_LIMITER",
      ]);
      for (const limiter of config.ratelimits as Array<{ simple: { period: number } }>)
        expect(limiter.simple.period).toBe(RATE_LIMIT_PERIOD_S);
    },
  );

  it("uses the compatibility date the local runs use", () => {
    expect(unstable_readConfig({ config: "wrangler.toml" }).compatibility_date).toBe(COMPATIBILITY_DATE);
  });
});
