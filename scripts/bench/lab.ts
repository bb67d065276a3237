/**
 * What `npm run bench` runs against: fresh keys, the SparkPay stand-in, the gateway (the deploy bundle), the two
 * floors and the Node peer, each a process whose CPU can be read from /proc, and a way to stop them all.
 *
 *   gateway        the deploy bundle (as `wrangler deploy` builds it, production LOG_LEVEL) in workerd
 *   runtime floor  a Worker that only forwards the body (runtime-floor.js)
 *   crypto floor   a Worker that signs once, forwards, verifies once (crypto-floor.js)
 *   Node peer      node:http + node:crypto doing the same (node-peer.ts)
 *
 * All four call the same SparkPay stand-in (standin.ts), a separate process that signs each answer afresh (the
 * gateway refuses replayed answers), at the same cost for every target.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { buildDeployBundle } from "../build-bundle";
import { generateCallerKey, generateRsaKeyPair } from "../lib/keygen";
import { migrationStatements } from "../lib/migrations";
import {
  COMPATIBILITY_DATE,
  durableClosesBindings,
  type OnStdio,
  type StartedMiniflare,
  startLocalGateway,
  startMiniflare,
} from "../local-gateway";

export const APP_ID = "bench_app";
/** The one order every synchronous close names: the stand-in answers for it. */
export const REQUEST = { request_no: "BENCH_ORDER_1", merchant_no: "M_BENCH" };
export const BODY = JSON.stringify(REQUEST);

/** A target's address and its process, whose CPU the bench reads. */
export interface Target {
  name: string;
  url: string;
  pid: number;
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** CPU seconds a process has used (user + system, all threads). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const drain: OnStdio = (stdout, stderr) => {
  stdout.resume();
  stderr.resume();
};

const base64Der = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

/** The processes of one bench run, started on demand, every one of them stopped by close(). */
export async function openLab() {
  const merchant = generateRsaKeyPair();
  const platform = generateRsaKeyPair();
  const callerKey = generateCallerKey();
  const children: ChildProcess[] = [];
  const miniflares: Miniflare[] = [];

  /** A Node child (a .ts script beside this one) that prints its port. */
  function startChild(script: string, env: Record<string, string>): Promise<{ port: number; pid: number }> {
    const child = spawn(process.execPath, ["--import", "tsx", new URL(script, import.meta.url).pathname], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    return new Promise((resolve) =>
      child.stdout?.once("data", (data) => resolve({ port: Number(String(data).trim()), pid: child.pid ?? 0 })),
    );
  }
  const kept = (started: StartedMiniflare) => {
    miniflares.push(started.mf);
    return started;
  };

  const standin = await startChild("./standin.ts", {
    BENCH_PLATFORM_PRIVATE_KEY: platform.privateKeyPem,
    BENCH_REQUEST_NO: REQUEST.request_no,
    BENCH_MERCHANT_NO: REQUEST.merchant_no,
  });
  const upstream = `http://127.0.0.1:${standin.port}`;
  const bundle = buildDeployBundle();
  const migrations = migrationStatements(new URL("../../migrations", import.meta.url).pathname);
  const sampleMessage = `1700000000\nnonce\n${BODY}\n`;

  /** A Worker script beside this one in workerd, its stdio drained. */
  const startWorker = async (script: string, bindings: Record<string, string>) =>
    kept(
      await startMiniflare({
        host: "127.0.0.1",
        port: 0,
        cf: false,
        modules: true,
        scriptPath: new URL(script, import.meta.url).pathname,
        compatibilityDate: COMPATIBILITY_DATE,
        bindings,
        handleRuntimeStdio: drain,
      }),
    );

  return {
    callerKey,
    bundle,
    /**
     * The gateway, with the durable closes' bindings named as in wrangler.toml (D1 starts empty); `settings` on top
     * of the production ones (e.g. SPARKPAY_CONFIRM_CLOSES=always).
     */
    startGateway: async (settings: Record<string, string> = {}) =>
      kept(
        await startLocalGateway({
          scriptPath: bundle,
          bindings: {
            SPARKPAY_APP_ID: APP_ID,
            SPARKPAY_BASE_URL: upstream,
            SPARKPAY_PRIVATE_KEY: merchant.privateKeyPem,
            SPARKPAY_PLATFORM_PUBLIC_KEY: platform.publicKeyPem,
            GATEWAY_API_KEYS: callerKey,
            LOG_LEVEL: "info", // production's level
            ...settings,
          },
          worker: durableClosesBindings("bench-close-jobs"),
          onStdio: drain,
        }),
      ),
    /** The gateway with the close-job tables in its D1, as after `wrangler d1 migrations apply`. */
    async startMigratedGateway(settings: Record<string, string> = {}): Promise<StartedMiniflare> {
      const started = await this.startGateway(settings);
      const db = await started.mf.getD1Database("CLOSE_JOBS_DB");
      for (const statement of migrations) await db.prepare(statement).run();
      return started;
    },
    startCryptoFloor: () =>
      startWorker("./crypto-floor.js", {
        UPSTREAM: `${upstream}/v4/pay/orders/close`,
        MERCHANT_PKCS8_BASE64: base64Der(merchant.privateKeyPem),
        PLATFORM_SPKI_BASE64: base64Der(platform.publicKeyPem),
        PLATFORM_SAMPLE_MESSAGE: sampleMessage,
        PLATFORM_SAMPLE_SIGNATURE: createSign("RSA-SHA256")
          .update(sampleMessage)
          .sign(platform.privateKeyPem, "base64"),
      }),
    startRuntimeFloor: () => startWorker("./runtime-floor.js", { UPSTREAM: `${upstream}/v4/pay/orders/close` }),
    async startNodePeer(): Promise<Omit<Target, "name">> {
      const peer = await startChild("./node-peer.ts", {
        BENCH_MERCHANT_PRIVATE_KEY: merchant.privateKeyPem,
        BENCH_PLATFORM_PUBLIC_KEY: platform.publicKeyPem,
        BENCH_UPSTREAM: `${upstream}/v4/pay/orders/close`,
        BENCH_APP_ID: APP_ID,
      });
      return { url: `http://127.0.0.1:${peer.port}`, pid: peer.pid };
    },
    /** Stops one workerd before the run ends (a phase that needs a fresh one each time). */
    async dispose(mf: Miniflare): Promise<void> {
      await mf.dispose();
      miniflares.splice(miniflares.indexOf(mf), 1);
    },
    /** Stops every process still running; a second call finds none. */
    async close(): Promise<void> {
      for (const mf of miniflares.splice(0)) await mf.dispose();
      for (const child of children.splice(0)) child.kill();
    },
  };
}

export type Lab = Awaited<ReturnType<typeof openLab>>;
