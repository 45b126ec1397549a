-- Read models v2: every event is stored as facts (append-only, keyed by event id), and the
-- case rows, deadlines and figures are *derived* from the facts by one definition
-- (case_derived, case_contribution, refresh_cases, rebuild_derived). Because a case row is
-- always recomputed from all of its facts, the order in which the facts arrive cannot change
-- it: a triage decision before its report, a retriage before the first triage, a group link
-- before the case, all end in the same row. "Newest" always means newest by the event's own
-- time (decided_at, as_of), ties broken by event id, never by arrival.
--
-- The old case_summary cannot be carried over (it holds no facts), so this migration asks
-- for a rebuild from the topics: `python -m projection` runs it before it starts consuming.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE projection_state (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO projection_state (key, value) VALUES ('rebuild_required', 'migration 0003');

-- ---------------------------------------------------------------- facts, one table per kind
CREATE TABLE fact_report (
    event_id              uuid PRIMARY KEY,
    case_id               uuid           NOT NULL,
    occurred_at           timestamptz    NOT NULL,
    case_number           text           NOT NULL,
    channel               text           NOT NULL,
    district_code         text           NOT NULL,
    employer_name         text           NOT NULL,
    employer_credit_code  text,
    industry              text,
    worker_count          integer        NOT NULL,
    platform_worker_count integer        NOT NULL,
    migrant_worker_count  integer        NOT NULL,
    claim_amount          numeric(14, 2),
    reported_at           timestamptz    NOT NULL
);
CREATE INDEX fact_report_case ON fact_report (case_id, occurred_at DESC, event_id DESC);

-- case.triaged and case.retriaged: each a decision; the newest by decided_at is current.
CREATE TABLE fact_decision (
    event_id             uuid PRIMARY KEY,
    case_id              uuid        NOT NULL,
    case_number          text        NOT NULL,
    decided_at           timestamptz NOT NULL,
    by_officer           boolean     NOT NULL,
    category             text        NOT NULL,
    secondary_categories text[]      NOT NULL,
    urgency              text        NOT NULL,
    route                text        NOT NULL,
    route_detail         text,
    employer_flagged     boolean     NOT NULL
);
CREATE INDEX fact_decision_case ON fact_decision (case_id, decided_at DESC, event_id DESC);

-- Statutory clocks as computed at as_of (case.triaged, case.deadlines_updated).
CREATE TABLE fact_clocks (
    event_id uuid PRIMARY KEY,
    case_id  uuid        NOT NULL,
    as_of    timestamptz NOT NULL,
    clocks   jsonb       NOT NULL
);
CREATE INDEX fact_clocks_case ON fact_clocks (case_id, as_of DESC, event_id DESC);

-- A case's link to a group dispute (case.grouped, or group_id on a decision).
CREATE TABLE fact_group_member (
    event_id  uuid        NOT NULL,
    case_id   uuid        NOT NULL,
    group_id  uuid        NOT NULL,
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, case_id)
);
CREATE INDEX fact_group_member_case ON fact_group_member (case_id, linked_at DESC, group_id);

CREATE TABLE fact_group (
    event_id      uuid PRIMARY KEY,
    group_id      uuid        NOT NULL,
    group_number  text        NOT NULL,
    employer_name text        NOT NULL,
    district_code text        NOT NULL,
    category      text        NOT NULL,
    worker_count  integer     NOT NULL,
    case_count    integer     NOT NULL,
    formed_at     timestamptz NOT NULL
);
CREATE INDEX fact_group_group ON fact_group (group_id, formed_at DESC, event_id DESC);

-- employer.flagged: a repeat employer referred for labour-law supervision.
CREATE TABLE fact_employer_flag (
    event_id             uuid PRIMARY KEY,
    employer_id          uuid        NOT NULL,
    employer_name        text        NOT NULL,
    employer_credit_code text,
    district_code        text        NOT NULL,
    industry             text,
    case_count           integer     NOT NULL,
    window_days          integer     NOT NULL,
    case_ids             uuid[]      NOT NULL,
    reason               text        NOT NULL,
    flagged_at           timestamptz NOT NULL,
    flagged_day          date        NOT NULL
);
CREATE INDEX fact_employer_flag_day ON fact_employer_flag (flagged_day, district_code);

CREATE TABLE fact_flagged_case (
    event_id uuid NOT NULL,
    case_id  uuid NOT NULL,
    PRIMARY KEY (event_id, case_id)
);
CREATE INDEX fact_flagged_case_case ON fact_flagged_case (case_id);

