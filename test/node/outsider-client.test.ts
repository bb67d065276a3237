/**
 * The client package (packages/client, `sparkpay-edge-gateway/client`) as outside projects use it, against the deploy
 * bundle in workerd with the sandbox as SparkPay:
 * - test/fixtures/outsider, copied to a temp directory with the package linked into its node_modules (as
 *   `npm install` of its file: dependency would), compiled by `tsc` on its own strict config alone (ES2022, no ambient
 *   types) and run with node;
 * - a project made by `npm init -y` ("type": "commonjs") that follows the package's README: installs it by path, adds
 *   TypeScript and Node's types, takes `tsc --init`'s config plus the README's one change, compiles the example, runs it;
 * - the package installed from a git URL (`::path:packages/client` at a commit id), and as `npm pack` would publish it.
 * The package's committed build (dist/) is also driven directly, through a fake fetch and inside a Worker.
 */
import { type ExecFileException, execFile, execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import type * as Client from "sparkpay-edge-gateway/client";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createSandbox, SANDBOX_APP_ID } from "../../sandbox/sparkpay-sandbox.mjs";
import { buildDeployBundle } from "../../scripts/build-bundle";
import { generateCallerKey, generateRsaKeyPair } from "../../scripts/lib/keygen";
import { migrationStatements } from "../../scripts/lib/migrations";
import { freeLoopbackPort } from "../../scripts/lib/ports";
import {
  COMPATIBILITY_DATE,
  durableClosesBindings,
  sandboxSettings,
  startLocalGateway,
} from "../../scripts/local-gateway";
// The only gateway symbols the client's types are checked against (at the end of this file).
import type { CloseJob } from "../../src/closes/job";
import type { CloseEvent, GatewayEvent, OrderUpdatedEvent } from "../../src/closes/webhook";
import type { GATEWAY_ERRORS } from "../../src/errors";
import type { ErrorEnvelope } from "../../src/schemas";
import type { CloseOrderResponse, QueryOrderResponse } from "../../src/sparkpay/schemas";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGE = join(ROOT, "packages/client");
const BUILT = join(PACKAGE, "dist");
const PACKAGE_NAME = "sparkpay-edge-gateway";
const FIXTURE = join(ROOT, "test/fixtures/outsider");
/** The README example (README.md and packages/client/README.md show it byte for byte: test/node/docs.test.ts). */
const EXAMPLE = join(FIXTURE, "src/close-an-order.mts");
const TSC = join(ROOT, "node_modules/.bin/tsc");
/** What `npm pack` puts in the package, and so what a git URL installs. */
const PACKED = ["README.md", "dist/index.d.ts", "dist/index.js", "dist/types.d.ts", "dist/types.js", "package.json"];
const MERCHANT = "M_SANDBOX_001";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const merchant = generateRsaKeyPair();
const platform = generateRsaKeyPair();
const callerKey = generateCallerKey();
const sandbox = createSandbox({ merchantPublicKey: merchant.publicKeyPem, platformPrivateKey: platform.privateKeyPem });
const run = Date.now().toString(36).toUpperCase();

let fixture: string;
let tsc: { status: number | null; output: string; files: string[] };
let client: typeof Client;
let mf: Miniflare | undefined;
let gatewayUrl: string;
/** Temp directories to remove at the end (none holds a link into the repository). */
const scratch: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: JSON lines the script printed; the assertions check their shape
type Line = Record<string, any>;

/** Runs a compiled script with node, as its owner would; its JSON lines and exit code. */
function runScript(script: string, env: Record<string, string>): Promise<{ code: number; lines: Line[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script],
      { env: { PATH: process.env.PATH ?? "", GATEWAY_URL: gatewayUrl, GATEWAY_API_KEY: callerKey, ...env } },
      (error: ExecFileException | null, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        if (stderr.trim() !== "") return reject(new Error(`${script} wrote to stderr:\n${stderr}`));
        const lines = stdout.trim().split("\n").filter(Boolean);
        resolve({ code: error ? Number(error.code) : 0, lines: lines.map((line) => JSON.parse(line) as Line) });
      },
    );
  });
}

