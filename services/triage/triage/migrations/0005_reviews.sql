-- What triage officers settled about cases flagged for review (请人工核实), and the review
-- codes they confirmed per clock and due date: the daily sweep does not raise a confirmed
-- code again while the clock's due date stays the same.
-- depends: 0004_redact_override_reasons

CREATE TABLE reviews (
    id                      uuid PRIMARY KEY,
    case_id                 uuid        NOT NULL REFERENCES cases,
    resolution              text        NOT NULL,
    knew_of_infringement_on date,
    note                    text        NOT NULL,
    clocks                  jsonb       NOT NULL,
    actor                   text        NOT NULL,
    resolved_at             timestamptz NOT NULL
);
CREATE INDEX reviews_case ON reviews (case_id, resolved_at);

CREATE TABLE clock_confirmations (
    case_id uuid   NOT NULL REFERENCES cases,
    kind    text   NOT NULL,
    due_on  date,
    codes   text[] NOT NULL,
    PRIMARY KEY (case_id, kind)
);