-- consultation.recorded: answered on the spot, no case opened.
CREATE TABLE fact_consultation (
    event_id        uuid PRIMARY KEY,
    consultation_id uuid        NOT NULL UNIQUE,
    channel         text        NOT NULL,
    district_code   text        NOT NULL,
    topic           text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    day             date        NOT NULL
);
CREATE INDEX fact_consultation_day ON fact_consultation (day, district_code);

-- A group or employer event appears in the timeline of every case it names.
ALTER TABLE case_timeline DROP CONSTRAINT case_timeline_pkey;
ALTER TABLE case_timeline ADD PRIMARY KEY (event_id, case_id);

-- ---------------------------------------------------------------- derived read models
DROP TABLE case_summary;
CREATE TABLE case_summary (
    case_id               uuid PRIMARY KEY,
    case_number           text,
    channel               text,
    district_code         text,
    employer_name         text,
    employer_credit_code  text,
    industry              text,
    worker_count          integer,
    platform_worker_count integer,
    migrant_worker_count  integer,
    claim_amount          numeric(14, 2),
    reported_at           timestamptz,
    report_day            date,
    category              text,
    secondary_categories  text[],
    urgency               text,
    route                 text,
    route_detail          text,
    decided_at            timestamptz,
    decision_count        integer NOT NULL,
    overridden            boolean NOT NULL,
    group_id              uuid,
    group_number          text,
    repeat_employer       boolean NOT NULL,
    clocks                jsonb,
    clocks_as_of          timestamptz,
    is_platform           boolean NOT NULL,
    status                text    NOT NULL
);
CREATE INDEX case_summary_day ON case_summary (report_day, district_code);
CREATE INDEX case_summary_reported ON case_summary (reported_at DESC, case_id);
CREATE INDEX case_summary_number ON case_summary (case_number text_pattern_ops);
CREATE INDEX case_summary_group ON case_summary (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX case_summary_employer ON case_summary USING gin (employer_name gin_trgm_ops);

-- Each statutory clock of a case that has a due date (from the case's newest clocks).
CREATE TABLE case_deadline (
    case_id      uuid NOT NULL,
    kind         text NOT NULL,
    due_on       date NOT NULL,
    at_risk_from date,
    note         text NOT NULL,
    PRIMARY KEY (case_id, kind)
);
CREATE INDEX case_deadline_due ON case_deadline (due_on);

-- Figures per local day and district: n cases (or consultations) and their workers for each
-- (dimension, key), e.g. (channel, hotline). Kept exact by refresh_cases (subtract a case's
-- old contribution, add its new one); rebuild_derived recomputes it from scratch.
CREATE TABLE case_rollup (
    day           date   NOT NULL,
    district_code text   NOT NULL,
    dim           text   NOT NULL,
    key           text   NOT NULL,
    n             bigint NOT NULL,
    workers       bigint NOT NULL,
    PRIMARY KEY (day, district_code, dim, key)
);

CREATE VIEW case_derived AS
SELECT ids.case_id,
       coalesce(r.case_number, d.case_number) AS case_number,
       r.channel, r.district_code, r.employer_name, r.employer_credit_code, r.industry,
       r.worker_count, r.platform_worker_count, r.migrant_worker_count, r.claim_amount,
       r.reported_at,
       (r.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS report_day,
       d.category, d.secondary_categories, d.urgency, d.route, d.route_detail, d.decided_at,
       dc.decision_count,
       dc.overridden,
       g.group_id,
       grp.group_number,
       (dc.flagged OR EXISTS (SELECT 1 FROM fact_flagged_case f WHERE f.case_id = ids.case_id))
           AS repeat_employer,
       c.clocks,
       c.as_of AS clocks_as_of,
       (coalesce(r.platform_worker_count, 0) > 0
           OR coalesce(d.category = 'platform_work', false)
           OR coalesce('platform_work' = ANY (d.secondary_categories), false)) AS is_platform,
       coalesce(d.route, 'awaiting_triage') AS status
FROM (SELECT case_id FROM fact_report
      UNION SELECT case_id FROM fact_decision
      UNION SELECT case_id FROM fact_clocks
      UNION SELECT case_id FROM fact_group_member) AS ids
LEFT JOIN LATERAL (
    SELECT * FROM fact_report x WHERE x.case_id = ids.case_id
    ORDER BY x.occurred_at DESC, x.event_id DESC LIMIT 1) r ON true
LEFT JOIN LATERAL (
    SELECT * FROM fact_decision x WHERE x.case_id = ids.case_id
    ORDER BY x.decided_at DESC, x.event_id DESC LIMIT 1) d ON true
CROSS JOIN LATERAL (
    SELECT count(*)::integer AS decision_count,
           coalesce(bool_or(x.by_officer), false) AS overridden,
           coalesce(bool_or(x.employer_flagged), false) AS flagged
    FROM fact_decision x WHERE x.case_id = ids.case_id) dc
LEFT JOIN LATERAL (
    SELECT x.group_id FROM fact_group_member x WHERE x.case_id = ids.case_id
    ORDER BY x.linked_at DESC, x.group_id LIMIT 1) g ON true
LEFT JOIN LATERAL (
    SELECT x.group_number FROM fact_group x WHERE x.group_id = g.group_id
    ORDER BY x.formed_at DESC, x.event_id DESC LIMIT 1) grp ON true
LEFT JOIN LATERAL (
    SELECT x.clocks, x.as_of FROM fact_clocks x WHERE x.case_id = ids.case_id
    ORDER BY x.as_of DESC, x.event_id DESC LIMIT 1) c ON true;

-- The same rows as case_derived, for every case at once: one sorted pass per fact table
-- instead of an index probe per case and table (a rebuild derives 10⁵–10⁶ cases). Kept
-- equal to case_derived column by column; the rebuild test compares a live-built read
-- model with a rebuilt one over every kind of fact.
CREATE VIEW case_derived_all AS
WITH r AS (
    SELECT DISTINCT ON (case_id) * FROM fact_report
    ORDER BY case_id, occurred_at DESC, event_id DESC),
d AS (
    SELECT DISTINCT ON (case_id) * FROM fact_decision
    ORDER BY case_id, decided_at DESC, event_id DESC),
dc AS (
    SELECT case_id, count(*)::integer AS decision_count,
           coalesce(bool_or(by_officer), false) AS overridden,
           coalesce(bool_or(employer_flagged), false) AS flagged
    FROM fact_decision GROUP BY case_id),
g AS (
    SELECT DISTINCT ON (case_id) case_id, group_id FROM fact_group_member
    ORDER BY case_id, linked_at DESC, group_id),
grp AS (
    SELECT DISTINCT ON (group_id) group_id, group_number FROM fact_group
    ORDER BY group_id, formed_at DESC, event_id DESC),
c AS (
    SELECT DISTINCT ON (case_id) case_id, clocks, as_of FROM fact_clocks
    ORDER BY case_id, as_of DESC, event_id DESC),
f AS (SELECT DISTINCT case_id FROM fact_flagged_case),
ids AS (
    SELECT case_id FROM fact_report
    UNION SELECT case_id FROM fact_decision
    UNION SELECT case_id FROM fact_clocks
    UNION SELECT case_id FROM fact_group_member)
SELECT ids.case_id,
       coalesce(r.case_number, d.case_number) AS case_number,
       r.channel, r.district_code, r.employer_name, r.employer_credit_code, r.industry,
       r.worker_count, r.platform_worker_count, r.migrant_worker_count, r.claim_amount,
       r.reported_at,
       (r.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS report_day,
       d.category, d.secondary_categories, d.urgency, d.route, d.route_detail, d.decided_at,
       coalesce(dc.decision_count, 0) AS decision_count,
       coalesce(dc.overridden, false) AS overridden,
       g.group_id,
       grp.group_number,
       (coalesce(dc.flagged, false) OR f.case_id IS NOT NULL) AS repeat_employer,
       c.clocks,
       c.as_of AS clocks_as_of,
       (coalesce(r.platform_worker_count, 0) > 0
           OR coalesce(d.category = 'platform_work', false)
           OR coalesce('platform_work' = ANY (d.secondary_categories), false)) AS is_platform,
       coalesce(d.route, 'awaiting_triage') AS status
FROM ids
LEFT JOIN r ON r.case_id = ids.case_id
LEFT JOIN d ON d.case_id = ids.case_id
LEFT JOIN dc ON dc.case_id = ids.case_id
LEFT JOIN g ON g.case_id = ids.case_id
LEFT JOIN grp ON grp.group_id = g.group_id
LEFT JOIN c ON c.case_id = ids.case_id
LEFT JOIN f ON f.case_id = ids.case_id;

-- What one case adds to the figures; a case counts once its report has arrived.
CREATE VIEW case_contribution AS
SELECT s.case_id, s.report_day AS day, s.district_code, k.dim, k.key,
       s.worker_count AS workers
FROM case_summary s
CROSS JOIN LATERAL (VALUES
    ('total', 'all'),
    ('channel', s.channel),
    ('category', coalesce(s.category, 'untriaged')),
    ('industry', coalesce(s.industry, 'unknown')),
    ('status', s.status),
    ('urgency', s.urgency),
    ('platform', CASE WHEN s.is_platform THEN 'yes' END),
    ('group', CASE WHEN s.group_id IS NOT NULL THEN 'yes' END),
    ('repeat_employer', CASE WHEN s.repeat_employer THEN 'yes' END)
) AS k(dim, key)
WHERE s.reported_at IS NOT NULL AND k.key IS NOT NULL;

-- One row per clock kind (the earliest due date should a kind ever appear twice).
CREATE VIEW case_deadline_derived AS
SELECT DISTINCT ON (s.case_id, c.kind)
       s.case_id, c.kind, c.due_on, c.at_risk_from, coalesce(c.note, '') AS note
FROM case_summary s
CROSS JOIN LATERAL jsonb_to_recordset(coalesce(s.clocks, '[]'::jsonb))
    AS c(kind text, due_on date, at_risk_from date, note text)
WHERE c.due_on IS NOT NULL
ORDER BY s.case_id, c.kind, c.due_on, c.at_risk_from, note;

-- Re-derive the rows of `ids` from their facts, keeping case_rollup exact.
CREATE FUNCTION refresh_cases(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Two transactions refreshing one case would each subtract the same old contribution.
    PERFORM pg_advisory_xact_lock(hashtextextended(id::text, 0))
    FROM unnest(ids) AS id ORDER BY id;

    INSERT INTO case_rollup AS r (day, district_code, dim, key, n, workers)
    SELECT day, district_code, dim, key, -count(*), -coalesce(sum(workers), 0)
    FROM case_contribution WHERE case_id = ANY (ids) GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, district_code, dim, key)
    DO UPDATE SET n = r.n + excluded.n, workers = r.workers + excluded.workers;

    INSERT INTO case_summary SELECT * FROM case_derived WHERE case_id = ANY (ids)
    ON CONFLICT (case_id) DO UPDATE SET
        (case_number, channel, district_code, employer_name, employer_credit_code, industry,
         worker_count, platform_worker_count, migrant_worker_count, claim_amount, reported_at,
         report_day, category, secondary_categories, urgency, route, route_detail,
         decided_at, decision_count, overridden, group_id, group_number, repeat_employer,
         clocks, clocks_as_of, is_platform, status)
      = (excluded.case_number, excluded.channel, excluded.district_code,
         excluded.employer_name, excluded.employer_credit_code, excluded.industry,
         excluded.worker_count, excluded.platform_worker_count,
         excluded.migrant_worker_count, excluded.claim_amount, excluded.reported_at,
         excluded.report_day, excluded.category, excluded.secondary_categories,
         excluded.urgency, excluded.route, excluded.route_detail, excluded.decided_at,
         excluded.decision_count, excluded.overridden, excluded.group_id,
         excluded.group_number, excluded.repeat_employer, excluded.clocks,
         excluded.clocks_as_of, excluded.is_platform, excluded.status);

    DELETE FROM case_deadline WHERE case_id = ANY (ids);
    INSERT INTO case_deadline SELECT * FROM case_deadline_derived WHERE case_id = ANY (ids);

    INSERT INTO case_rollup AS r (day, district_code, dim, key, n, workers)
    SELECT day, district_code, dim, key, count(*), coalesce(sum(workers), 0)
    FROM case_contribution WHERE case_id = ANY (ids) GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, district_code, dim, key)
    DO UPDATE SET n = r.n + excluded.n, workers = r.workers + excluded.workers;
END
$$;

-- Derive every read model from the facts at once (the end of a rebuild).
CREATE FUNCTION rebuild_derived() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE case_summary, case_deadline, case_rollup;
    INSERT INTO case_summary SELECT * FROM case_derived_all;
    INSERT INTO case_deadline SELECT * FROM case_deadline_derived;
    INSERT INTO case_rollup (day, district_code, dim, key, n, workers)
    SELECT day, district_code, dim, key, count(*), coalesce(sum(workers), 0)
    FROM case_contribution GROUP BY 1, 2, 3, 4;
    INSERT INTO case_rollup (day, district_code, dim, key, n, workers)
    SELECT day, district_code, 'consultation', channel, count(*), 0
    FROM fact_consultation GROUP BY 1, 2, 4;
END
$$;
