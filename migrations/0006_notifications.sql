-- SparkPay's payment notifications (POST /v1/sparkpay/notifications) and what the gateway made of them.
--
-- sparkpay_notifications: one row per distinct verified notification (by the SHA-256 of its decrypted JSON), recorded
-- before SparkPay is answered SUCCESS; a retry or replay of the same one counts up `received`. `instance_id` is the
-- NOTIFY_WORKFLOW instance that confirms it with Payment Order Query.
CREATE TABLE sparkpay_notifications (
  digest TEXT PRIMARY KEY CHECK (length(digest) = 64 AND digest NOT GLOB '*[^0-9a-f]*'),
  merchant_no TEXT NOT NULL,
  request_no TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  last_received_at INTEGER NOT NULL,
  received INTEGER NOT NULL DEFAULT 1 CHECK (received >= 1),
  instance_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'confirmed', 'unconfirmed'))
) STRICT;

-- order_states: each order's latest verified state (the query that showed it, when: observed_at in milliseconds). An
-- older observation never replaces a newer one.
CREATE TABLE order_states (
  order_key TEXT PRIMARY KEY,
  merchant_no TEXT NOT NULL,
  request_no TEXT NOT NULL,
  pay_status TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  event_id TEXT NOT NULL
) STRICT;

-- order_events: one order.updated event per order and verified pay_status (event_id is derived from both), made by
-- the instance that first recorded the state, with its delivery's state.
CREATE TABLE order_events (
  event_id TEXT PRIMARY KEY,
  order_key TEXT NOT NULL,
  pay_status TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  created INTEGER NOT NULL,
  data_json TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  webhook_status TEXT CHECK (webhook_status IS NULL OR webhook_status IN ('pending', 'delivered', 'failed')),
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_at INTEGER,
  webhook_error TEXT
) STRICT;

CREATE INDEX order_events_by_order ON order_events (order_key, observed_at);
