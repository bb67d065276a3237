/**
 * How the close-job store talks to D1: whatever D1 throws (overloaded, a reset, the network, a statement D1 could not
 * run) becomes CloseJobsUnavailableError, which the routes answer as 503 CLOSE_JOBS_UNAVAILABLE with Retry-After and
 * the Workflow's steps retry; never a 500. Reads are repeated briefly (they change nothing); a change is not, since
 * after an error its outcome is unknown (the caller repeats it: every change checks the state it starts from).
 */

/** Tries of a read, and the pause before the second (doubling). */
export const D1_READ_ATTEMPTS = 3;
const D1_READ_PAUSE_MS = 50;
/** What Retry-After says when D1 did not answer. */
export const D1_RETRY_AFTER_S = 5;

export class CloseJobsUnavailableError extends Error {
  override name = "CloseJobsUnavailableError";
  constructor(
    /** D1's own words, for the log line (never the answer: it may name tables and columns). */
    readonly detail: string,
  ) {
    super("The close jobs' database (D1) did not answer; nothing was changed that cannot be asked again. Retry soon.");
  }
}

function unavailable(error: unknown): CloseJobsUnavailableError {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CloseJobsUnavailableError(text.slice(0, 200));
}

/** A change (one batch): one try. */
export async function d1Change<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw unavailable(error);
  }
}

/** A read: up to D1_READ_ATTEMPTS tries, 50 ms then 100 ms apart. `sleep` is injectable for tests. */
export async function d1Read<T>(
  run: () => Promise<T>,
  sleep: (ms: number) => Promise<unknown> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= D1_READ_ATTEMPTS) throw unavailable(error);
      await sleep(D1_READ_PAUSE_MS * 2 ** (attempt - 1));
    }
  }
}
