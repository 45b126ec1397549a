-- A case's current decision is its highest-numbered one, not its newest by time: triage
-- stamps a case's first decision and its group upgrade in one batch with the same time, and
-- breaking that tie by event id left some grouped cases on their first decision for good.
--
-- fact_decision.decision_seq: 1 for case.triaged (a case's first decision, whatever the
-- version), case.retriaged's decision_seq since its v2, NULL for a v1 case.retriaged.
-- Order, newest first: numbered re-decisions by number (they all come after the v1 ones,
-- which triage published before it numbered decisions); then v1 re-decisions by time and
-- event id, as before; then the first decision, which every re-decision follows.
--
-- fact_employer_flag.employer_key: the employer by credit code, else by normalised name
-- (weiquan_shared.employers), so one company flagged in five districts counts once.
--
-- Both columns are filled from the events, so this migration asks for a rebuild.
ALTER TABLE fact_decision ADD COLUMN decision_seq integer;
ALTER TABLE fact_employer_flag ADD COLUMN employer_key text;

DROP INDEX fact_decision_case;
CREATE INDEX fact_decision_case ON fact_decision
    (case_id, ((decision_seq > 1) IS TRUE) DESC, decision_seq DESC NULLS FIRST,
     decided_at DESC, event_id DESC);
CREATE INDEX fact_employer_flag_employer ON fact_employer_flag (employer_key);

INSERT INTO projection_state (key, value) VALUES ('rebuild_required', 'migration 0004')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

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
    ORDER BY x.as_of DESC, x.event_id DESC LIMIT 1) c ON true;

-- The same rows as case_derived, for every case at once: one sorted pass per fact table
-- instead of an index probe per case and table (a rebuild derives 10⁵–10⁶ cases). Kept
-- equal to case_derived column by column; the rebuild test compares a live-built read
-- model with a rebuilt one over every kind of fact.
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

