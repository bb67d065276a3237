-- Nothing left stuck: the repair of a job whose Workflow instance died or never ran adds a history entry with event
-- `repaired`. The event column's CHECK named each event, and SQLite cannot change a CHECK in place, so the history is
-- rebuilt once more (new table, copy, drop, rename; nothing references it). The new CHECK bounds the event's shape
-- (lower-case letters and `_`, at most 32) instead of listing the events: the code names them (src/closes/job.ts), and
-- a new event needs no rebuild.
CREATE TABLE close_history_v3 (
  job_id TEXT NOT NULL REFERENCES close_jobs (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'closing', 'closed', 'failed', 'cancelled', 'not_closable')),
  actor TEXT NOT NULL,
  code ANY,
  pay_status TEXT,
  event TEXT CHECK (event IS NULL OR (length(event) BETWEEN 1 AND 32 AND event NOT GLOB '*[^a-z_]*')),
  close_at INTEGER,
  previous_close_at INTEGER,
  PRIMARY KEY (job_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO close_history_v3 (job_id, seq, at, status, actor, code, pay_status, event, close_at, previous_close_at)
SELECT job_id, seq, at, status, actor, code, pay_status, event, close_at, previous_close_at FROM close_history;

DROP TABLE close_history;
ALTER TABLE close_history_v3 RENAME TO close_history;

-- The repair's scan (every minute): live jobs by status and time, without reading every job the database holds.
CREATE INDEX close_jobs_live ON close_jobs (status, close_at);
