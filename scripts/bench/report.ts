/** The bench's one table: every run, the ratios, the crypto limit, CPU per request, bundle, cold starts, targets. */
import { cpus } from "node:os";
import type { CloseRow, ColdStart, CryptoLimit, NewOrderRow } from "./phases";
import { CONCURRENCIES, SECONDS } from "./phases";
import { type Figures, met, TARGETS } from "./targets";

export interface BenchResults {
  closes: CloseRow[];
  puts: NewOrderRow[];
  creations: NewOrderRow[];
  crypto: CryptoLimit;
  coldStarts: Record<string, ColdStart>;
  bundle: { kib: number; gzipKiB: number };
}

/** The gateway with SPARKPAY_CONFIRM_CLOSES=always: a Payment Order Query after every successful close. */
export const ALWAYS_CONFIRMED = "gateway+query";

const pad = (value: unknown, width: number) => String(value).padStart(width);
const fixed = (value: number, digits = 2) => value.toFixed(digits);

export function report(results: BenchResults): string {
  const { closes, puts, creations, crypto, coldStarts, bundle } = results;
  const at = (target: string, connections: number) =>
    closes.find((row) => row.target === target && row.connections === connections)!;
  const ratio = (a: string, b: string, c: number) => at(a, c).rps / at(b, c).rps;
  const ratios = (floor: string, of = "gateway") =>
    CONCURRENCIES.map((c) => pad(fixed(ratio(of, floor, c)), 5)).join("  ");
  const opsPerSecond = (value: number) => pad(Math.round(value), 7);
  const signVerifyMs = 1000 / crypto.workerdSign + 1000 / crypto.workerdVerify;
  const gatewayCpu = at("gateway", 10).cpuMsPerRequest;
  const runtimeCpu = at("runtime floor", 10).cpuMsPerRequest;
  const cryptoFloorCpu = at("crypto floor", 10).cpuMsPerRequest;
  const ownCpu = gatewayCpu - runtimeCpu;
  const gateway = coldStarts.gateway!;
  // CPU per request in units of one sign + one verify.
  const figures: Figures = {
    throughputRatio: ratio,
    cpuInSignVerify: gatewayCpu / signVerifyMs,
    ownCpuInSignVerify: ownCpu / signVerifyMs,
    bundleGzipKiB: bundle.gzipKiB,
    coldOverWarm: gateway.cold / gateway.warm,
    cpuOverCryptoFloor: gatewayCpu / cryptoFloorCpu,
    coldOverCryptoFloorCold: gateway.cold / coldStarts["crypto floor"]!.cold,
  };

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}`;
  const header =
    `${"target".padEnd(14)} ${pad("conc", 4)} ${pad("req/s", 8)} ${pad("p50 ms", 7)} ` +
    `${pad("p99 ms", 7)} ${pad("CPU ms/req", 10)}`;
  const closeLines = closes.map((row) => {
    const failed = row.failed ? `  (${row.failed} failed)` : "";
    return (
      `${row.target.padEnd(14)} ${pad(row.connections, 4)} ${pad(Math.round(row.rps), 8)} ` +
      `${pad(row.p50, 7)} ${pad(row.p99, 7)} ${pad(fixed(row.cpuMsPerRequest, 3), 10)}${failed}`
    );
  });
  const ratioRow = (of: (connections: number) => number) => CONCURRENCIES.map((c) => pad(fixed(of(c)), 5)).join("  ");
  /** A new-order run's lines beside the synchronous close's, then its ratios to the close at c=1, 10, 50. */
  const newOrderLines = (title: string, label: string, unit: string, rows: NewOrderRow[]) => {
    const rowAt = (connections: number) => rows.find((row) => row.connections === connections)!;
    const lines = rows.map((row) => {
      const sync = at("gateway", row.connections);
      const failed = row.failed ? `  (${row.failed} failed)` : "";
      return (
        `${label.padEnd(14)} ${pad(row.connections, 4)} ${pad(Math.round(row.perSecond), 8)} ` +
        `${pad(row.p50, 7)} ${pad(row.p99, 7)} ${pad(fixed(row.cpuMsPerRequest, 3), 10)}   ` +
        `${pad(Math.round(sync.rps), 8)} ${pad(fixed(sync.cpuMsPerRequest, 3), 10)}${failed}`
      );
    });
    return [
      title,
      `${"".padEnd(14)} ${pad("conc", 4)} ${pad(`${unit}/s`, 8)} ${pad("p50 ms", 7)} ${pad("p99 ms", 7)} ` +
        `${pad(`CPU ms/${unit}`, 10)}   ${pad("close req/s", 8)} ${pad("CPU ms/req", 10)}`,
      ...lines,
      "                                                     c=1    c=10   c=50",
      `  ${`${unit}s/s / synchronous close req/s`.padEnd(47)}${ratioRow((c) => rowAt(c).perSecond / at("gateway", c).rps)}`,
      `  ${`CPU per ${unit} / CPU per synchronous close`.padEnd(47)}${ratioRow(
        (c) => rowAt(c).cpuMsPerRequest / at("gateway", c).cpuMsPerRequest,
      )}`,
    ];
  };
  const coldLines = Object.entries(coldStarts).map(
    ([name, { cold, warm }]) =>
      `  ${name.padEnd(14)} ${pad(fixed(cold, 1), 6)} ms vs ${pad(fixed(warm, 1), 4)} ms  (${fixed(cold / warm, 1)}×)`,
  );
  /** What SPARKPAY_CONFIRM_CLOSES=always costs over the default, when the run measured it. */
  const alwaysLines = () => {
    if (!closes.some((row) => row.target === ALWAYS_CONFIRMED)) return [];
    const cpu = at(ALWAYS_CONFIRMED, 10).cpuMsPerRequest;
    return [
      `  ${ALWAYS_CONFIRMED.padEnd(34)}${fixed(cpu, 3)} ms  (${fixed(cpu / gatewayCpu)}× the gateway: ` +
        "SPARKPAY_CONFIRM_CLOSES=always, a query after every close)",
      `  ${`${ALWAYS_CONFIRMED} / gateway, req/s`.padEnd(34)}${ratios("gateway", ALWAYS_CONFIRMED)}  (c=1, 10, 50)`,
    ];
  };
  const labels = TARGETS.map((target) => `${target.subject} ${target.bound} ${target.limit} ${target.compares}`);
  const width = Math.max(...labels.map((label) => label.length)) + 3;
  const targetLines = TARGETS.map((target, i) => {
    const values = target.figures(figures);
    const note = target.note ? ` ${target.note(figures)}` : "";
    const shown = values.map((value) => fixed(value, target.digits)).join(", ");
    return `  ${labels[i]!.padEnd(width)}${shown}${note}   ${met(target, values) ? "met" : "MISSED"}`;
  });

  return [
    `\nBenchmark: ${machine}, Node ${process.version}, ${SECONDS} s per run, loopback\n`,
    header,
    ...closeLines,
    "",
    "Ratios of throughput (req/s)            c=1    c=10   c=50",
    `  gateway / crypto floor              ${ratios("crypto floor")}`,
    `  gateway / runtime floor             ${ratios("runtime floor")}`,
    `  gateway / Node peer                 ${ratios("Node peer")}`,
    "",
    "Crypto limit (RSA-2048, ops/s)        sign   verify",
    `  workerd (Web Crypto)             ${opsPerSecond(crypto.workerdSign)}  ${opsPerSecond(crypto.workerdVerify)}`,
    `  openssl speed rsa2048            ${opsPerSecond(crypto.opensslSign)}  ${opsPerSecond(crypto.opensslVerify)}`,
    "",
    "CPU per request at c=10 (workerd process, all threads)",
    `  one sign + one verify in workerd    ${fixed(signVerifyMs, 3)} ms`,
    `  gateway                             ${fixed(gatewayCpu, 3)} ms  (${fixed(figures.cpuInSignVerify)}× sign + verify)`,
    `  crypto floor                        ${fixed(cryptoFloorCpu, 3)} ms  ` +
      `(${fixed(cryptoFloorCpu / signVerifyMs)}×: the bound for any Worker)`,
    `  runtime floor                       ${fixed(runtimeCpu, 3)} ms  (serving + one fetch, no crypto)`,
    `  gateway − runtime floor             ${fixed(ownCpu, 3)} ms  (${fixed(figures.ownCpuInSignVerify)}× sign + verify)`,
    ...alwaysLines(),
    `Deploy bundle: ${fixed(bundle.kib, 1)} KiB minified, ${fixed(bundle.gzipKiB, 1)} KiB gzip`,
    "Cold first request vs warm median (median of 3 fresh workerd processes)",
    coldLines.join("\n"),
    "",
    ...newOrderLines(
      "Durable closes (PUT /v1/closes, close_at a day ahead; a fresh gateway per concurrency)",
      "PUT /v1/closes",
      "job",
      puts,
    ),
    "",
    ...newOrderLines(
      "Order creation (POST /v4/pay/cashier, a new order each; a fresh gateway per concurrency)",
      "POST cashier",
      "order",
      creations,
    ),
    "",
    "Targets",
    ...targetLines,
    "",
  ].join("\n");
}
