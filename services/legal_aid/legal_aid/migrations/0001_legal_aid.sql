-- Legal aid's own database: what it knows of worker cases, the applications, the panel.

-- Cases as intake and triage announced them (no personal data: workers by keyed hash).
CREATE TABLE cases (
    case_id              uuid PRIMARY KEY,
    case_number          text        NOT NULL,
    district_code        text,
    employer_name        text,
    employer_credit_code text,
    workers              jsonb       NOT NULL DEFAULT '[]',  -- [{worker_ref, is_migrant_worker, …}]
    category             text,
    route                text,
    limitation_due_on    date,
    provisional_signal   boolean     NOT NULL DEFAULT false,
    decision_seq         integer     NOT NULL DEFAULT 0,
    voided               boolean     NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE application_seq;

CREATE TABLE applications (
    application_id        uuid PRIMARY KEY,
    application_number    text        NOT NULL UNIQUE,
    case_id               uuid REFERENCES cases (case_id),
    case_number           text,
    district_code         text        NOT NULL,
    source                text        NOT NULL,  -- triage | mediation | walk_in
    source_event_id       uuid,
    mediation_id          uuid,
    category              text,
    matter                text        NOT NULL,
    worker_refs           text[]      NOT NULL,
    is_migrant_worker     boolean     NOT NULL DEFAULT false,
    employer_name         text,
    employer_credit_code  text,
    household_size        integer,
    household_income      bytea,     -- encrypted (PiiCipher): the household's monthly income
    circumstances         text[]      NOT NULL DEFAULT '{}',
    documents_received    text[]      NOT NULL DEFAULT '{}',
    status                text        NOT NULL,
    -- awaiting_confirmation | received | documents_requested | provisional | granted
    -- | assigned | denied | closed
    provisional           boolean     NOT NULL DEFAULT false,
    limitation_due_on     date,
    received_on           date        NOT NULL,
    decision_due_on       date        NOT NULL,
    documents_requested_on date,
    documents_due_on      date,
    documents_missing     text[],
    decided_on            date,
    decision              jsonb,      -- {outcome, rules, reason_codes, explanation}
    assign_due_on         date,
    lawyer_code           text,
    assigned_on           date,
    amount_awarded        numeric(14, 2) NOT NULL DEFAULT 0,
    amount_recovered      numeric(14, 2) NOT NULL DEFAULT 0,
    clocks                jsonb       NOT NULL DEFAULT '[]',  -- arbitration clocks now running
    satisfaction          smallint CHECK (satisfaction BETWEEN 1 AND 5),
    closure_reason        text,
    closed_on             date,
    created_at            timestamptz NOT NULL DEFAULT now()
);
-- One open application per case, whichever way it came (triage, mediation, replays).
CREATE UNIQUE INDEX applications_one_per_case ON applications (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX applications_queue ON applications (district_code, status);

CREATE TABLE firms (
    firm_code   text PRIMARY KEY,
    name        text NOT NULL
);

CREATE TABLE lawyers (
    lawyer_code  text PRIMARY KEY,
    name         text    NOT NULL,
    kind         text    NOT NULL CHECK (kind IN ('union_adviser', 'contracted_firm')),
    firm_code    text REFERENCES firms (firm_code),
    districts    text[]  NOT NULL,
    specialties  text[]  NOT NULL,
    capacity     integer NOT NULL CHECK (capacity >= 0),
    subject      text UNIQUE,   -- the signed-in account (identity's subject) of the lawyer
    active       boolean NOT NULL DEFAULT true
);

-- Employers a lawyer or a firm acted for (unified social credit code): conflict of interest.
CREATE TABLE acted_for (
    party_kind   text NOT NULL CHECK (party_kind IN ('lawyer', 'firm')),
    party_code   text NOT NULL,
    credit_code  text NOT NULL,
    PRIMARY KEY (party_kind, party_code, credit_code)
);

CREATE TABLE assignments (
    id              bigserial PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (application_id),
    lawyer_code     text NOT NULL REFERENCES lawyers (lawyer_code),
    assigned_at     timestamptz NOT NULL DEFAULT now(),
    declined_at     timestamptz,
    decline_reason  text,
    skipped         text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX assignments_application ON assignments (application_id, id);

CREATE TABLE steps (
    application_id  uuid NOT NULL REFERENCES applications (application_id),
    step_no         integer NOT NULL,
    step            text NOT NULL,
    occurred_on     date NOT NULL,
    documents       jsonb NOT NULL DEFAULT '[]',
    amount_awarded  numeric(14, 2),
    award_final     boolean,
    explanation     jsonb NOT NULL DEFAULT '[]',
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, step_no)
);
