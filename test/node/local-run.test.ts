import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freeLoopbackPort as freePort } from "../../scripts/lib/ports";

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

/** What the tests started; whatever still runs when a test ends (failed or not) is stopped, never left behind. */
const running: ChildProcess[] = [];
const listeners: Server[] = [];
afterEach(() => {
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  for (const server of listeners.splice(0)) server.close();
});

/** Something else listening on 127.0.0.1:`port`, as another npm start would. */
const occupy = (port: number) =>
  new Promise<void>((resolve) => listeners.push(createServer().listen(port, "127.0.0.1", () => resolve())));

const START = ["--import", "tsx", "scripts/start.ts"];
/** `npm run sandbox` on `port`, resolved once it has said how to run the gateway beside it. */
const startSandbox = (root: string, port: number) =>
  start(root, ["--import", "tsx", "scripts/sandbox.ts"], { SANDBOX_PORT: String(port) }, /npm run dev/);
/** The first curl npm start prints, as printed. */
const printedCloseCurl = (output: string) => /^ {2}curl -sS -i -X POST [\s\S]*?-d '.*'$/m.exec(output)?.[0];

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

/** A command run to its end (node unless named): its exit code and what it printed on each stream. */
const runToEnd = (cwd: string, args: string[], env: Record<string, string> = {}, file = "node") =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (_e, out, err) =>
      resolve({ code: child.exitCode, out, err }),
    );
    running.push(child);
  });

/** What a close with the development caller key answers, from the gateway on `port`. */
async function closeOrder(root: string, port: number, requestNo: string) {
  const callerKey = /^GATEWAY_API_KEYS=(.+)$/m.exec(readFileSync(join(root, ".dev.vars"), "utf8"))![1]!;
  return fetch(`http://127.0.0.1:${port}/v4/pay/orders/close`, {
    method: "POST",
    headers: { Authorization: `Bearer ${callerKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ request_no: requestNo, merchant_no: "M_SANDBOX_001" }),
  });
}

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
      const [gatewayPort, sandboxPort, webhookPort] = [await freePort(), await freePort(), await freePort()];
      const run = start(
        root,
        [...START, "--var", "LOG_LEVEL:debug", "--port", String(gatewayPort)],
        { SANDBOX_PORT: String(sandboxPort), WEBHOOK_PORT: String(webhookPort) },
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
      // The committed worker-configuration.d.ts is what wrangler dev expects with npm start's .dev.vars.
      expect(run.output()).not.toMatch(/types might be out of date/i);
      // The printed curl runs as printed and shows the headers the README points at: X-Request-Id, and on the
      // second run X-Close-Confirmed-By (SparkPay refused the repeat; Payment Order Query says CLOSED).
      const curl = printedCloseCurl(run.output());
      expect(curl).toBeDefined();
      const first = await runToEnd(root, ["-c", curl!], {}, "bash");
      expect(first.out).toMatch(/^HTTP\/1\.1 200 /);
      expect(first.out).toMatch(/^x-request-id: \S+/im);
      const second = await runToEnd(root, ["-c", curl!], {}, "bash");
      expect(second.out).toMatch(/^HTTP\/1\.1 200 /);
      expect(second.out).toMatch(/^x-close-confirmed-by: order-query\r?$/im);

      // The printed pay-then-close: 409 ORDER_NOT_CLOSABLE with the order SparkPay's query shows, pay_status SUCCESS.
      const payThenClose = /^ {2}curl -sS -X POST \S+\/__sandbox\/orders\/\S+\/pay\n {2}curl [\s\S]*?-d '.*'$/m.exec(
        run.output(),
      )?.[0];
      expect(payThenClose).toBeDefined();
      const refused = await runToEnd(root, ["-c", payThenClose!], {}, "bash");
      expect(refused.out).toMatch(/"code":"ORDER_NOT_CLOSABLE"/);
      expect(refused.out).toMatch(/"order":\{[^}]*"pay_status":"SUCCESS"/);
      // A durable close of a paid order: its close.not_closable webhook reaches the receiver, verified, and is printed.
      const headers = { Authorization: `Bearer ${callerKey}` };
      const paidOrder = "LOCAL_RUN_PAID_1";
      await fetch(`http://127.0.0.1:${sandboxPort}/__sandbox/orders/M_SANDBOX_001/${paidOrder}/pay`, {
        method: "POST",
      });
      const put = await fetch(`http://127.0.0.1:${gatewayPort}/v1/closes/M_SANDBOX_001/${paidOrder}`, {
        method: "PUT",
        headers,
      });
      expect(put.status).toBe(202);
      await expect
        .poll(() => run.output(), { timeout: 30_000, interval: 250 })
        .toMatch(
          new RegExp(
            `^webhook close\\.not_closable evt_\\S+: ${paidOrder} is not_closable, order pay_status SUCCESS ` +
              "\\(signature verified\\)$",
            "m",
          ),
        );

      run.child.kill("SIGTERM");
      expect(await exited(run.child)).toBe(0);
      await expect.poll(() => listening(gatewayPort), { timeout: 10_000, interval: 250 }).toBe(false);
      expect(await listening(sandboxPort)).toBe(false);
    },
  );
});

