import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// `npm start` and `npm run sandbox` as a newcomer runs them, in a fresh copy of the project.

const PROJECT_FILES = ["src", "sandbox", "scripts", "migrations", "wrangler.toml", "package.json", "tsconfig.json"];

function freshProject(): string {
  const root = mkdtempSync(join(tmpdir(), "gw-local-"));
  for (const file of [...PROJECT_FILES, "worker-configuration.d.ts", ".dev.vars.example"]) {
    cpSync(file, join(root, file), { recursive: true });
  }
  symlinkSync(join(process.cwd(), "node_modules"), join(root, "node_modules"));
  return root;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** What the tests started; whatever still runs when a test ends (failed or not) is stopped, never left behind. */
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
});

/** Starts a script and collects its output; resolves once `ready` appears in it, else fails showing the output. */
function start(cwd: string, args: string[], env: Record<string, string>, ready: RegExp, readyWithinMs = 75_000) {
  const child = spawn("node", args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let output = "";
  const seen = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${readyWithinMs} ms:\n${output}`)),
      readyWithinMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${output}`));
    });
  });
  return { child, seen, output: () => output };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve),
  );

async function listening(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
}

describe("npm start", { timeout: 90_000 }, () => {
  it(
    "runs the gateway against the sandbox from .dev.vars alone, passes extra arguments to wrangler dev " +
      "(--port moves the gateway), and stops both on SIGTERM",
    async () => {
      const root = freshProject();
      const [gatewayPort, sandboxPort] = [await freePort(), await freePort()];
      const run = start(
        root,
        ["--import", "tsx", "scripts/start.ts", "--var", "LOG_LEVEL:debug", "--port", String(gatewayPort)],
        { SANDBOX_PORT: String(sandboxPort) },
        new RegExp(`Gateway ready on http://127\\.0\\.0\\.1:${gatewayPort}`),
      );
      await run.seen;
      // The gateway was told nothing on the command line about SparkPay: .dev.vars points it at the sandbox.
      const devVars = readFileSync(join(root, ".dev.vars"), "utf8");
      expect(devVars).toContain(`SPARKPAY_BASE_URL=http://127.0.0.1:${sandboxPort}`);
      const callerKey = /^GATEWAY_API_KEYS=(.+)$/m.exec(devVars)![1]!;
      const response = await fetch(`http://127.0.0.1:${gatewayPort}/v4/pay/orders/close`, {
        method: "POST",
        headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ request_no: "LOCAL_RUN_1", merchant_no: "M_SANDBOX_001" }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ data: { merchant_order_no: "MO_LOCAL_RUN_1" } });
      await expect.poll(() => run.output()).toMatch(/"msg":"sparkpay attempt"/); // --var LOG_LEVEL:debug
      expect(run.output()).not.toMatch(/experimental/);

      run.child.kill("SIGTERM");
      expect(await exited(run.child)).toBe(0);
      await expect.poll(() => listening(gatewayPort), { timeout: 10_000, interval: 250 }).toBe(false);
      expect(await listening(sandboxPort)).toBe(false);
    },
  );
});

describe("npm run sandbox", { timeout: 30_000 }, () => {
  it("serves the sandbox alone with the development keys, for npm run dev, and stops on SIGINT", async () => {
    const root = freshProject();
    const sandboxPort = await freePort();
    const run = start(
      root,
      ["--import", "tsx", "scripts/sandbox.ts"],
      { SANDBOX_PORT: String(sandboxPort) },
      /npm run dev/,
    );
    await run.seen;
    expect(readFileSync(join(root, ".dev.vars"), "utf8")).toContain(
      `SPARKPAY_BASE_URL=http://127.0.0.1:${sandboxPort}`,
    );
    const stats = await fetch(`http://127.0.0.1:${sandboxPort}/__sandbox/stats`);
    expect(stats.status).toBe(200);
    run.child.kill("SIGINT");
    expect(await exited(run.child)).toBe(0);
    expect(await listening(sandboxPort)).toBe(false);
  });
});
