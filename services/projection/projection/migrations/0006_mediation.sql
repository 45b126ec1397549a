-- Mediation's figures: one row per mediation (a dispute, however many cases and workers it
-- holds) and one per paid instalment (money actually recovered, counted once per instalment
-- whatever is replayed). A mediation merged into its group's counts nowhere.
CREATE TABLE mediation_summary (
    mediation_id     uuid PRIMARY KEY,
    mediation_number text          NOT NULL,
    district_code    text          NOT NULL,
    case_ids         uuid[]        NOT NULL DEFAULT '{}',
    case_numbers     text[]        NOT NULL DEFAULT '{}',
    worker_count     integer       NOT NULL DEFAULT 0,
    route_detail     text,
    opened_on        date,
    agreed_on        date,
    partial          boolean       NOT NULL DEFAULT false,
    amount_agreed    numeric(14, 2) NOT NULL DEFAULT 0,
    result           text,          -- agreement | fulfilled | failed | withdrawn | expired | ...
    resolved_on      date,          -- agreement's effect, failure, withdrawal or expiry
    closed_on        date,
    merged           boolean       NOT NULL DEFAULT false,
    first_seen_on    date          NOT NULL
);
CREATE INDEX mediation_summary_by_district ON mediation_summary (district_code, opened_on);

CREATE TABLE mediation_payment (
    instalment_id uuid PRIMARY KEY,
    mediation_id  uuid          NOT NULL,
    amount        numeric(14, 2) NOT NULL,
    paid_on       date          NOT NULL
);
CREATE INDEX mediation_payment_by_mediation ON mediation_payment (mediation_id);