/** The README example's lines for a first run on a fresh order. */
const firstRun = (orderNo: string) => ({
  code: 0,
  lines: [
    { step: "close", order: `MO_${orderNo}`, confirmedBy: "close" },
    {
      step: "schedule",
      order: expect.stringMatching(new RegExp(`^${orderNo}_LATER_[0-9a-z]+$`)),
      status: "scheduled",
      created: true,
    },
    { step: "read", status: "scheduled" },
    { step: "cancel", status: "cancelled" },
    { step: "query", pay_status: "CLOSED" },
  ],
});

/** The environment of a user's shell: none of the npm_* settings that `npm test` hands its children. */
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

/** A command run as the user would in `cwd`; its exit status and everything it printed. */
function sh(cwd: string, command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd, env: userEnv, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
const npm = (cwd: string, ...args: string[]) => sh(cwd, "npm", [...args, "--no-audit", "--no-fund"]);

/** A new empty directory for a project made by `npm init -y`, removed at the end. */
function npmInitProject(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  expect(npm(dir, "init", "-y").status).toBe(0);
  return dir;
}

/** The packages in a project's node_modules (scopes opened), without npm's own dotfiles. */
function installedPackages(project: string): string[] {
  const top = readdirSync(join(project, "node_modules")).filter((name) => !name.startsWith("."));
  return top.flatMap((name) =>
    name.startsWith("@") ? readdirSync(join(project, "node_modules", name)).map((inner) => `${name}/${inner}`) : [name],
  );
}

/** Every file under `dir`, relative and sorted. */
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

const sandboxOrder = (requestNo: string) => sandbox.orders.get(`${MERCHANT}/${requestNo.toLowerCase()}`);

beforeAll(async () => {
  // The committed build, through the package's `exports`, as any project imports it.
  client = await import("sparkpay-edge-gateway/client");

  fixture = mkdtempSync(join(tmpdir(), "gw-outsider-"));
  cpSync(FIXTURE, fixture, {
    recursive: true,
    filter: (path) => !/[/\\](node_modules|dist)([/\\]|$)/.test(path.slice(FIXTURE.length)),
  });
  mkdirSync(join(fixture, "node_modules"));
  symlinkSync(PACKAGE, join(fixture, "node_modules", PACKAGE_NAME), "dir");
  // The gateway's own tsc, but only the fixture's config: its types must stand alone.
  const compiled = spawnSync(TSC, ["-p", fixture, "--listFiles"], { encoding: "utf8" });
  const output = compiled.stdout + compiled.stderr;
  tsc = { status: compiled.status, output, files: output.split("\n").filter((line) => isAbsolute(line)) };

  const worker = durableClosesBindings("outsider-close-jobs");
  const started = await startLocalGateway({
    scriptPath: buildDeployBundle(),
    upstream: (request) => sandbox.handle(request),
    bindings: sandboxSettings({
      appId: SANDBOX_APP_ID,
      merchantPrivateKeyPem: merchant.privateKeyPem,
      platformPublicKeyPem: platform.publicKeyPem,
      callerKey,
    }),
    worker,
    // One log line per request: drained, not read.
    onStdio: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) stream.resume();
    },
  });
  mf = started.mf;
  gatewayUrl = started.url;
  const db = await mf.getD1Database("CLOSE_JOBS_DB");
  for (const statement of migrationStatements(join(ROOT, "migrations"))) await db.prepare(statement).run();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  if (!fixture) return;
  // The link first, on its own: removing the copy must never reach the package it points to.
  unlinkSync(join(fixture, "node_modules", PACKAGE_NAME));
  rmSync(fixture, { recursive: true, force: true });
});

