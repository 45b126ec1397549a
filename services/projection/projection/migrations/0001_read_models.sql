-- Read models, rebuilt from events only. A case row may be created by whichever of its
-- events arrives first (topics are not ordered with each other); figures count a case only
-- once its case.reported has arrived.
CREATE TABLE case_summary (
    case_id       uuid PRIMARY KEY,
    case_number   text        NOT NULL,
    channel       text,
    district_code text,
    employer_name text,
    worker_count  integer,
    claim_amount  numeric(14, 2),
    reported_at   timestamptz,
    category      text,
    urgency       text,
    route         text,
    triaged_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_summary_reported ON case_summary (reported_at);
CREATE INDEX case_summary_district ON case_summary (district_code, reported_at);

CREATE TABLE case_timeline (
    event_id    uuid PRIMARY KEY,
    case_id     uuid        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    text        text        NOT NULL
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, occurred_at);
