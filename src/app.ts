import { Hono } from "hono/tiny";
import type { AppEnv } from "./env";
import { errorResponse } from "./error-response";
import { GatewayError } from "./errors";
import { accessLog } from "./middleware/access-log";
import { apiHeaders } from "./middleware/api-headers";
import { requestIds } from "./middleware/request-ids";
import { services } from "./middleware/services";
import { cashier } from "./routes/cashier";
import { closes } from "./routes/closes";
import { docs } from "./routes/docs";
import { health } from "./routes/health";
import { notifications } from "./routes/notifications";
import { openapi } from "./routes/openapi";
import { orders } from "./routes/orders";

const app = new Hono<AppEnv>()
  .use(requestIds())
  .use(services())
  .use(accessLog())
  .use(apiHeaders())
  .route("/", health)
  .route("/", openapi)
  .route("/", docs)
  .route("/", orders)
  .route("/", cashier)
  .route("/", closes)
  .route("/", notifications);

/** What a wrong path is told: the routes that exist, and where they are described. */
const NO_SUCH_ROUTE =
  "No such route. The gateway serves POST /v4/pay/orders/close, GET /v4/pay/orders/{merchant_no}/{request_no}, " +
  "POST /v4/pay/cashier, POST /v4/pro/pay/cashier, GET /v4/pro/pay/orders/{merchant_no}/{request_no}, " +
  "PUT, GET and DELETE /v1/closes/{merchant_no}/{request_no}, GET …/jobs and POST …/webhook under it, " +
  "POST /v1/sparkpay/notifications (SparkPay's notify_url), " +
  "GET /healthz and GET /openapi.json; " +
  "see /docs for the reference.";

app.notFound((c) => errorResponse(c, new GatewayError("NOT_FOUND", NO_SUCH_ROUTE)));
app.onError((error, c) => errorResponse(c, error));

export type AppType = typeof app;
export default app;
