-- Transactional outbox: a state change and the events it causes commit together;
-- the relay publishes rows in id order and deletes them once Kafka has acknowledged them.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    headers     jsonb       NOT NULL,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Inbox: one row per event a consumer has applied, written in the same transaction as the
-- effect, so a redelivered event is recognised and skipped.
CREATE TABLE inbox (
    event_id     uuid        NOT NULL,
    consumer     text        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