describe("npm start, run again", { timeout: 180_000 }, () => {
  it("takes a new --port and SANDBOX_PORT: .dev.vars is pointed at the new sandbox, every other line kept", async () => {
    const root = freshProject();
    const [gateway1, sandbox1, gateway2, sandbox2, webhooks] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const first = start(
      root,
      [...START, "--port", String(gateway1)],
      { SANDBOX_PORT: String(sandbox1), WEBHOOK_PORT: String(webhooks) },
      /Gateway ready on/,
    );
    await first.seen;
    first.child.kill("SIGTERM");
    expect(await exited(first.child)).toBe(0);
    const before = readFileSync(join(root, ".dev.vars"), "utf8");
    expect(before).toContain(`SPARKPAY_BASE_URL=http://127.0.0.1:${sandbox1}\n`);
    // A setting of the user's own, which the second run must keep.
    const mine = `${before}LOG_LEVEL=debug\n`;
    writeFileSync(join(root, ".dev.vars"), mine);

    const second = start(
      root,
      [...START, "--port", String(gateway2)],
      { SANDBOX_PORT: String(sandbox2), WEBHOOK_PORT: String(webhooks) },
      new RegExp(
        `Gateway ready on http://127\\.0\\.0\\.1:${gateway2}, talking to the sandbox on http://127\\.0\\.0\\.1:${sandbox2}`,
      ),
    );
    await second.seen;
    expect(second.output()).toContain(
      `Pointed SPARKPAY_BASE_URL in .dev.vars at this sandbox (it was http://127.0.0.1:${sandbox1}).`,
    );
    expect(readFileSync(join(root, ".dev.vars"), "utf8")).toBe(
      mine.replace(`SPARKPAY_BASE_URL=http://127.0.0.1:${sandbox1}`, `SPARKPAY_BASE_URL=http://127.0.0.1:${sandbox2}`),
    );
    const health = (await (await fetch(`http://127.0.0.1:${gateway2}/healthz`)).json()) as { status: string };
    expect(health.status).toBe("ready");
    const response = await closeOrder(root, gateway2, "LOCAL_RUN_AGAIN_1");
    expect(response.status).toBe(200); // the first close after the move goes to the sandbox that runs, not a 502
    expect(await listening(gateway1)).toBe(false);
    second.child.kill("SIGTERM");
    expect(await exited(second.child)).toBe(0);
  });

  it("leaves worker-configuration.d.ts up to date as .ci/run checks it, with or without .dev.vars", async () => {
    const root = freshProject();
    const check = () => runToEnd(root, ["--import", "tsx", "scripts/cf-typegen.ts", "--check"]);
    const without = await check();
    expect(without.err).toBe("");
    expect(without.code).toBe(0);
    const sandboxPort = await freePort();
    const sandbox = startSandbox(root, sandboxPort);
    await sandbox.seen; // it writes .dev.vars as npm start does
    const withDevVars = await check();
    expect(withDevVars.err).toBe("");
    expect(withDevVars.code).toBe(0);
    expect(readFileSync(join(root, "worker-configuration.d.ts"), "utf8")).toBe(
      readFileSync("worker-configuration.d.ts", "utf8"),
    );
  });
});

