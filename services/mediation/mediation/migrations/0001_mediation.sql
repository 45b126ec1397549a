-- Mediation's own database: the cases routed to it, the mediations (one per dispute),
-- assignment, rooms, mediators' calendars and sessions, clocks and their extensions.
-- Outcomes (agreements, confirmation, payment orders, instalments) come in migrations
-- numbered from 0100.

-- btree_gist lets one exclusion constraint combine equality on a room or a mediator with
-- overlap of time ranges. It is a trusted extension (PostgreSQL 13+), so the database's
-- owner, the service's own role, may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- What mediation knows of each case it heard of: facts from case.reported, the current
-- triage decision, the worker's consent scopes, voiding; and which mediation holds it.
CREATE TABLE cases (
    case_id             uuid PRIMARY KEY,
    case_number         text,
    district_code       text,
    employer            jsonb,                 -- EmployerRef: a company, not a person
    workers             jsonb,                 -- [WorkerRef]: worker_ref and flags only
    claim_amount        numeric(14, 2),
    reported_at         timestamptz,
    category            text,
    urgency             text,
    route               text,
    route_detail        text,
    group_id            uuid,
    employer_flagged    boolean     NOT NULL DEFAULT false,
    decision_seq        integer     NOT NULL DEFAULT 0,   -- 0: no decision heard yet
    decided_at          timestamptz,
    consent_scopes      text[]      NOT NULL DEFAULT '{}',
    consent_recorded_at timestamptz,
    voided_at           timestamptz,
    mediation_id        uuid,                  -- the mediation holding it now
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_by_mediation ON cases (mediation_id) WHERE mediation_id IS NOT NULL;
CREATE INDEX cases_by_group ON cases (group_id) WHERE group_id IS NOT NULL;

-- Triage's group disputes, as case.grouped last described them.
CREATE TABLE dispute_groups (
    group_id     uuid PRIMARY KEY,
    group_number text        NOT NULL,
    case_ids     uuid[]      NOT NULL,
    worker_count integer     NOT NULL,
    formed_at    timestamptz NOT NULL
);

-- Mediation numbers: TJ-<district>-<year>-<000001>, counted per district and year.
CREATE TABLE mediation_counters (
    district_code text    NOT NULL,
    year          integer NOT NULL,
    last_number   integer NOT NULL,
    PRIMARY KEY (district_code, year)
);

CREATE TABLE mediations (
    mediation_id       uuid PRIMARY KEY,
    mediation_number   text        NOT NULL UNIQUE,
    district_code      text        NOT NULL,
    category           text        NOT NULL,
    route_detail       text        NOT NULL,
    group_id           uuid,
    employer           jsonb       NOT NULL,
    sensitive          boolean     NOT NULL DEFAULT false,
    status             text        NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'accepted', 'agreed', 'failed', 'withdrawn',
                          'expired', 'closed')),
    received_on        date        NOT NULL,
    accepted_on        date,
    extended_days      integer     NOT NULL DEFAULT 0 CHECK (extended_days >= 0),
    clocks             jsonb       NOT NULL,  -- [MediationClock] as last computed
    lead_mediator_id   text,
    lead_mediator_name text,
    lead_organisation  text,
    organisations      text[]      NOT NULL DEFAULT '{}',
    five_party         boolean     NOT NULL DEFAULT false,
    assignment_rules   text[]      NOT NULL DEFAULT '{}',
    assigned_by        text,                  -- rules | coordinator
    opened_at          timestamptz NOT NULL DEFAULT now(),
    closed_at          timestamptz,
    closed_result      text,
    merged_into        uuid REFERENCES mediations (mediation_id),
    CHECK ((closed_at IS NULL) = (closed_result IS NULL))
);
-- A group dispute has one open mediation, whatever order its events arrive in.
CREATE UNIQUE INDEX mediations_one_per_group ON mediations (group_id)
    WHERE group_id IS NOT NULL AND closed_at IS NULL;
CREATE INDEX mediations_open ON mediations (district_code, opened_at) WHERE closed_at IS NULL;
CREATE INDEX mediations_by_lead ON mediations (lead_mediator_id) WHERE closed_at IS NULL;

-- Who changed an assignment, from what to what: coordinators' changes, with the actor.
CREATE TABLE assignment_changes (
    change_id          uuid PRIMARY KEY,
    mediation_id       uuid        NOT NULL REFERENCES mediations (mediation_id),
    actor_id           text        NOT NULL,
    actor_role         text,
    previous_lead_id   text,
    lead_mediator_id   text        NOT NULL,
    previous_orgs      text[]      NOT NULL,
    organisations      text[]      NOT NULL,
    reason             text        NOT NULL,
    changed_at         timestamptz NOT NULL DEFAULT now()
);

