import { GatewayError } from "../errors";

/** The validator hook every route uses: the first problem, by field name, as 400 INVALID_REQUEST. */
export function invalidRequest(result: { success: boolean; issues?: readonly { message: string }[] }): void {
  if (!result.success) throw new GatewayError("INVALID_REQUEST", result.issues?.[0]?.message ?? "Invalid request.");
}
