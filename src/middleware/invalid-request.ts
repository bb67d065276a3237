import { GatewayError } from "../errors";

interface Issue {
  message: string;
  path?: readonly { key: unknown }[];
}

/**
 * 400 INVALID_REQUEST for the first problem: its message names the field, and `param` is the field itself when the
 * problem is in one (the top-level key of the body or path).
 */
export function refuseInvalid(issues: readonly Issue[] | undefined): never {
  const issue = issues?.[0];
  const key = issue?.path?.[0]?.key;
  throw new GatewayError("INVALID_REQUEST", issue?.message ?? "Invalid request.", {
    ...(typeof key === "string" ? { param: key } : {}),
  });
}