-- Extensions of the regulation's clock, each with both parties' recorded consent.
CREATE TABLE clock_extensions (
    extension_id          uuid PRIMARY KEY,
    mediation_id          uuid        NOT NULL REFERENCES mediations (mediation_id),
    days                  integer     NOT NULL CHECK (days > 0),
    workers_consented_on  date        NOT NULL,
    employer_consented_on date        NOT NULL,
    recorded_by           text        NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT now()
);

-- A clock's expiry is announced once per clock and due date.
CREATE TABLE clock_expiries (
    mediation_id uuid        NOT NULL REFERENCES mediations (mediation_id),
    clock_kind   text        NOT NULL,
    due_on       date        NOT NULL,
    announced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mediation_id, clock_kind, due_on)
);

-- The mediators mediation assigns and books: staff, named by their subject at identity.
CREATE TABLE mediators (
    subject        text PRIMARY KEY,
    name           text        NOT NULL,
    organisation   text        NOT NULL,
    districts      text[]      NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rooms (
    room_id       uuid PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    kind          text        NOT NULL CHECK (kind IN ('court_union_room', 'union_room', 'video')),
    district_code text        NOT NULL,
    location      text        NOT NULL,   -- the service centre's address, or the video link's name
    capacity      integer     NOT NULL CHECK (capacity > 0),
    active        boolean     NOT NULL DEFAULT true
);

-- Sessions. A booked session holds its room for its time range: the database refuses a
-- second booking of an overlapping range in the same room (a cancelled session holds
-- nothing).
CREATE TABLE sessions (
    session_id              uuid PRIMARY KEY,
    mediation_id            uuid        NOT NULL REFERENCES mediations (mediation_id),
    room_id                 uuid        NOT NULL REFERENCES rooms (room_id),
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    during                  tstzrange   GENERATED ALWAYS AS (tstzrange(starts_at, ends_at, '[)')) STORED,
    status                  text        NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'held', 'no_show', 'adjourned', 'cancelled')),
    workers                 text[]      NOT NULL,   -- worker_refs called
    representatives_elected boolean     NOT NULL,
    employer_representative boolean     NOT NULL,
    mediator_ids            text[]      NOT NULL,
    organisations           text[]      NOT NULL,
    attended_workers        text[],
    attended_employer       boolean,
    attended_mediators      text[],
    no_show                 text,
    record_enc              bytea,       -- the session record (笔录 summary), encrypted
    next_session_id         uuid,
    booked_by               text        NOT NULL,
    booked_at               timestamptz NOT NULL DEFAULT now(),
    recorded_by             text,
    recorded_at             timestamptz,
    moves                   integer     NOT NULL DEFAULT 0,
    CHECK (ends_at > starts_at),
    CONSTRAINT sessions_no_double_booked_room
        EXCLUDE USING gist (room_id WITH =, during WITH &&) WHERE (status <> 'cancelled')
);
CREATE INDEX sessions_by_mediation ON sessions (mediation_id, starts_at);
CREATE INDEX sessions_by_time ON sessions USING gist (during);

-- Mediators' calendars: a session's time for each of its mediators, and times a mediator
-- is away. The database refuses one mediator in two places at once.
CREATE TABLE mediator_bookings (
    booking_id   uuid PRIMARY KEY,
    mediator_id  text        NOT NULL REFERENCES mediators (subject),
    during       tstzrange   NOT NULL,
    session_id   uuid REFERENCES sessions (session_id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('session', 'away')),
    note         text,                    -- for 'away': 外出培训, 休假 (no personal data)
    CHECK ((kind = 'session') = (session_id IS NOT NULL)),
    UNIQUE (session_id, mediator_id),
    CONSTRAINT mediator_bookings_no_double_booked_mediator
        EXCLUDE USING gist (mediator_id WITH =, during WITH &&)
);
CREATE INDEX mediator_bookings_by_session ON mediator_bookings (session_id);

-- Session history: each booking, move, record, with who did it (the audit trail has the
-- same through events; this is the service's own view for the session page).
CREATE TABLE session_history (
    id          bigserial PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES sessions (session_id),
    action      text        NOT NULL,   -- scheduled | moved | held | no_show | adjourned
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    room_id     uuid        NOT NULL,
    reason      text,
    actor_id    text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_history_by_session ON session_history (session_id, id);