describe("the client, as an outside project uses it", { timeout: 60_000 }, () => {
  it("compiles with tsc on its own config alone: ES2022, no ambient types, the client through exports", () => {
    expect(tsc.status, tsc.output).toBe(0);
    const root = realpathSync(ROOT);
    const outside = tsc.files.filter(
      (file) =>
        !file.startsWith(realpathSync(fixture)) &&
        !file.startsWith(join(root, "node_modules/typescript/lib/")) &&
        !file.startsWith(`${realpathSync(BUILT)}/`),
    );
    // Nothing else: no @types, no workers-types, no gateway source.
    expect(outside).toEqual([]);
    expect(tsc.files).toContain(join(realpathSync(BUILT), "index.d.ts"));
    expect(tsc.files.filter((file) => file.includes("/typescript/lib/lib.dom"))).toEqual([]);
  });

  it("runs the README example: close, schedule, read, cancel, query; and again: a repeat close resolves", async () => {
    const orderNo = `OUTSIDER_${run}`;
    const first = await runScript(join(fixture, "dist/close-an-order.mjs"), { ORDER_NO: orderNo });
    expect(first).toEqual(firstRun(orderNo));
    expect(sandboxOrder(orderNo)?.pay_status).toBe("CLOSED");
    // Never scheduled to close: it was cancelled first.
    const later = (first.lines[1] as { order: string }).order;
    expect(sandboxOrder(later)).toBeUndefined();

    // SparkPay refuses the second close (already closed); the gateway's order query settles it.
    const again = await runScript(join(fixture, "dist/close-an-order.mjs"), { ORDER_NO: orderNo });
    expect(again.code).toBe(0);
    expect(again.lines[0]).toEqual({ step: "close", order: `MO_${orderNo}`, confirmedBy: "order-query" });
    // Each run schedules (and cancels) an order of its own: a cancelled job stays cancelled.
    expect(again.lines[1]).toEqual(firstRun(orderNo).lines[1]);
    expect((again.lines[1] as { order: string }).order).not.toBe(later);
  });

  it.each([
    ["FAULT_RATELIMITED", { status: 429, code: 40011, next: "send again in 1 s" }],
    ["FAULT_HTTP503", { status: 502, code: "UPSTREAM_SERVER_ERROR", next: "repeat the close" }],
  ])("runs the README example's failure path: %s", async (fault, expected) => {
    const { code, lines } = await runScript(join(fixture, "dist/close-an-order.mjs"), { ORDER_NO: `${fault}_${run}` });
    expect(code).toBe(1);
    expect(lines).toEqual([
      {
        step: "failed",
        ...expected,
        message: expect.any(String),
        requestId: expect.stringMatching(UUID),
        sparkpayRequestId: expect.any(String),
      },
    ]);
  });

  it("rejects with a GatewayClientError carrying what a caller needs, for each kind of failure", async () => {
    const closedPort = await freeLoopbackPort();
    const { code, lines } = await runScript(join(fixture, "dist/error-cases.js"), {
      ORDER_NO: `ERRORS_${run}`,
      CLOSED_URL: `http://127.0.0.1:${closedPort}`,
    });
    expect(code).toBe(0);
    const byCase = Object.fromEntries(lines.map(({ case: name, ...fields }) => [name, fields]));
    const envelope = {
      name: "GatewayClientError",
      message: expect.any(String),
      requestId: expect.stringMatching(UUID),
    };
    const docs = (anchor: string) => `${gatewayUrl}/docs/errors#${anchor}`;
    expect(byCase).toEqual({
      invalid: {
        ...envelope,
        status: 400,
        code: "INVALID_REQUEST",
        param: "request_no",
        docUrl: docs("INVALID_REQUEST"),
      },
      unauthorized: {
        ...envelope,
        status: 401,
        code: "UNAUTHORIZED",
        param: "Authorization",
        docUrl: docs("UNAUTHORIZED"),
      },
      noJob: { ...envelope, status: 404, code: "NOT_FOUND", docUrl: docs("NOT_FOUND") },
      sparkpayRefusal: {
        ...envelope,
        status: 400,
        code: 40008,
        message: "merchant number does not exist",
        docUrl: docs("sparkpay-codes"),
        sparkpayRequestId: expect.stringMatching(/^sbx_/),
      },
      rateLimited: {
        ...envelope,
        status: 429,
        code: 40011,
        docUrl: docs("sparkpay-codes"),
        sparkpayRequestId: expect.stringMatching(/^sbx_/),
        retryAfterSeconds: 1,
      },
      unreachable: {
        name: "GatewayClientError",
        status: 0,
        code: "NETWORK_ERROR",
        message: expect.stringContaining("ECONNREFUSED"),
      },
      timeout: {
        name: "GatewayClientError",
        status: 0,
        code: "TIMEOUT",
        message: "The gateway did not answer within 300 ms.",
      },
    });
  });

  it("answers 409 CLOSE_CONFLICT to cancelling a job that has closed its order", async () => {
    const gateway = client.createGatewayClient({ baseUrl: gatewayUrl, apiKey: callerKey, fetch });
    const order = { merchant_no: MERCHANT, request_no: `CONFLICT_${run}` };
    const job = await gateway.scheduleClose(order);
    expect(job.lastResponse.status).toBe(202);
    await expect.poll(async () => (await gateway.getClose(order)).status, { timeout: 20_000 }).toBe("closed");
    const refused = await gateway.cancelClose(order).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(client.GatewayClientError);
    expect(refused).toMatchObject({ status: 409, code: "CLOSE_CONFLICT", requestId: expect.stringMatching(UUID) });
    expect(sandboxOrder(order.request_no)?.pay_status).toBe("CLOSED");
  });
});

