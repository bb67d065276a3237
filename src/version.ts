/** Sent in SparkPay's required User-Agent header; a test keeps it equal to package.json. */
export const GATEWAY_NAME = "sparkpay-edge-gateway";
export const GATEWAY_VERSION = "0.1.0";
export const USER_AGENT = `${GATEWAY_NAME}/${GATEWAY_VERSION}`;
