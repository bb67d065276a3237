import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { FAULT_MODES } from "../../sandbox/faults.mjs";
import { fetchScalarBundle } from "../../scripts/assets/scalar-bundle";
import { ASSETS_DIR, buildAssets } from "../../scripts/build-assets";
import { COMPATIBILITY_DATE } from "../../scripts/local-gateway";
import { GATEWAY_ERRORS } from "../../src/errors";
import { RATE_LIMIT_PERIOD_S } from "../../src/middleware/rate-limit";
import {
  ERROR_PAGE_FILE_PATH,
  FAVICON_PATH,
  OPENAPI_FILE_PATH,
  SCALAR_BUNDLE,
  SCALAR_VERSION,
} from "../../src/routes/assets";
import { SECRET_NAMES } from "../../src/settings/report";

const readme = readFileSync("README.md", "utf8");
const wranglerToml = readFileSync("wrangler.toml", "utf8");
const devVarsExample = readFileSync(".dev.vars.example", "utf8");
const docs = readdirSync("docs")
  .filter((name) => name.endsWith(".md"))
  .map((name) => `docs/${name}`)
  .sort();
/** Relative link targets in a Markdown text, without their #anchor. */
const linkTargets = (text: string) =>
  [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split("#")[0]!)
    .filter((target) => target !== "" && !/^[a-z]+:/i.test(target));
/** Figures that change from run to run (bench and soak), kept in docs/performance.md only. */
const RUN_FIGURES = /req\/s|MiB|ms\/req|ops\/s/;

describe("README", () => {
  it.each(["README.md", "packages/client/README.md"])(
    "%s shows the client example exactly as the outsider fixture compiles and runs it",
    (path) => {
      const example = readFileSync("test/fixtures/outsider/src/close-an-order.mts", "utf8").trimEnd();
      expect(readFileSync(path, "utf8")).toContain(`\`\`\`ts\n${example}\n\`\`\``);
    },
  );

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
    const secrets = SECRET_NAMES;
    expect(vars.length).toBeGreaterThan(0);
    for (const name of [...vars, ...secrets]) expect(readme).toContain(`| \`${name}\` |`);
    for (const name of secrets) expect(devVarsExample).toMatch(new RegExp(`^${name}=`, "m"));
  });

  it("is at most 250 lines", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
  });

  it("links only docs files that exist", () => {
    const linked = linkTargets(readme).filter((target) => target.startsWith("docs/"));
    expect(linked.length).toBeGreaterThan(0);
    for (const target of linked) expect(existsSync(target), target).toBe(true);
  });

  it.each(docs)("links %s", (path) => {
    expect(linkTargets(readme)).toContain(path);
  });

  it("carries no bench or soak figures (they live in docs/performance.md)", () => {
    expect(readme).not.toMatch(RUN_FIGURES);
  });
});

describe("docs/", () => {
  it("holds the documentation the README links to", () => {
    expect(docs.length).toBeGreaterThan(0);
  });

  it.each(docs)("%s: every relative link points to an existing file", (path) => {
    for (const target of linkTargets(readFileSync(path, "utf8")))
      expect(existsSync(join(dirname(path), target)), `${path} -> ${target}`).toBe(true);
  });

  it.each(docs.filter((path) => path !== "docs/performance.md"))(
    "%s carries no bench or soak figures (they live in docs/performance.md)",
    (path) => {
      expect(readFileSync(path, "utf8")).not.toMatch(RUN_FIGURES);
    },
  );

  it.each(Object.keys(FAULT_MODES))("docs/sandbox.md describes the %s fault mode", (name) => {
    expect(readFileSync("docs/sandbox.md", "utf8")).toContain(`\`${name.toUpperCase()}`);
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
        "NOTIFY_RATE_LIMITER",
        "READ_RATE_LIMITER",
      ]);
      for (const limiter of config.ratelimits as Array<{ simple: { period: number } }>)
        expect(limiter.simple.period).toBe(RATE_LIMIT_PERIOD_S);
    },
  );

  it.each([undefined, "staging", "production"])(
    "environment %s: the API reference's files are static assets that only the Worker's routes serve",
    (env) => {
      const { assets } = unstable_readConfig({ config: "wrangler.toml", env });
      expect(assets).toMatchObject({
        binding: "ASSETS",
        run_worker_first: true,
        html_handling: "none",
        not_found_handling: "none",
      });
      expect(resolve(assets!.directory!)).toBe(ASSETS_DIR);
    },
  );

  it("uses the compatibility date the local runs use", () => {
    expect(unstable_readConfig({ config: "wrangler.toml" }).compatibility_date).toBe(COMPATIBILITY_DATE);
  });
});

describe("npm run build:assets", () => {
  it("writes every file the Worker serves, from the committed document and Scalar's pinned tarball", () => {
    const root = mkdtempSync(join(tmpdir(), "gw-assets-"));
    try {
      buildAssets(root);
      const file = (path: string) => readFileSync(join(root, path));
      expect(JSON.parse(file(OPENAPI_FILE_PATH).toString())).toEqual(
        JSON.parse(readFileSync("src/openapi.json", "utf8")),
      );
      expect(file(ERROR_PAGE_FILE_PATH).toString()).toContain('<tr id="UPSTREAM_TIMEOUT">');
      expect(file(FAVICON_PATH).toString()).toMatch(/^<svg /);
      expect(file(SCALAR_BUNDLE).toString()).toContain(`@scalar/api-reference@${SCALAR_VERSION}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses Scalar's tarball when its integrity is not the pinned one", () => {
    const wrong = `sha512-${"A".repeat(86)}==`;
    expect(() => fetchScalarBundle(SCALAR_VERSION, wrong)).toThrow(/integrity is sha512-.* not the pinned sha512-A+==/);
  });
});
