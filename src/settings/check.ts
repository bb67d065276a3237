/**
 * One setting's check result, as /healthz, `npm run doctor` and the deploy gate read it: `ok`; `unused` (nothing
 * needs it as set, e.g. the platform key while verification is off); `warning` (wrong, but never a reason to stop:
 * a fallback applies); `problem` (wrong, and what needs it cannot work). Messages name the setting and what is
 * wrong, never its value.
 */
export type Check = { status: "ok" } | { status: "unused" | "warning" | "problem"; message: string };
export type CheckStatus = Check["status"];

export const OK: Check = Object.freeze({ status: "ok" });
export const unused = (message: string): Check => ({ status: "unused", message });
export const warning = (message: string): Check => ({ status: "warning", message });
export const problem = (message: string): Check => ({ status: "problem", message });

export function isProblem(check: Check | undefined): check is { status: "problem"; message: string } {
  return check?.status === "problem";
}
