import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GATEWAY_ERRORS } from "../../src/errors";

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
