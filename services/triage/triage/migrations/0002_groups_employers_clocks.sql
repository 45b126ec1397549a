-- Cases, employers, group disputes and statutory clocks; decisions gain route detail,
-- clocks, group, actor and the previous decision (kind: initial | group | override).
-- depends: 0001_decisions
ALTER TABLE decisions
    ADD COLUMN route_detail     text,
    ADD COLUMN clocks           jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN group_id         uuid,
    ADD COLUMN employer_flagged boolean NOT NULL DEFAULT false,
    ADD COLUMN actor            text    NOT NULL DEFAULT 'triage',
    ADD COLUMN note             text,
    ADD COLUMN previous         jsonb;

-- One row per employer; its row lock serialises the cases of one employer, so a group
-- dispute forms exactly once even when two of its cases are handled at the same time.
CREATE TABLE employers (
    employer_key  text PRIMARY KEY,   -- uscc:<code> or name:<normalised name>|<district>
    employer_id   uuid        NOT NULL UNIQUE,
    name          text        NOT NULL,
    credit_code   text,
    district_code text        NOT NULL,
    flagged_on    date,               -- last repeat-employer flag (report date that raised it)
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
    group_id     uuid PRIMARY KEY,
    group_number text        NOT NULL UNIQUE,
    employer_key text        NOT NULL REFERENCES employers,
    category     text        NOT NULL,
    worker_count integer     NOT NULL,
    case_count   integer     NOT NULL,
    formed_at    timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
    case_id      uuid PRIMARY KEY,
    case_number  text    NOT NULL UNIQUE,
    employer_key text    NOT NULL REFERENCES employers,
    category     text    NOT NULL,
    worker_refs  text[]  NOT NULL,
    reported_on  date    NOT NULL,
    group_id     uuid    REFERENCES groups,
    facts        jsonb   NOT NULL   -- what a later decision needs (redacted summary, dates)
);
CREATE INDEX cases_employer ON cases (employer_key, reported_on);
CREATE INDEX cases_group ON cases (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE employer_flags (
    id           bigserial PRIMARY KEY,
    employer_key text        NOT NULL REFERENCES employers,
    flagged_on   date        NOT NULL,
    case_ids     uuid[]      NOT NULL,
    flagged_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (employer_key, flagged_on)
);

-- The current statutory clocks of each case; the daily sweep recomputes the open ones.
CREATE TABLE clocks (
    case_id           uuid    NOT NULL REFERENCES cases,
    kind              text    NOT NULL,
    clock             jsonb   NOT NULL,
    due_on            date,
    at_risk_announced boolean NOT NULL DEFAULT false,
    PRIMARY KEY (case_id, kind)
);
CREATE INDEX clocks_open ON clocks (due_on) WHERE due_on IS NOT NULL;

CREATE TABLE clock_sweeps (
    evaluated_on  date PRIMARY KEY,
    cases_updated integer     NOT NULL,
    swept_at      timestamptz NOT NULL DEFAULT now()
);
