import type { CallerKey } from "./config";
import type { GatewayEnv } from "./env";
import type { LogLevel } from "./log";

/** Fields the request's single log line carries, filled in as the request goes. */
export interface LogFields {
  caller?: string;
  merchant_no?: string;
  upstream_status?: number;
  sparkpay_code?: string | number;
  attempts?: number;
  /** Time spent waiting on SparkPay, summed over attempts and the confirming query. */
  upstream_ms?: number;
  /** SparkPay's own request id, when its answer carried one. */
  sparkpay_request_id?: string;
  confirmed_by_query?: boolean;
  error_code?: string | number;
}

/** Hono's typed context for the whole app. */
export interface AppEnv {
  Bindings: GatewayEnv;
  Variables: {
    requestId: string;
    logFields: LogFields;
    logLevel: LogLevel;
    /** The authenticated caller key (set by callerAuth). */
    caller: CallerKey;
    /** The validated merchant_no of a close request. */
    merchantNo: string;
  };
}
