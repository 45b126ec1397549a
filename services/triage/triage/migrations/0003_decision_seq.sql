-- Each decision's number within its case (1 = the first), published as case.retriaged's
-- decision_seq: two decisions of one case may bear the same time, their numbers never do.
-- The unique index also refuses a decision computed from a stale current one (an override
-- and a group upgrade of one case at once): that transaction fails and is retried.
-- depends: 0002_groups_employers_clocks
ALTER TABLE decisions ADD COLUMN seq integer;
UPDATE decisions d SET seq = numbered.seq
FROM (SELECT id, row_number() OVER (PARTITION BY case_id ORDER BY id) AS seq
      FROM decisions) AS numbered
WHERE d.id = numbered.id;
ALTER TABLE decisions ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX decisions_case_seq ON decisions (case_id, seq);
DROP INDEX decisions_case;
