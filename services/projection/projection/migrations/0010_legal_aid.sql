-- Legal aid's figures: one row per application (whatever is replayed), the rules that
-- decided it, how it ended, what was awarded and recovered, the worker's satisfaction.
CREATE TABLE legal_aid_summary (
    application_id     uuid PRIMARY KEY,
    application_number text          NOT NULL,
    district_code      text          NOT NULL,
    case_number        text,
    source             text,
    matter             text,
    applied_on         date,
    first_seen_on      date          NOT NULL,
    provisional        boolean       NOT NULL DEFAULT false,
    decision           text,          -- granted | denied
    decision_rules     text[]        NOT NULL DEFAULT '{}',
    decided_on         date,
    lawyer_code        text,
    closed_on          date,
    closure_reason     text,
    aided              boolean       NOT NULL DEFAULT false,  -- granted or provisional aid
    concluded          boolean       NOT NULL DEFAULT false,  -- 办结
    amount_awarded     numeric(14, 2) NOT NULL DEFAULT 0,
    amount_recovered   numeric(14, 2) NOT NULL DEFAULT 0,
    satisfaction       smallint
);
CREATE INDEX legal_aid_summary_by_district ON legal_aid_summary (district_code, applied_on);
