/** The fixes key errors offer: openssl commands that turn what people have into what SparkPay and Web Crypto take. */

export const FIX_TO_PKCS8 =
  "convert it with `openssl pkey -in key.pem -out key_pkcs8.pem` and store the whole file, " +
  "BEGIN and END lines included.";
export const ENCRYPTED_PROBLEM = "is encrypted with a passphrase, which a Worker cannot supply.";
export const FIX_DECRYPT = "decrypt it with `openssl pkey -in encrypted.pem -out key_pkcs8.pem`.";
export const FIX_NEW_RSA_KEY =
  "create an RSA-2048 key with " +
  "`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out merchant_private.pem` " +
  "and upload its public key to SparkPay.";
