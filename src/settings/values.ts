/**
 * How a setting's raw value is read. Empty strings count as unset, so `SPARKPAY_TIMEOUT_MS = ""` means "use the
 * default". wrangler.toml may hold a var as a TOML number or boolean (`SPARKPAY_MAX_RETRIES = 0`): it is read as its
 * text, so 0 means 0 and a value of the wrong kind is refused by name, never replaced by a default.
 */
export function present(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = (
    typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value)
  ).trim();
  return text ? text : undefined;
}

/** What values copied from wrangler.toml or .dev.vars.example without being filled in start with. */
export const PLACEHOLDER = "replace-with-";

export function isPlaceholder(value: unknown): boolean {
  return present(value)?.includes(PLACEHOLDER) ?? false;
}
