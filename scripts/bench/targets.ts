/**
 * The bench's targets as data: what each compares, with which bound, and the figures a run gives it. The report
 * prints one line per target, its figures and "met" or "MISSED" (scripts/bench/report.ts).
 */

/** What the targets read from one run. */
export interface Figures {
  /** Requests per second of `target` over `than`'s, at `connections`. */
  throughputRatio: (target: string, than: string, connections: number) => number;
  /** The gateway's CPU per request at c=10, in units of one sign + one verify in workerd; and above the runtime floor. */
  cpuInSignVerify: number;
  ownCpuInSignVerify: number;
  bundleGzipKiB: number;
  /** The gateway's cold first request over its warm median. */
  coldOverWarm: number;
  /** The gateway's CPU per request at c=10 over the crypto floor's (a Worker that only signs, forwards, verifies). */
  cpuOverCryptoFloor: number;
  /** The gateway's cold first request over the crypto floor's. */
  coldOverCryptoFloorCold: number;
}

export interface BenchTarget {
  /** What is measured, e.g. "gateway CPU". */
  subject: string;
  bound: "≥" | "≤";
  /** The ratio or limit, as printed (its number is the bound). */
  limit: string;
  /** What the figure is compared with, after the limit: "× crypto floor at c=10". */
  compares: string;
  /** The run's figures for it; each must keep the bound. */
  figures: (run: Figures) => number[];
  digits: number;
  /** Said after the figures. */
  note?: (run: Figures) => string;
}

/**
 * Against the crypto floor (the work no Worker can avoid: one sign, the forward, one verify), measured in the same
 * run, so the ratios hold on a noisy host. The issue [1/5 house] set them.
 */
export const TARGETS: readonly BenchTarget[] = [
  {
    subject: "gateway CPU",
    bound: "≤",
    limit: "1.10",
    compares: "× crypto floor at c=10",
    figures: (run) => [run.cpuOverCryptoFloor],
    digits: 2,
    note: (run) => `(${run.cpuInSignVerify.toFixed(2)}× sign + verify)`,
  },
  {
    subject: "gateway",
    bound: "≥",
    limit: "0.93",
    compares: "× crypto floor req/s at c=10 and c=50",
    figures: (run) => [10, 50].map((c) => run.throughputRatio("gateway", "crypto floor", c)),
    digits: 2,
  },
  {
    subject: "bundle",
    bound: "≤",
    limit: "28",
    compares: "KiB gzip",
    figures: (run) => [run.bundleGzipKiB],
    digits: 1,
  },
  {
    subject: "cold",
    bound: "≤",
    limit: "1.3",
    compares: "× crypto floor's cold first request",
    figures: (run) => [run.coldOverCryptoFloorCold],
    digits: 2,
    note: (run) => `(${run.coldOverWarm.toFixed(1)}× its own warm)`,
  },
];

/** Whether every figure keeps the target's bound. */
export function met(target: BenchTarget, figures: number[]): boolean {
  const limit = Number(target.limit);
  return figures.every((figure) => (target.bound === "≥" ? figure >= limit : figure <= limit));
}
