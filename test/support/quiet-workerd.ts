/**
 * The tests drop connections on purpose (the sandbox's reset, lost and unreachable faults), and
 * workerd logs each dropped connection the gateway then handles as an uncaught "Network connection
 * lost" with a native stack, which the Workers pool prints on this process's stdout or stderr.
 * Those lines, and only those, are dropped here, so a passing `npm test` prints no stack traces.
 * The webhook tests' refused deliveries, which the local Workflows engine logs per failed step try, are dropped
 * too. Any other workerd output passes.
 */
const DROPPED_CONNECTION_NOISE = [
  new RegExp(
    "^uncaught exception; " +
      String.raw`(source = Uncaught \(in promise\); stack = Error|exception = .*jsg\.Error)` +
      String.raw`: Network connection lost\.$`,
  ),
  new RegExp(
    String.raw`^exception = kj\/async-io(-unix)?\.c\+\+:\d+: disconnected: ` +
      String.raw`(connect\(\): Connection refused|stream disconnected prematurely)$`,
  ),
  /^stack: (\S+workerd@[0-9a-f]+ ?)+$/,
  // The local Workflows engine logs each failed try of a step it retries: the webhook tests refuse deliveries.
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: The webhook receiver answered HTTP 503\.$/,
  // The same for the step a test makes throw on every try (closes.test.ts, "a round that throws").
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: a close round that throws \(test\)$/,
  // The local engine's own rejections when the repair tests ask about instances that never started or stopped,
  // pause one, or make a step fail on every try (repair.test.ts).
  new RegExp(
    String.raw`^uncaught exception; source = Uncaught \(in promise\); stack = (Error: )?(WorkflowError: )?` +
      String.raw`(Engine was never started|instance\.not_found|\(instance\.cannot_terminate\) .*|` +
      String.raw`Aborting engine: User called pause|D1 gone \(test\))$`,
  ),
  // The pool's own connection to workerd, closed when the run ends.
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/,
];

export function quietDroppedConnectionLogs(): void {
  for (const stream of [process.stdout, process.stderr]) stream.write = withoutNoise(stream.write.bind(stream));
}

function withoutNoise(write: typeof process.stdout.write): typeof process.stdout.write {
  // The stack under a dropped line ("    at …" lines) goes with it, even when it comes in a later write.
  let inDroppedStack = false;
  const keep = (line: string) => {
    if (DROPPED_CONNECTION_NOISE.some((pattern) => pattern.test(line.trim()))) {
      inDroppedStack = true;
      return false;
    }
    if (inDroppedStack && /^\s+at /.test(line)) return false;
    if (line.trim() !== "") inDroppedStack = false;
    return true;
  };
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const kept = text.split("\n").filter(keep).join("\n");
    if (kept.trim() === "") return true;
    // the rest arguments (encoding, callback) are passed on as they came
    return (write as (...args: unknown[]) => boolean)(kept, ...rest);
  }) as typeof process.stdout.write;
}

/**
 * For vitest's onConsoleLog: the gateway's JSON log lines are dropped unless a test captures
 * them (captureLogs in test/worker/helpers.ts); anything else a test prints is kept.
 */
export function keepUnlessGatewayLogLine(log: string): false | undefined {
  return log.startsWith('{"level":') ? false : undefined;
}
