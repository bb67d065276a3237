/**
 * The Worker's main module: the app's fetch handler, the Cron Trigger's handler, the Workflow classes and the round gate's Durable
 * Object class, nothing else.
 * workerd refuses to start a module that exports anything but handlers and classes (a string constant, say), so
 * everything else lives in ./app and the modules it imports; Node-side code imports ./app, never this module (it
 * imports cloudflare:workers).
 */
import app from "./app";
import type { GatewayEnv } from "./env";
import { scheduled } from "./scheduled";

export { CloseRoundGate } from "./closes/round-gate";
export { CloseWorkflow } from "./closes/workflow";
export { NotificationWorkflow } from "./notifications/workflow";
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<GatewayEnv>;
