-- Satisfaction (issue 15): each survey.answered as a fact keyed by its event id (a replay
-- or a redelivery inserts nothing); the figures count distinct surveys, so the same answer
-- republished under another event id still counts once. Read at query time (no rollup):
-- the rate by district and period is a GROUP BY over a small table.
CREATE TABLE fact_survey (
    event_id      uuid PRIMARY KEY,
    survey_id     uuid        NOT NULL,
    case_id       uuid        NOT NULL,
    case_number   text        NOT NULL,
    district_code text        NOT NULL,
    score         integer     NOT NULL CHECK (score BETWEEN 1 AND 5),
    answered_at   timestamptz NOT NULL,
    day           date        NOT NULL  -- the answer's local day (the period it counts in)
);
CREATE INDEX fact_survey_day ON fact_survey (day, district_code);
CREATE INDEX fact_survey_case ON fact_survey (case_id);
