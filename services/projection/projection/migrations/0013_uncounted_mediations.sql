-- A mediation that ended without being a dispute the union mediated counts in no figure:
-- merged into its group's mediation, voided (its cases registered in error), or handed on
-- (its cases retriaged to another route, which counts them). Was `merged` alone.
ALTER TABLE mediation_summary RENAME COLUMN merged TO uncounted;
UPDATE mediation_summary SET uncounted = true WHERE result IN ('voided', 'handed_on');
