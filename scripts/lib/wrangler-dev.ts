/**
 * `wrangler dev` as npm start runs it: in a process group of its own, so that stopping the group stops every
 * process of it (node_modules/.bin/wrangler starts the real CLI as a child, which starts workerd), whoever
 * signalled npm start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { WRANGLER_ENV } from "../build-bundle";

export function startWranglerDev(args: string[]): { child: ChildProcess; stop: () => Promise<void> } {
  const child = spawn("node_modules/.bin/wrangler", ["dev", ...args], {
    stdio: ["ignore", "inherit", "inherit"],
    env: WRANGLER_ENV,
    detached: true,
  });
  /** Signals the whole group; false once no process of it is left. */
  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    if (child.pid === undefined) return false; // never started: and kill(-0) would signal our own group
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  /** SIGTERM first, SIGKILL for whatever is left after 5 s. */
  const stop = async () => {
    signalGroup("SIGTERM");
    const deadline = Date.now() + 5_000;
    while (signalGroup(0) && Date.now() < deadline) await sleep(100);
    signalGroup("SIGKILL");
  };
  return { child, stop };
}
