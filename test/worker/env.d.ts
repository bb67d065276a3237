/** Test-only bindings set in vitest.config.ts. */
declare namespace Cloudflare {
  interface Env {
    TEST_TIGHT_LIMITER: RateLimit;
    TEST_READ_LIMITER: RateLimit;
    /** An empty D1 database, for test/worker/migrations.test.ts to migrate one step at a time. */
    TEST_MIGRATION_DB: D1Database;
    /** Jobs of test/worker/repair.test.ts only (migrated there). */
    TEST_REPAIR_DB: D1Database;
    /** migrations/, read by vitest.config.ts, applied by apply-migrations.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    TEST_KEYS: Record<
      | "merchantPkcs8"
      | "merchantPkcs1"
      | "otherMerchantPkcs8"
      | "otherMerchantPublic"
      | "merchantPublicSpki"
      | "merchantPublicPkcs1"
      | "merchantEncrypted"
      | "merchantEncryptedPkcs1"
      | "platformPublic"
      | "rotatedPlatformPublic"
      | "rsa1024Private"
      | "rsa1024Public"
      | "ecPrivatePkcs8"
      | "ecPrivateSec1"
      | "ecPublic"
      | "certificate",
      string
    >;
  }
}
