import type { CallerKey } from "./config";
import type { GatewayEnv } from "./env";

/** Fields the request's single log line carries, filled in as the request goes. */
export interface LogFields {
  caller?: string;
  merchant_no?: string;
  upstream_status?: number;
  sparkpay_code?: string | number;
  attempts?: number;
  confirmed_by_query?: boolean;
  error_code?: string | number;
}

/** Hono's typed context for the whole app. */
export interface AppEnv {
  Bindings: GatewayEnv;
  Variables: {
    requestId: string;
    logFields: LogFields;
    /** The authenticated caller key (set by callerAuth). */
    caller: CallerKey;
    /** The validated merchant_no of a close request. */
    merchantNo: string;
  };
}
