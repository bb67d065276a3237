-- Durable closes: each order's current job, every job's status, and its history.
-- Times are Unix seconds. STRICT, so a value of the wrong type is refused instead of silently kept.

-- One row per order. `order_key` is merchant_no, "/", then request_no with only A-Z folded to a-z (SparkPay
-- compares request_no case-insensitively; Unicode folding would merge orders it keeps apart, e.g. the Kelvin sign).
-- `generation` counts the Workflow instance ids issued for the order, so none is ever issued twice (Cloudflare
-- refuses a used id, even a terminated one's). Creating a job moves `current_job` in the same statement that checks
-- the old job is over, which is what makes two racing creates end with one job.
CREATE TABLE close_orders (
  order_key TEXT PRIMARY KEY NOT NULL,
  current_job TEXT NOT NULL,
  generation INTEGER NOT NULL CHECK (generation >= 1)
) STRICT;

-- One row per job. `id` never changes (it is the job's first instance id); `instance_id` is the Workflow instance
-- that runs it now, replaced on reschedule, so a replaced instance that wakes up matches no job.
-- `revision` is the number of history rows: each change bumps it and writes the history row numbered by it.
CREATE TABLE close_jobs (
  id TEXT PRIMARY KEY NOT NULL,
  instance_id TEXT NOT NULL UNIQUE,
  order_key TEXT NOT NULL,
  merchant_no TEXT NOT NULL,
  request_no TEXT NOT NULL,
  generation INTEGER NOT NULL CHECK (generation >= 1),
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'closing', 'closed', 'failed', 'cancelled')),
  close_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  closed_at INTEGER,
  confirmed_by TEXT CHECK (confirmed_by IN ('close', 'order-query')),
  -- ANY: SparkPay's codes are integers or text, and the job shows them as they came.
  error_code ANY,
  error_message TEXT,
  revision INTEGER NOT NULL CHECK (revision >= 1)
) STRICT;

-- Earlier jobs of an order stay for the record; operators find them by order.
CREATE INDEX close_jobs_order ON close_jobs (order_key, generation);

-- (job_id, seq) is the key, so writing the row for a revision that already has one does nothing: that is how a
-- change that did not happen (a lost race, a repeated call) leaves no history.
CREATE TABLE close_history (
  job_id TEXT NOT NULL REFERENCES close_jobs (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'closing', 'closed', 'failed', 'cancelled')),
  -- `caller:<caller id>` or `gateway`; never a caller key.
  actor TEXT NOT NULL,
  code ANY,
  PRIMARY KEY (job_id, seq)
) STRICT, WITHOUT ROWID;
