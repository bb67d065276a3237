import { defineConfig } from "vitest/config";

/** `npm run test:browser` (test/browser): Chromium against the local gateway; apart from `npm test`, which needs no browser. */
export default defineConfig({
  test: { include: ["test/browser/**/*.test.ts"], environment: "node", fileParallelism: false },
});