/** A Worker that uses the built client with workerd's own fetch, every request of which goes to the gateway. */
const WORKER = `
import { createGatewayClient, GatewayClientError } from "./client/index.js";
export default {
  async fetch(request, env) {
    const gateway = createGatewayClient({ baseUrl: "http://gateway.test", apiKey: env.API_KEY });
    const order = { merchant_no: "M_SANDBOX_001", request_no: env.ORDER_NO };
    const closed = await gateway.closeOrder(order);
    const missing = await gateway.getClose(order).catch((error) => error);
    return Response.json({
      closed: closed.data.request_no,
      confirmedBy: closed.lastResponse.confirmedBy,
      missing: { isClientError: missing instanceof GatewayClientError, status: missing.status, code: missing.code },
    });
  },
};`;

describe("the package as it is published", () => {
  it("holds the build of src/ exactly as `npm run build:client` makes it (run that after changing src/)", () => {
    const fresh = mkdtempSync(join(tmpdir(), "gw-client-build-"));
    scratch.push(fresh);
    execFileSync(TSC, ["-p", PACKAGE, "--outDir", fresh], { stdio: "pipe" });
    expect(filesUnder(BUILT)).toEqual(filesUnder(fresh));
    for (const file of filesUnder(fresh))
      expect(readFileSync(join(BUILT, file), "utf8"), `packages/client/dist/${file} is stale`).toBe(
        readFileSync(join(fresh, file), "utf8"),
      );
  });

  it("packs only the built JS, its .d.ts, the README and package.json; depends on nothing, runs no script", () => {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: PACKAGE, env: userEnv, encoding: "utf8" }),
    ) as Array<{ name: string; files: Array<{ path: string }> }>;
    expect(packed!.name).toBe(PACKAGE_NAME);
    expect(packed!.files.map(({ path }) => path).sort()).toEqual(PACKED);
    const manifest = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies", "scripts"])
      expect(manifest, field).not.toHaveProperty(field);
  });
});

/** The package README's ```sh blocks. */
const readmeCommands = [...readFileSync(join(PACKAGE, "README.md"), "utf8").matchAll(/```sh\n([\s\S]*?)```/g)].map(
  (match) => match[1]!.trim().split("\n"),
);
/** The root's own pins, so that the user's `npm install` of them comes from npm's cache when it can. */
const rootDevDependencies = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies;

