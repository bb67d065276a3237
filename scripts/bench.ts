/**
 * `npm run bench`: the gateway against the runtime floor, the crypto floor and a Node peer, side by side in one run
 * on loopback, so the ratios hold on a noisy machine. Prints one table, with the targets (scripts/bench/targets.ts)
 * met or missed. Load comes from autocannon in this process; BENCH_SECONDS sets the measured seconds per run
 * (default 6). What runs is in scripts/bench/lab.ts, each phase in scripts/bench/phases.ts:
 *
 *   1. the synchronous close on every target at c=1, 10, 50 (CPU per request read from /proc), the gateway also
 *      with SPARKPAY_CONFIRM_CLOSES=always (`gateway+query`)
 *   2. PUT /v1/closes at the same concurrencies (with fetch: see load.ts), a new order per request, close_at a day
 *      ahead, so each instance starts and sleeps (accepting is measured, not closing), a fresh gateway each time;
 *      then POST /v4/pay/cashier the same way, an order created per request, next to the close
 *   3. the crypto limit: RSA-2048 sign and verify per second in workerd and with `openssl speed`
 *   4. cold starts: a fresh workerd's first request against its warm median
 *   5. the deploy bundle's size
 *   6. the report (scripts/bench/report.ts)
 *   7. the CPU of opening one SparkPay notification, per MGF1 setting, genuine and failing (bench/notifications.ts)
 */

import { openLab } from "./bench/lab";
import { notificationCosts, notificationReport } from "./bench/notifications";
import { bundleSize, coldStarts, creations, cryptoLimit, durableCloses, synchronousCloses } from "./bench/phases";
import { ALWAYS_CONFIRMED, report } from "./bench/report";
import { EXIT, isMain, runCli } from "./lib/cli";

async function main(): Promise<number> {
  const lab = await openLab();
  try {
    const gateway = await lab.startMigratedGateway();
    const cryptoFloor = await lab.startCryptoFloor();
    const runtimeFloor = await lab.startRuntimeFloor();
    const targets = [
      { name: "gateway", ...gateway },
      { name: "crypto floor", ...cryptoFloor },
      { name: "runtime floor", ...runtimeFloor },
      { name: "Node peer", ...(await lab.startNodePeer()) },
      // What SPARKPAY_CONFIRM_CLOSES=always costs: a Payment Order Query after every successful close.
      { name: ALWAYS_CONFIRMED, ...(await lab.startGateway({ SPARKPAY_CONFIRM_CLOSES: "always" })) },
    ];
    const closes = await synchronousCloses(targets, lab.callerKey);
    const puts = await durableCloses(lab);
    const created = await creations(lab);
    const crypto = await cryptoLimit(cryptoFloor.url);
    const cold = await coldStarts(lab, {
      gateway: () => lab.startGateway(),
      "crypto floor": () => lab.startCryptoFloor(),
      "runtime floor": () => lab.startRuntimeFloor(),
    });
    const bundle = bundleSize(lab.bundle);
    await lab.close();
    console.log(report({ closes, puts, creations: created, crypto, coldStarts: cold, bundle }));
    console.log(notificationReport(await notificationCosts()));
    return EXIT.ok;
  } finally {
    await lab.close();
  }
}

// exitWhenDone: sockets to the stopped workerd processes must not keep the process alive.
if (isMain(import.meta.url))
  runCli("bench", "Usage: npm run bench (BENCH_SECONDS=N: seconds per run)", main, { exitWhenDone: true });
