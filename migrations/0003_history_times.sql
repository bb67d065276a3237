-- A history that tells what happened: each entry that set the job's close_at (its creation, every reschedule)
-- records it, and a reschedule the one it replaced. Columns added, nothing rebuilt: older entries leave them NULL.
ALTER TABLE close_history ADD COLUMN close_at INTEGER;
ALTER TABLE close_history ADD COLUMN previous_close_at INTEGER;