describe("npm start with a port already taken", { timeout: 60_000 }, () => {
  it.each([
    [
      "the gateway's (--port)",
      "gateway",
      /^npm start: port (\d+) on 127\.0\.0\.1 \(the gateway\) is already taken\b.*`npm start -- --port \d+`\.$/,
    ],
    [
      "the sandbox's (SANDBOX_PORT)",
      "sandbox",
      /^npm start: port (\d+) on 127\.0\.0\.1 \(the sandbox\) is already taken\b.*`SANDBOX_PORT=\d+ npm start`\.$/,
    ],
    [
      "the webhook receiver's (WEBHOOK_PORT)",
      "webhooks",
      /^npm start: port (\d+) on 127\.0\.0\.1 \(the webhook receiver\) is already taken\b.*`WEBHOOK_PORT=\d+ npm start`\.$/,
    ],
  ] as const)(
    "%s: one line naming the port and what to do, exit 1, nothing left running",
    async (_name, which, line) => {
      const root = freshProject();
      const [gatewayPort, sandboxPort, webhookPort] = [await freePort(), await freePort(), await freePort()];
      const taken = { gateway: gatewayPort, sandbox: sandboxPort, webhooks: webhookPort }[which];
      await occupy(taken);
      const result = await runToEnd(root, [...START, "--port", String(gatewayPort)], {
        SANDBOX_PORT: String(sandboxPort),
        WEBHOOK_PORT: String(webhookPort),
      });
      expect(result.code).toBe(1);
      const lines = result.err.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(line);
      expect(line.exec(lines[0]!)![1]).toBe(String(taken));
      expect(result.out).not.toMatch(/Gateway ready|wrangler/i);
      for (const port of [gatewayPort, sandboxPort, webhookPort].filter((port) => port !== taken))
        expect(await listening(port)).toBe(false);
    },
  );
});

describe("npm ci in a fresh clone", { timeout: 60_000 }, () => {
  it("warns about nothing, as the README says (a package the README would have to name makes this fail)", async () => {
    const root = mkdtempSync(join(tmpdir(), "gw-npm-ci-"));
    for (const file of ["package.json", "package-lock.json"]) copyFileSync(file, join(root, file));
    const result = await new Promise<string>((resolve) =>
      execFile(
        "npm",
        ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"],
        { cwd: root },
        (_e, out, err) => resolve(`${out}\n${err}`),
      ),
    );
    expect(result).toMatch(/added \d+ packages/);
    // EBADENGINE names each package on a line of its own; any other warning starts with the package's name.
    const warned = [
      ...[...result.matchAll(/^npm warn EBADENGINE +package: '(@?[^@']+)@/gm)].map((m) => m[1]!),
      ...[...result.matchAll(/^npm warn (?!EBADENGINE)\S+ (@?[^@\s]+)@/gm)].map((m) => m[1]!),
    ];
    expect(warned).toEqual([]);
    expect(result).not.toMatch(/^npm warn/m);
    expect(readFileSync("README.md", "utf8")).toContain("`npm ci` prints no warnings");
  });
});

describe("npm run sandbox", { timeout: 30_000 }, () => {
  it("serves the sandbox alone with the development keys, for npm run dev, and stops on SIGINT", async () => {
    const root = freshProject();
    const sandboxPort = await freePort();
    const run = startSandbox(root, sandboxPort);
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
