/** One answer from SparkPay exactly as it arrived, before anything is believed. */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body's bytes as received: signatures are verified over these, not over a decoded copy. */
  bytes: Uint8Array;
  /** Which attempt of its operation this answers (1 for the first), for the errors it may cause. */
  attempt: number;
  /** SparkPay's own request id, when the answer carried a short and plain one. */
  sparkpayRequestId?: string;
}
