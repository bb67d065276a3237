-- Orders created through the gateway (POST /v4/pay/cashier, POST /v4/pro/pay/cashier), one row per order, so that a
-- repeat of a creation is answered from here and never sent to SparkPay again.
--
-- status: `creating` while a request holds the claim (claim_id; started_at, Unix seconds: a claim older than the
-- SparkPay deadline is taken over, and 0 means an earlier try ended not knowing, taken over at once; whoever takes it
-- over asks Payment Order Query first); `created` with SparkPay's verified answer (answer_json); `answer_lost` when
-- SparkPay's answer was lost and a verified query showed the order (order_json, its data). A creation SparkPay refused,
-- or that a query showed SparkPay does not have, leaves no row.
CREATE TABLE order_creations (
  order_key TEXT PRIMARY KEY,
  merchant_no TEXT NOT NULL,
  request_no TEXT NOT NULL,
  edition TEXT NOT NULL CHECK (edition IN ('standard', 'pro')),
  fingerprint TEXT NOT NULL CHECK (length(fingerprint) = 64 AND fingerprint NOT GLOB '*[^0-9a-f]*'),
  status TEXT NOT NULL CHECK (status IN ('creating', 'created', 'answer_lost')),
  claim_id TEXT NOT NULL,
  claims INTEGER NOT NULL DEFAULT 1 CHECK (claims >= 1),
  started_at INTEGER NOT NULL,
  answer_json TEXT,
  order_json TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
