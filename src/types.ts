import type { GatewayEnv } from "./env";

/** Fields the request's single log line carries, filled in as the request goes. */
export interface LogFields {
  merchant_no?: string;
  upstream_status?: number;
  sparkpay_code?: string | number;
  error_code?: string | number;
}

/** Hono's typed context for the whole app. */
export interface AppEnv {
  Bindings: GatewayEnv;
  Variables: {
    requestId: string;
    logFields: LogFields;
  };
}
