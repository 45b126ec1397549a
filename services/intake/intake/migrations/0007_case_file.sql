-- The case file: notes and contacts (text encrypted), the responsible person (承办人),
-- the worker's separate consent to share (PIPL Art.23) and voiding a case registered in error.
-- depends: 0005_routes_and_encrypted_occupation 0006_mobile_searches

ALTER TABLE cases
    ADD COLUMN assignee_id                text,
    ADD COLUMN assignee_name              text,
    ADD COLUMN assigned_at                timestamptz,
    ADD COLUMN sharing_consent            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN sharing_consent_version    text,
    ADD COLUMN sharing_consent_at         timestamptz,
    ADD COLUMN voided_at                  timestamptz,
    ADD COLUMN void_reason                text,
    ADD COLUMN duplicate_of               text;
CREATE INDEX cases_employer_credit_code ON cases (employer_credit_code)
    WHERE employer_credit_code IS NOT NULL;

-- A note or a contact with the worker. The note's text or the contact's remark only as
-- AES-GCM ciphertext bound to the row (context case_notes.text:<id>).
CREATE TABLE case_notes (
    id              uuid PRIMARY KEY,
    case_id         uuid        NOT NULL REFERENCES cases (id),
    kind            text        NOT NULL CHECK (kind IN ('note', 'contact')),
    text_enc        bytea,
    method          text,
    outcome         text,
    next_action_on  date,
    author_id       text        NOT NULL,
    author_name     text        NOT NULL,
    written_at      timestamptz NOT NULL,
    -- The client's Idempotency-Key (per author) and a keyed hash of what it sent.
    idempotency_key text,
    request_hash    text,
    UNIQUE (author_id, idempotency_key)
);
CREATE INDEX case_notes_case ON case_notes (case_id, written_at DESC);

-- Every consent recorded on a case (the current set is on cases).
CREATE TABLE case_consents (
    id              uuid PRIMARY KEY,
    case_id         uuid        NOT NULL REFERENCES cases (id),
    scopes          text[]      NOT NULL,
    wording_version text        NOT NULL,
    obtained_by     text        NOT NULL,
    recorded_by     text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX case_consents_case ON case_consents (case_id, recorded_at);
