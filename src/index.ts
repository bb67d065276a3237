/**
 * The Worker's main module: the app's fetch handler and the Workflow class, nothing else. workerd refuses to start
 * a module that exports anything but handlers and classes (a string constant, say), so everything else lives in
 * ./app and the modules it imports; Node-side code imports ./app, never this module (it imports cloudflare:workers).
 */
import app from "./app";

export { CloseWorkflow } from "./closes/workflow";
export default app;
