-- The notification service's own store. No contact data: mobiles and OpenIDs are asked of
-- intake at send time and kept only in memory for the call.

-- What notification knows of a case from case.reported: where it came from and its
-- workers' pseudonyms (worker_ref) by position.
CREATE TABLE cases (
    case_id       uuid PRIMARY KEY,
    case_number   text        NOT NULL,
    district_code text        NOT NULL,
    channel       text        NOT NULL,
    worker_refs   text[]      NOT NULL,
    reported_at   timestamptz NOT NULL
);
CREATE INDEX cases_by_number ON cases (case_number);

-- A decision that arrived before its case.reported (topics are not ordered among
-- themselves): kept until the case is known, then turned into messages.
CREATE TABLE waiting_events (
    event_id   uuid PRIMARY KEY,
    event_type text        NOT NULL,
    case_id    uuid        NOT NULL,
    payload    jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX waiting_events_by_case ON waiting_events (case_id);

-- The outbox toward people: one row per (event, recipient, template), inserted by the
-- consumer in its batch's transaction; a replayed batch inserts nothing new. The sender
-- claims due rows (FOR UPDATE SKIP LOCKED), sends, and records the provider's answer.
CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    case_id          uuid,
    case_number      text,
    district_code    text,
    rule_id          text        NOT NULL,
    recipient_kind   text        NOT NULL,
    recipient_ref    text        NOT NULL,  -- a pseudonym (worker_ref), never a contact
    worker_position  integer,               -- which worker of the case (contact lookup)
    channel          text        NOT NULL,
    template_id      text        NOT NULL,
    variables        jsonb       NOT NULL,  -- case number, labels: no personal data
    quiet_hours      boolean     NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts         integer     NOT NULL DEFAULT 0,
    due_at           timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    provider_ref     text,
    recipient_masked text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    failed_at        timestamptz,
    UNIQUE (event_id, recipient_ref, template_id),
    CHECK (status IN ('pending', 'sent', 'failed'))
);
CREATE INDEX messages_due ON messages (channel, due_at) WHERE status = 'pending';
CREATE INDEX messages_by_case ON messages (case_number, created_at);
CREATE INDEX messages_recent_by_recipient ON messages (recipient_ref, channel, sent_at)
    WHERE status = 'sent';
