/** Unix seconds now: close jobs, their history and webhooks keep time in whole seconds. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
