-- The case file (issue 16): intake's case events (responsible person, contacts, consent,
-- voiding; notes only in the timeline) and triage's review resolution become facts, and a
-- case row carries what the case page and the work queues read:
--
-- - the person responsible (承办人), newest case.assigned by its time;
-- - the worker's current consent to share (newest case.consent_recorded: the whole set);
-- - voided (any case.voided): a voided case leaves every figure (case_contribution), every
--   list behind one (store.Filters) and every queue, but keeps its page and timeline;
-- - the next action date of the newest contact;
-- - the reasons of the current decision (urgency with its reasons on the case page);
-- - review_open: a clock of the case's newest clocks (case.triaged, case.deadlines_updated,
--   case.review_resolved, by their time) still carries a review code.
--
-- The new facts come from topics projection did not read before: a rebuild fills them.
ALTER TABLE fact_decision ADD COLUMN reasons text[];

CREATE TABLE fact_assignment (
    event_id             uuid PRIMARY KEY,
    case_id              uuid        NOT NULL,
    assignee_id          text,
    assignee_name        text,
    previous_assignee_id text,
    reason               text,
    assigned_at          timestamptz NOT NULL
);
CREATE INDEX fact_assignment_case ON fact_assignment (case_id, assigned_at DESC, event_id DESC);

CREATE TABLE fact_consent (
    event_id        uuid PRIMARY KEY,
    case_id         uuid        NOT NULL,
    scopes          text[]      NOT NULL,
    wording_version text        NOT NULL,
    obtained_by     text        NOT NULL,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX fact_consent_case ON fact_consent (case_id, recorded_at DESC, event_id DESC);

CREATE TABLE fact_void (
    event_id     uuid PRIMARY KEY,
    case_id      uuid        NOT NULL,
    reason       text        NOT NULL,
    duplicate_of text,
    voided_at    timestamptz NOT NULL
);
CREATE INDEX fact_void_case ON fact_void (case_id, voided_at DESC, event_id DESC);

CREATE TABLE fact_contact (
    event_id       uuid PRIMARY KEY,
    case_id        uuid        NOT NULL,
    contact_id     uuid        NOT NULL,
    method         text        NOT NULL,
    outcome        text        NOT NULL,
    next_action_on date,
    author_name    text        NOT NULL,
    contacted_at   timestamptz NOT NULL
);
CREATE INDEX fact_contact_case ON fact_contact (case_id, contacted_at DESC, event_id DESC);

ALTER TABLE case_summary
    ADD COLUMN reasons             text[],
    ADD COLUMN assignee_id         text,
    ADD COLUMN assignee_name       text,
    ADD COLUMN assigned_at         timestamptz,
    ADD COLUMN consent_scopes      text[],
    ADD COLUMN consent_wording     text,
    ADD COLUMN consent_obtained_by text,
    ADD COLUMN consent_at          timestamptz,
    ADD COLUMN voided              boolean NOT NULL DEFAULT false,
    ADD COLUMN voided_at           timestamptz,
    ADD COLUMN void_reason         text,
    ADD COLUMN duplicate_of        text,
    ADD COLUMN next_action_on      date,
    ADD COLUMN review_open         boolean NOT NULL DEFAULT false;
CREATE INDEX case_summary_assignee ON case_summary (assignee_id) WHERE NOT voided;
CREATE INDEX case_summary_review ON case_summary (district_code) WHERE review_open AND NOT voided;
CREATE INDEX case_summary_unassigned ON case_summary (district_code)
    WHERE assignee_id IS NULL AND NOT voided;

INSERT INTO projection_state (key, value) VALUES ('rebuild_required', 'migration 0005')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- Any clock of a case's clocks still waiting for a person.
CREATE FUNCTION clocks_need_review(clocks jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bool_or(jsonb_array_length(coalesce(c -> 'review', '[]'::jsonb)) > 0), false)
    FROM jsonb_array_elements(coalesce(clocks, '[]'::jsonb)) AS c
$$;

CREATE OR REPLACE VIEW case_derived AS
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
       coalesce(d.route, 'awaiting_triage') AS status,
       d.reasons,
       a.assignee_id, a.assignee_name, a.assigned_at,
       cs.scopes AS consent_scopes, cs.wording_version AS consent_wording,
       cs.obtained_by AS consent_obtained_by, cs.recorded_at AS consent_at,
       (v.case_id IS NOT NULL) AS voided, v.voided_at, v.reason AS void_reason, v.duplicate_of,
       ct.next_action_on,
       clocks_need_review(c.clocks) AS review_open
FROM (SELECT case_id FROM fact_report
      UNION SELECT case_id FROM fact_decision
      UNION SELECT case_id FROM fact_clocks
      UNION SELECT case_id FROM fact_group_member
      UNION SELECT case_id FROM fact_assignment
      UNION SELECT case_id FROM fact_consent
      UNION SELECT case_id FROM fact_void
      UNION SELECT case_id FROM fact_contact) AS ids
LEFT JOIN LATERAL (
    SELECT * FROM fact_report x WHERE x.case_id = ids.case_id
    ORDER BY x.occurred_at DESC, x.event_id DESC LIMIT 1) r ON true
LEFT JOIN LATERAL (
    SELECT * FROM fact_decision x WHERE x.case_id = ids.case_id
    ORDER BY (x.decision_seq > 1) IS TRUE DESC, x.decision_seq DESC NULLS FIRST,
             x.decided_at DESC, x.event_id DESC
    LIMIT 1) d ON true
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
    ORDER BY x.as_of DESC, x.event_id DESC LIMIT 1) c ON true
