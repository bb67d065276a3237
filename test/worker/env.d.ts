/** Test-only bindings set in vitest.config.ts. */
declare namespace Cloudflare {
  interface Env {
    TEST_TIGHT_LIMITER: RateLimit;
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
