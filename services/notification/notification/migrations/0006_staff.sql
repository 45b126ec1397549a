-- What notification needs to tell mediators and lawyers (issue 15): who leads each
-- mediation and which cases it holds, who is the lawyer of a case, and the sessions to
-- remind their mediators of the day before. Only identity's subjects: the addresses are
-- asked of identity at send time, never kept here. Each event type has its own topic, so
-- events of one mediation arrive in any order: every row keeps the time of what it says
-- (the event's own time) and an older event never overwrites a newer one.
CREATE TABLE mediations (
    mediation_id     uuid PRIMARY KEY,
    mediation_number text        NOT NULL,
    district_code    text        NOT NULL,
    case_ids         uuid[]      NOT NULL,
    case_numbers     text[]      NOT NULL,
    cases_told_at    timestamptz NOT NULL,      -- assigned_at / changed_at / closed_at
    lead_mediator_id text,                      -- from mediation.assigned
    lead_told_at     timestamptz,               -- its assigned_at
    closed           boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mediations_by_case ON mediations USING gin (case_ids);

-- The lawyer assigned to a case's legal aid (legal_aid.lawyer_assigned; the last wins).
CREATE TABLE case_lawyers (
    case_id            uuid PRIMARY KEY,
    case_number        text        NOT NULL,
    application_number text        NOT NULL,
    district_code      text        NOT NULL,
    lawyer_subject     text        NOT NULL,
    assigned_at        timestamptz NOT NULL
);

-- Sessions as mediation last told them (scheduled, moved, cancelled): the daily task
-- reminds each mediator of a session starting tomorrow, once per session, start and
-- mediator; a cancelled session stays cancelled whatever arrives later.
CREATE TABLE sessions (
    session_id       uuid PRIMARY KEY,
    mediation_id     uuid        NOT NULL,
    mediation_number text        NOT NULL,
    district_code    text        NOT NULL,
    case_ids         uuid[]      NOT NULL,
    case_numbers     text[]      NOT NULL,
    starts_at        timestamptz NOT NULL,
    room_name        text        NOT NULL,
    mediator_ids     text[]      NOT NULL,
    told_at          timestamptz NOT NULL,      -- scheduled_at / moved_at / cancelled_at
    cancelled        boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_start ON sessions (starts_at) WHERE NOT cancelled;