describe("the package in a project made by `npm init -y`, following its README", { timeout: 60_000 }, () => {
  let project: string;
  let clientInstall: { status: number | null; output: string; packages: string[] };
  let initConfig: string;
  let compiled: { status: number | null; output: string };

  beforeAll(() => {
    // The README's steps, in order. Only the path differs, and the versions are the gateway's own.
    expect(readmeCommands[0]).toEqual([
      "npm init -y",
      "npm install /path/to/sparkpay-edge-gateway/packages/client",
      "npm install --save-dev typescript @types/node",
      "npx tsc --init",
    ]);
    project = npmInitProject("gw-npm-init-");
    // --offline: the package must need nothing from the registry.
    const installed = npm(project, "install", "--offline", PACKAGE);
    clientInstall = { ...installed, packages: installedPackages(project) };
    const tools = [`typescript@${rootDevDependencies.typescript}`, `@types/node@${rootDevDependencies["@types/node"]}`];
    const devInstall = npm(project, "install", "--prefer-offline", "--save-dev", ...tools);
    expect(devInstall.status, devInstall.output).toBe(0);
    const tscInit = sh(project, join(project, "node_modules/.bin/tsc"), ["--init"]);
    expect(tscInit.status, tscInit.output).toBe(0);
    initConfig = readFileSync(join(project, "tsconfig.json"), "utf8");
    // The README's one change to that config.
    writeFileSync(join(project, "tsconfig.json"), initConfig.replace('"types": [],', '"types": ["node"],'));
    cpSync(EXAMPLE, join(project, "close-an-order.mts"));
    compiled = sh(project, join(project, "node_modules/.bin/tsc"), []);
  }, 120_000);

  it("installs by path as a link to the package, with nothing else: no registry, no script, no warning", () => {
    expect(JSON.parse(readFileSync(join(project, "package.json"), "utf8")).type).toBe("commonjs");
    expect(clientInstall.status, clientInstall.output).toBe(0);
    expect(clientInstall.output).not.toMatch(/npm warn/i);
    expect(clientInstall.packages).toEqual([PACKAGE_NAME]);
    expect(realpathSync(join(project, "node_modules", PACKAGE_NAME))).toBe(realpathSync(PACKAGE));
  });

  it("compiles the example with the tsconfig `tsc --init` writes, changed only as the README says", () => {
    const readme = readFileSync(join(PACKAGE, "README.md"), "utf8");
    expect(readme).toContain('change `"types": []` to `"types": ["node"]`');
    expect(readme).toContain("Save the example below as `close-an-order.mts`");
    expect(initConfig.match(/"types": \[\],/g)).toHaveLength(1);
    expect(initConfig).toMatch(/"module": "nodenext"/);
    expect(compiled, compiled.output).toEqual({ status: 0, output: "" });
  });

  it("runs the example as the README says: close, schedule, read, cancel, query", async () => {
    expect(readmeCommands[1]).toEqual([
      "npx tsc",
      "GATEWAY_URL=http://127.0.0.1:8787 GATEWAY_API_KEY=<caller key> node close-an-order.mjs",
    ]);
    const orderNo = `NPM_INIT_${run}`;
    expect(await runScript(join(project, "close-an-order.mjs"), { ORDER_NO: orderNo })).toEqual(firstRun(orderNo));
    expect(sandboxOrder(orderNo)?.pay_status).toBe("CLOSED");
  });
});

describe("the package installed from a git URL at a commit id, with ::path:packages/client", {
  timeout: 60_000,
}, () => {
  let project: string;
  let install: { status: number | null; output: string };
  let spec: string;

  beforeAll(() => {
    // A repository laid out as the gateway's: its root package.json (the Worker's dependencies, workspaces) and the
    // package, as they are in this working tree.
    const repo = mkdtempSync(join(tmpdir(), "gw-client-repo-"));
    scratch.push(repo);
    cpSync(join(ROOT, "package.json"), join(repo, "package.json"));
    cpSync(PACKAGE, join(repo, "packages/client"), { recursive: true });
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], {
        cwd: repo,
        encoding: "utf8",
      }).trim();
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "--no-gpg-sign", "-m", "the client package");
    spec = `git+file://${repo}#${git("rev-parse", "HEAD")}::path:packages/client`;
    project = npmInitProject("gw-git-url-");
    install = npm(project, "install", "--offline", spec);
  }, 60_000);

  it("installs the packed package alone: no registry, no script, no warning", () => {
    expect(install.status, install.output).toBe(0);
    expect(install.output).not.toMatch(/npm warn/i);
    expect(installedPackages(project)).toEqual([PACKAGE_NAME]);
    expect(filesUnder(join(project, "node_modules", PACKAGE_NAME))).toEqual(PACKED);
    expect(JSON.parse(readFileSync(join(project, "package.json"), "utf8")).dependencies).toEqual({
      [PACKAGE_NAME]: spec,
    });
  });

  it("is imported there as sparkpay-edge-gateway/client", () => {
    const script = `import("${PACKAGE_NAME}/client").then((m) => console.log(Object.keys(m).sort().join(" ")))`;
    expect(sh(project, process.execPath, ["-e", script])).toEqual({
      status: 0,
      output: "GatewayClientError createGatewayClient\n",
    });
  });
});

describe("the built client in workerd", { timeout: 30_000 }, () => {
  it("closes an order from inside a Worker, and rejects with GatewayClientError there too", async () => {
    const orderNo = `WORKERD_${run}`;
    const built = (file: string) => readFileSync(join(BUILT, file), "utf8");
    const worker = new Miniflare({
      modulesRoot: "/outsider",
      modules: [
        { type: "ESModule", path: "/outsider/worker.js", contents: WORKER },
        { type: "ESModule", path: "/outsider/client/index.js", contents: built("index.js") },
        { type: "ESModule", path: "/outsider/client/types.js", contents: built("types.js") },
      ],
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: { API_KEY: callerKey, ORDER_NO: orderNo },
      outboundService: { external: { address: new URL(gatewayUrl).host, http: {} } },
    });
    try {
      const response = await worker.dispatchFetch("http://worker.test/");
      expect(await response.json()).toEqual({
        closed: orderNo,
        confirmedBy: "close",
        missing: { isClientError: true, status: 404, code: "NOT_FOUND" },
      });
      expect(sandboxOrder(orderNo)?.pay_status).toBe("CLOSED");
    } finally {
      await worker.dispose();
    }
  });
});

