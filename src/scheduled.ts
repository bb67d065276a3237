import type { GatewayEnv } from "./env";
import { servicesFor } from "./services";

/**
 * The Cron Trigger (wrangler.toml [triggers]): every minute, the repair of close jobs left stuck (src/closes/repair.ts).
 * What stops it (D1 out of reach, a binding missing) is one log line without a stack; the next minute tries again.
 */
export async function scheduled(
  _controller: ScheduledController,
  env: GatewayEnv,
  _ctx: ExecutionContext,
): Promise<void> {
  const services = await servicesFor(env);
  try {
    await services.closeRepair().run();
  } catch (error) {
    services.logger.error({
      msg: "close jobs repair stopped",
      error: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
    });
  }
}
