/**
 * The gateway's bodies as plain types, for callers. They mirror the gateway's valibot schemas (a test in the gateway's
 * repository compares them), but import nothing: a caller's project compiles them with no Worker, DOM or Node types.
 */
export {};
