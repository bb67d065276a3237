import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// `npm run keys`, as a person runs it, on fresh keys.
const dir = mkdtempSync(join(tmpdir(), "gw-keys-"));
const run = (command: string, args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: result.status, out: result.stdout, err: result.stderr };
};
let keysOutput = "";
let privatePem = "";

beforeAll(() => {
  const keys = run("node", ["scripts/keys.mjs", "--out", dir]);
  expect(keys.code).toBe(0);
  keysOutput = keys.out;
  privatePem = readFileSync(join(dir, "merchant_private.pem"), "utf8");
}, 30_000);

describe("npm run keys", () => {
  it("writes a PKCS#8 private key readable only by its owner, the SPKI public key and a caller key", () => {
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(join(dir, "merchant_private.pem")).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, "merchant_public.pem"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(readFileSync(join(dir, "gateway_api_key.txt"), "utf8")).toMatch(/^[A-Za-z0-9_-]{16,}\n$/);
  });

  it("prints the public key to upload and the wrangler secret put commands for each environment", () => {
    expect(keysOutput).toContain(readFileSync(join(dir, "merchant_public.pem"), "utf8"));
    for (const env of ["staging", "production"]) {
      expect(keysOutput).toContain(
        `npx wrangler secret put SPARKPAY_PRIVATE_KEY --env ${env} < ${join(dir, "merchant_private.pem")}`,
      );
      expect(keysOutput).toContain(
        `npx wrangler secret put GATEWAY_API_KEYS --env ${env} < ${join(dir, "gateway_api_key.txt")}`,
      );
    }
    expect(keysOutput).not.toContain(privatePem.split("\n")[1]);
  });

  it("never replaces existing keys silently", () => {
    const again = run("node", ["scripts/keys.mjs", "--out", dir]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists.*--force/);
    expect(readFileSync(join(dir, "merchant_private.pem"), "utf8")).toBe(privatePem);
  });
});