LEFT JOIN LATERAL (
    SELECT * FROM fact_assignment x WHERE x.case_id = ids.case_id
    ORDER BY x.assigned_at DESC, x.event_id DESC LIMIT 1) a ON true
LEFT JOIN LATERAL (
    SELECT * FROM fact_consent x WHERE x.case_id = ids.case_id
    ORDER BY x.recorded_at DESC, x.event_id DESC LIMIT 1) cs ON true
LEFT JOIN LATERAL (
    SELECT * FROM fact_void x WHERE x.case_id = ids.case_id
    ORDER BY x.voided_at, x.event_id LIMIT 1) v ON true
LEFT JOIN LATERAL (
    SELECT x.next_action_on FROM fact_contact x WHERE x.case_id = ids.case_id
    ORDER BY x.contacted_at DESC, x.event_id DESC LIMIT 1) ct ON true;

CREATE OR REPLACE VIEW case_derived_all AS
WITH r AS (
    SELECT DISTINCT ON (case_id) * FROM fact_report
    ORDER BY case_id, occurred_at DESC, event_id DESC),
d AS (
    SELECT DISTINCT ON (case_id) * FROM fact_decision
    ORDER BY case_id, (decision_seq > 1) IS TRUE DESC, decision_seq DESC NULLS FIRST,
             decided_at DESC, event_id DESC),
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
a AS (
    SELECT DISTINCT ON (case_id) * FROM fact_assignment
    ORDER BY case_id, assigned_at DESC, event_id DESC),
cs AS (
    SELECT DISTINCT ON (case_id) * FROM fact_consent
    ORDER BY case_id, recorded_at DESC, event_id DESC),
v AS (
    SELECT DISTINCT ON (case_id) * FROM fact_void
    ORDER BY case_id, voided_at, event_id),
ct AS (
    SELECT DISTINCT ON (case_id) case_id, next_action_on FROM fact_contact
    ORDER BY case_id, contacted_at DESC, event_id DESC),
ids AS (
    SELECT case_id FROM fact_report
    UNION SELECT case_id FROM fact_decision
    UNION SELECT case_id FROM fact_clocks
    UNION SELECT case_id FROM fact_group_member
    UNION SELECT case_id FROM fact_assignment
    UNION SELECT case_id FROM fact_consent
    UNION SELECT case_id FROM fact_void
    UNION SELECT case_id FROM fact_contact)
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
       coalesce(d.route, 'awaiting_triage') AS status,
       d.reasons,
       a.assignee_id, a.assignee_name, a.assigned_at,
       cs.scopes AS consent_scopes, cs.wording_version AS consent_wording,
       cs.obtained_by AS consent_obtained_by, cs.recorded_at AS consent_at,
       (v.case_id IS NOT NULL) AS voided, v.voided_at, v.reason AS void_reason, v.duplicate_of,
       ct.next_action_on,
       clocks_need_review(c.clocks) AS review_open
FROM ids
LEFT JOIN r ON r.case_id = ids.case_id
LEFT JOIN d ON d.case_id = ids.case_id
LEFT JOIN dc ON dc.case_id = ids.case_id
LEFT JOIN g ON g.case_id = ids.case_id
LEFT JOIN grp ON grp.group_id = g.group_id
LEFT JOIN c ON c.case_id = ids.case_id
LEFT JOIN f ON f.case_id = ids.case_id
LEFT JOIN a ON a.case_id = ids.case_id
LEFT JOIN cs ON cs.case_id = ids.case_id
LEFT JOIN v ON v.case_id = ids.case_id
LEFT JOIN ct ON ct.case_id = ids.case_id;

-- A voided case adds nothing to any figure.
CREATE OR REPLACE VIEW case_contribution AS
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
WHERE s.reported_at IS NOT NULL AND NOT s.voided AND k.key IS NOT NULL;

CREATE OR REPLACE FUNCTION refresh_cases(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
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
         clocks, clocks_as_of, is_platform, status,
         reasons, assignee_id, assignee_name, assigned_at, consent_scopes, consent_wording,
         consent_obtained_by, consent_at, voided, voided_at, void_reason, duplicate_of,
         next_action_on, review_open)
      = (excluded.case_number, excluded.channel, excluded.district_code,
         excluded.employer_name, excluded.employer_credit_code, excluded.industry,
         excluded.worker_count, excluded.platform_worker_count,
         excluded.migrant_worker_count, excluded.claim_amount, excluded.reported_at,
         excluded.report_day, excluded.category, excluded.secondary_categories,
         excluded.urgency, excluded.route, excluded.route_detail, excluded.decided_at,
         excluded.decision_count, excluded.overridden, excluded.group_id,
         excluded.group_number, excluded.repeat_employer, excluded.clocks,
         excluded.clocks_as_of, excluded.is_platform, excluded.status,
         excluded.reasons, excluded.assignee_id, excluded.assignee_name,
         excluded.assigned_at, excluded.consent_scopes, excluded.consent_wording,
         excluded.consent_obtained_by, excluded.consent_at, excluded.voided,
         excluded.voided_at, excluded.void_reason, excluded.duplicate_of,
         excluded.next_action_on, excluded.review_open);

    DELETE FROM case_deadline WHERE case_id = ANY (ids);
    INSERT INTO case_deadline SELECT * FROM case_deadline_derived WHERE case_id = ANY (ids);

    INSERT INTO case_rollup AS r (day, district_code, dim, key, n, workers)
    SELECT day, district_code, dim, key, count(*), coalesce(sum(workers), 0)
    FROM case_contribution WHERE case_id = ANY (ids) GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, district_code, dim, key)
    DO UPDATE SET n = r.n + excluded.n, workers = r.workers + excluded.workers;
END
$$;
