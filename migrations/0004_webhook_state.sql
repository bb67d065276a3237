-- Deliveries visible: each job keeps the state of its latest event's delivery to CLOSE_WEBHOOK_URL.
-- `webhook_status`: pending (tries left), delivered, failed (every try refused); `webhook_at`: the last try's time.
ALTER TABLE close_jobs ADD COLUMN webhook_event_id TEXT;
ALTER TABLE close_jobs ADD COLUMN webhook_type TEXT;
ALTER TABLE close_jobs ADD COLUMN webhook_status TEXT CHECK (webhook_status IS NULL OR webhook_status IN ('pending', 'delivered', 'failed'));
ALTER TABLE close_jobs ADD COLUMN webhook_attempts INTEGER;
ALTER TABLE close_jobs ADD COLUMN webhook_at INTEGER;
ALTER TABLE close_jobs ADD COLUMN webhook_error TEXT;
