-- Satisfaction surveys: one per case and worker, answered once through a signed link that
-- expires. Only the link's hash is kept; the comment is stored redacted (no mobiles or ID
-- numbers) and never published.
CREATE TABLE surveys (
    id             uuid PRIMARY KEY,
    case_id        uuid        NOT NULL,
    case_number    text        NOT NULL,
    district_code  text        NOT NULL,
    worker_ref     text        NOT NULL,
    token_hash     bytea       NOT NULL UNIQUE,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    answered_at    timestamptz,
    score          integer CHECK (score BETWEEN 1 AND 5),
    comment        text,
    UNIQUE (case_id, worker_ref)
);
