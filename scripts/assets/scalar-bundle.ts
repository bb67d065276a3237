/**
 * Scalar's standalone bundle (dist/browser/standalone.js of the npm package @scalar/api-reference), at the version
 * src/routes/assets.ts pins. Fetched with `npm pack` (the registry's tarball, from npm's cache when it is there) and
 * checked against the pinned integrity before anything is taken out of it. Not a devDependency: installing the
 * package would pull some 330 more packages (its Vue application's sources, about 300 MB) and 20 engine warnings
 * into every `npm ci`, for one prebuilt file.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SCALAR_TARBALL_INTEGRITY, SCALAR_VERSION } from "../../src/routes/assets";

const PACKAGE = "@scalar/api-reference";
const BUNDLE_IN_TARBALL = "package/dist/browser/standalone.js";

/** The tarball's integrity as npm writes it: sha512, Base64. */
export const integrityOf = (bytes: Buffer) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`;

export function fetchScalarBundle(version = SCALAR_VERSION, integrity = SCALAR_TARBALL_INTEGRITY): Buffer {
  const work = mkdtempSync(join(tmpdir(), "scalar-bundle-"));
  try {
    const packed = execFileSync(
      "npm",
      ["pack", `${PACKAGE}@${version}`, "--pack-destination", work, "--prefer-offline", "--json", "--silent"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
    const tarball = join(work, filename);
    const actual = integrityOf(readFileSync(tarball));
    if (actual !== integrity) {
      throw new Error(
        `${PACKAGE}@${version}: the tarball's integrity is ${actual}, not the pinned ${integrity} ` +
          "(src/routes/assets.ts). Refusing to serve it.",
      );
    }
    execFileSync("tar", ["-xzf", tarball, "-C", work, BUNDLE_IN_TARBALL]);
    return readFileSync(join(work, BUNDLE_IN_TARBALL));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
