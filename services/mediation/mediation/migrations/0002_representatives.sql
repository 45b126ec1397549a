-- The workers' elected representatives (LDA Art. 7, groups of ten or more), by worker_ref,
-- and when they were elected: sessions of a large group call them instead of every worker.
ALTER TABLE mediations
    ADD COLUMN representatives    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN representatives_on date;