/** The built client against a fake fetch that records each request and answers what the test says. */
function fake(answer: (url: string) => Response = () => Response.json({})) {
  const requests: { url: string; method: string; headers: Record<string, string>; body: string | undefined }[] = [];
  const fetch: Client.FetchLike = async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers, body: init.body });
    return answer(url);
  };
  return { requests, fetch };
}

describe("the built client (packages/client/dist), against a fake fetch", () => {
  it("sends each call to its route, path parameters encoded, with the key, a body only when there is one", async () => {
    const { requests, fetch } = fake();
    const gateway = client.createGatewayClient({ baseUrl: "https://gw.example/sparkpay//", apiKey: "gw_key", fetch });
    const order = { merchant_no: "M/1", request_no: "R 1é?" };
    await gateway.closeOrder({ ...order, extra: "kept here" } as typeof order);
    await gateway.queryOrder(order);
    await gateway.scheduleClose(order);
    await gateway.scheduleClose({ ...order, close_at: 1_800_000_000 });
    await gateway.getClose(order);
    await gateway.cancelClose(order);
    const path = "M%2F1/R%201%C3%A9%3F";
    const auth = { Authorization: "Bearer gw_key", Accept: "application/json" };
    const json = { ...auth, "Content-Type": "application/json" };
    expect(requests).toEqual([
      {
        url: "https://gw.example/sparkpay/v4/pay/orders/close",
        method: "POST",
        headers: json,
        body: JSON.stringify({ request_no: order.request_no, merchant_no: order.merchant_no }),
      },
      { url: `https://gw.example/sparkpay/v4/pay/orders/${path}`, method: "GET", headers: auth, body: undefined },
      { url: `https://gw.example/sparkpay/v1/closes/${path}`, method: "PUT", headers: auth, body: undefined },
      {
        url: `https://gw.example/sparkpay/v1/closes/${path}`,
        method: "PUT",
        headers: json,
        body: '{"close_at":1800000000}',
      },
      { url: `https://gw.example/sparkpay/v1/closes/${path}`, method: "GET", headers: auth, body: undefined },
      { url: `https://gw.example/sparkpay/v1/closes/${path}`, method: "DELETE", headers: auth, body: undefined },
    ]);
  });

  it("resolves with the body alone, its response's details under a non-enumerable lastResponse", async () => {
    const body = {
      code: "0",
      message: "success",
      data: { request_no: "R1", merchant_no: "M1", merchant_order_no: "MO" },
    };
    const headers = { "X-Request-Id": "rid", "X-SparkPay-Request-Id": "sbx_1", "X-Close-Confirmed-By": "order-query" };
    const { fetch } = fake(() => Response.json(body, { headers }));
    const gateway = client.createGatewayClient({ baseUrl: "http://127.0.0.1:8787", apiKey: "gw_key", fetch });
    const closed = await gateway.closeOrder({ merchant_no: "M1", request_no: "R1" });
    expect(JSON.parse(JSON.stringify(closed))).toEqual(body);
    expect({ ...closed }).toEqual(body);
    expect(closed.lastResponse).toEqual({
      status: 200,
      requestId: "rid",
      sparkpayRequestId: "sbx_1",
      confirmedBy: "order-query",
    });
    const job = await gateway.scheduleClose({ merchant_no: "M1", request_no: "R1" });
    // Only a close says how it was confirmed.
    expect(job.lastResponse).toEqual({ status: 200, requestId: "rid", sparkpayRequestId: "sbx_1" });
  });

  it("reads Retry-After in seconds or as an HTTP date", async () => {
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    for (const [retryAfter, seconds] of [
      ["60", 60],
      [inTwoMinutes, 120],
    ] as const) {
      const envelope = { code: "RATE_LIMITED", message: "Too many requests.", request_id: "rid" };
      const { fetch } = fake(() => Response.json(envelope, { status: 429, headers: { "Retry-After": retryAfter } }));
      const gateway = client.createGatewayClient({ baseUrl: "http://gw.test", apiKey: "gw_key", fetch });
      const error = await gateway.closeOrder({ merchant_no: "M1", request_no: "R1" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 429, code: "RATE_LIMITED", requestId: "rid" });
      expect((error as Client.GatewayClientError).retryAfterSeconds).toBeGreaterThanOrEqual(seconds - 1);
      expect((error as Client.GatewayClientError).retryAfterSeconds).toBeLessThanOrEqual(seconds);
    }
  });

  it("calls an answer that is not the gateway's JSON INVALID_GATEWAY_RESPONSE, with its HTTP status", async () => {
    const page = "<html><body>\n  502 Bad Gateway </body></html>";
    const oneLine = "<html><body> 502 Bad Gateway </body></html>";
    const headers = { "X-Request-Id": "rid", "Content-Type": "text/html" };
    for (const [status, what] of [
      [502, "without its error envelope"],
      [200, "with a body that is not a JSON object"],
    ] as const) {
      const { fetch } = fake(() => new Response(page, { status, headers }));
      const gateway = client.createGatewayClient({ baseUrl: "http://gw.test", apiKey: "gw_key", fetch });
      await expect(gateway.getClose({ merchant_no: "M1", request_no: "R1" })).rejects.toMatchObject({
        status,
        code: "INVALID_GATEWAY_RESPONSE",
        requestId: "rid",
        // The start of the body, on one line: enough to tell a proxy's page from a wrong baseUrl.
        message: `The gateway answered HTTP ${status} ${what}; the body starts ${JSON.stringify(oneLine)}.`,
      });
    }
  });

  it("refuses a baseUrl, key or timeout it cannot use at once, and a path parameter it cannot send", async () => {
    const create = (options: Partial<Client.GatewayClientOptions>) => () =>
      client.createGatewayClient({ baseUrl: "https://gw.example", apiKey: "gw_key", ...options });
    for (const baseUrl of [
      "gw.example",
      "/v4",
      "ftp://gw.example",
      "https://user:pw@gw.example",
      "https://gw.example/?a",
    ])
      expect(create({ baseUrl }), baseUrl).toThrow(TypeError);
    expect(create({ apiKey: "" })).toThrow(TypeError);
    // A key with a line break is refused without being quoted (fetch's own error would quote it).
    expect(create({ apiKey: "gw_secret_key\n" })).toThrow(/^apiKey must be a caller key: [^\n]*$/);
    expect(create({ apiKey: "gw_secret_key\n" })).not.toThrow(/gw_secret_key/);
    expect(create({ timeoutMs: 0 })).toThrow(RangeError);
    const { requests, fetch } = fake();
    const gateway = client.createGatewayClient({ baseUrl: "https://gw.example", apiKey: "gw_key", fetch });
    for (const request_no of ["", ".", ".."])
      await expect(gateway.getClose({ merchant_no: "M1", request_no })).rejects.toThrow(TypeError);
    expect(requests).toEqual([]);
  });
});

