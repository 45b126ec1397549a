-- Outcomes of a mediation: the agreement (per worker and item, paid in instalments), its
-- document (调解协议书, encrypted), judicial confirmation, payment orders, payments, and the
-- failures and withdrawals that end a mediation without one.

-- One agreement per mediation. Items name workers by worker_ref only; the document, which
-- carries their names and ID numbers, is encrypted (PiiCipher, bound to the agreement).
CREATE TABLE agreements (
    agreement_id          uuid PRIMARY KEY,
    mediation_id          uuid          NOT NULL UNIQUE REFERENCES mediations (mediation_id),
    partial               boolean       NOT NULL,
    items                 jsonb         NOT NULL,   -- [{worker_ref, item, amount, label}]
    total_amount          numeric(14, 2) NOT NULL CHECK (total_amount >= 0),
    effective_on          date          NOT NULL,
    invited_court         text,                     -- the court that invited the mediation
    recorded_by           text          NOT NULL,
    recorded_at           timestamptz   NOT NULL DEFAULT now(),
    document_enc          bytea,                    -- the PDF, encrypted
    document_sha256       text,
    document_generated_by text,
    document_generated_at timestamptz,
    CHECK ((document_enc IS NULL) = (document_generated_at IS NULL))
);

CREATE TABLE instalments (
    instalment_id     uuid PRIMARY KEY,
    agreement_id      uuid          NOT NULL REFERENCES agreements (agreement_id),
    number            integer       NOT NULL CHECK (number >= 1),
    due_on            date          NOT NULL,
    amount            numeric(14, 2) NOT NULL CHECK (amount > 0),
    paid_amount       numeric(14, 2) CHECK (paid_amount > 0 AND paid_amount <= amount),
    paid_on           date,
    evidence          text CHECK (evidence IN ('bank_transfer', 'cash_receipt', 'court_execution', 'other')),
    paid_recorded_by  text,
    paid_recorded_at  timestamptz,
    -- mediation.instalment_overdue is raised once per instalment: the day it was.
    overdue_raised_on date,
    UNIQUE (agreement_id, number),
    CHECK ((paid_amount IS NULL) = (paid_on IS NULL) AND (paid_on IS NULL) = (evidence IS NULL))
);
-- What the overdue check scans: unpaid or short instalments not yet announced.
CREATE INDEX instalments_to_check ON instalments (due_on)
    WHERE overdue_raised_on IS NULL AND (paid_amount IS NULL OR paid_amount < amount);

CREATE TABLE confirmations (
    agreement_id   uuid PRIMARY KEY REFERENCES agreements (agreement_id),
    court_name     text        NOT NULL,
    court_basis    text        NOT NULL
        CHECK (court_basis IN ('invited', 'party_domicile', 'subject_matter', 'organisation_seat')),
    intermediate   boolean     NOT NULL DEFAULT false,
    applied_on     date        NOT NULL,
    window_due_on  date        NOT NULL,
    requested_by   text        NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    ruling         text CHECK (ruling IN ('confirmed', 'rejected', 'withdrawn')),
    ruling_number  text,
    decided_on     date,
    decided_by     text,
    CHECK ((ruling IS NULL) = (decided_on IS NULL))
);

CREATE TABLE payment_orders (
    payment_order_id     uuid PRIMARY KEY,
    agreement_id         uuid          NOT NULL UNIQUE REFERENCES agreements (agreement_id),
    court_name           text          NOT NULL,
    items                text[]        NOT NULL,
    amount               numeric(14, 2) NOT NULL CHECK (amount > 0),
    applied_on           date          NOT NULL,
    acceptance_notice_by date          NOT NULL,
    order_by             date          NOT NULL,
    applied_by           text          NOT NULL,
    recorded_at          timestamptz   NOT NULL DEFAULT now()
);

-- How a mediation ended without an agreement (or part of its workers withdrew).
CREATE TABLE outcome_records (
    record_id    uuid PRIMARY KEY,
    mediation_id uuid        NOT NULL REFERENCES mediations (mediation_id),
    kind         text        NOT NULL CHECK (kind IN ('failed', 'withdrawn')),
    reason       text        NOT NULL,
    next_steps   text[]      NOT NULL DEFAULT '{}',
    withdrawn_by text,
    worker_refs  text[]      NOT NULL DEFAULT '{}',
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outcome_records_by_mediation ON outcome_records (mediation_id);
