-- Triage's decision history: every decision is a row; the latest per case is current.
CREATE TABLE decisions (
    id                   bigserial PRIMARY KEY,
    case_id              uuid        NOT NULL,
    case_number          text        NOT NULL,
    kind                 text        NOT NULL,  -- initial | override
    category             text        NOT NULL,
    secondary_categories text[]      NOT NULL,
    urgency              text        NOT NULL,
    route                text        NOT NULL,
    reasons              jsonb       NOT NULL,
    source_event_id      uuid        NOT NULL,
    decided_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_case ON decisions (case_id, id);
-- A case gets exactly one initial decision, whatever Kafka redelivers.
CREATE UNIQUE INDEX decisions_one_initial ON decisions (case_id) WHERE kind = 'initial';