// Checked by `npm run typecheck` (tsconfig.node.json): the client's plain types must stay the gateway's own.
expectTypeOf<Client.CloseJob>().toEqualTypeOf<CloseJob>();
expectTypeOf<Client.CloseEvent>().toEqualTypeOf<CloseEvent>();
expectTypeOf<Client.OrderUpdatedEvent["type"]>().toEqualTypeOf<OrderUpdatedEvent["type"]>();
expectTypeOf<Client.OrderUpdatedEvent["data"]["close_job"]>().toEqualTypeOf<OrderUpdatedEvent["data"]["close_job"]>();
expectTypeOf<Client.GatewayEvent["type"]>().toEqualTypeOf<GatewayEvent["type"]>();
expectTypeOf<Client.ErrorEnvelope>().toEqualTypeOf<ErrorEnvelope>();
expectTypeOf<Client.GatewayErrorCode>().toEqualTypeOf<keyof typeof GATEWAY_ERRORS>();
// valibot's loose objects are intersections, the client's are interfaces: the same values either way.
expectTypeOf<Client.CloseOrderResponse>().toExtend<CloseOrderResponse>();
expectTypeOf<CloseOrderResponse>().toExtend<Client.CloseOrderResponse>();
expectTypeOf<Client.QueryOrderResponse>().toExtend<QueryOrderResponse>();
expectTypeOf<QueryOrderResponse>().toExtend<Client.QueryOrderResponse>();
