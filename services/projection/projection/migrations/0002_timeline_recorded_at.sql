-- When projection learned of each event: the end of an event's journey from intake to the
-- dashboard (what the end-to-end latency benchmark measures).
ALTER TABLE case_timeline ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
