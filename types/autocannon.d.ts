/** The part of autocannon's API that scripts/bench/ uses (the package ships no types). */
declare module "autocannon" {
  interface Options {
    url: string;
    method?: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Result {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    /** How long the run took, in seconds. */
    duration: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
