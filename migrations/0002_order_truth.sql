-- The order's verified state in every job: a job ends `not_closable` when a verified Payment Order Query shows the
-- order in a pay_status other than CLOSED, keeps the last such query's data (`order_json`, SparkPay's data verbatim),
-- and records a payment seen after it closed (`late_payment_at`). `confirmed_by` gains `close-and-query` (the close
-- succeeded and the query agreed), and history rows carry the pay_status a query showed and, for a late payment,
-- the event.
-- SQLite cannot change a CHECK constraint in place: both tables are rebuilt (new table, copy, drop, rename). The
-- history is copied to a table that references the new jobs table, and dropped before the old jobs table, so no
-- foreign key ever points at a missing row.

CREATE TABLE close_jobs_v2 (
  id TEXT PRIMARY KEY NOT NULL,
  instance_id TEXT NOT NULL UNIQUE,
  order_key TEXT NOT NULL,
  merchant_no TEXT NOT NULL,
  request_no TEXT NOT NULL,
  generation INTEGER NOT NULL CHECK (generation >= 1),
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'closing', 'closed', 'failed', 'cancelled', 'not_closable')),
  close_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  closed_at INTEGER,
  -- `close` only on jobs closed before this migration, when SparkPay's close answer alone made a job closed.
  confirmed_by TEXT CHECK (confirmed_by IN ('close', 'order-query', 'close-and-query')),
  error_code ANY,
  error_message TEXT,
  revision INTEGER NOT NULL CHECK (revision >= 1),
  -- The last verified Payment Order Query's data for the order, as SparkPay sent it (a JSON object).
  order_json TEXT CHECK (order_json IS NULL OR json_type(order_json) = 'object'),
  late_payment_at INTEGER
) STRICT;

INSERT INTO close_jobs_v2 (id, instance_id, order_key, merchant_no, request_no, generation, status, close_at,
  created_at, updated_at, attempts, closed_at, confirmed_by, error_code, error_message, revision)
SELECT id, instance_id, order_key, merchant_no, request_no, generation, status, close_at, created_at, updated_at,
  attempts, closed_at, confirmed_by, error_code, error_message, revision
FROM close_jobs;

CREATE TABLE close_history_v2 (
  job_id TEXT NOT NULL REFERENCES close_jobs_v2 (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'closing', 'closed', 'failed', 'cancelled', 'not_closable')),
  actor TEXT NOT NULL,
  code ANY,
  -- The pay_status a verified query showed when this entry was written (closed, not_closable, a late payment).
  pay_status TEXT,
  -- Set on an entry that is not a change of status: `late_payment` (the re-check found the order paid after closing).
  event TEXT CHECK (event IS NULL OR event IN ('late_payment')),
  PRIMARY KEY (job_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO close_history_v2 (job_id, seq, at, status, actor, code)
SELECT job_id, seq, at, status, actor, code FROM close_history;

DROP TABLE close_history;
DROP TABLE close_jobs;
ALTER TABLE close_jobs_v2 RENAME TO close_jobs;
ALTER TABLE close_history_v2 RENAME TO close_history;
CREATE INDEX close_jobs_order ON close_jobs (order_key, generation);
