-- Surveys say what they asked about: the mediation or the legal-aid application whose
-- closure issued them (its id and number). A case can have one of each per worker (a
-- mediation that failed, then legal aid), so uniqueness is by case, worker and subject.
-- Every survey before this one was a mediation's (at its closure, or issued by hand).
--
-- wechat_ref: a keyed hash (HMAC-SHA256) of the OpenID the survey's WeChat message went
-- to, set when WeChat accepted it; a worker's reply to the official account is matched by
-- it. The OpenID itself is never stored here.
ALTER TABLE surveys ADD COLUMN about text NOT NULL DEFAULT 'mediation'
    CHECK (about IN ('mediation', 'legal_aid'));
ALTER TABLE surveys ADD COLUMN about_id uuid;
ALTER TABLE surveys ADD COLUMN about_number text;
ALTER TABLE surveys ADD COLUMN wechat_ref bytea;
ALTER TABLE surveys ADD COLUMN answered_by text CHECK (answered_by IN ('link', 'wechat'));
ALTER TABLE surveys DROP CONSTRAINT surveys_case_id_worker_ref_key;
ALTER TABLE surveys ADD CONSTRAINT surveys_case_worker_about_key UNIQUE (case_id, worker_ref, about);
CREATE INDEX surveys_wechat_ref ON surveys (wechat_ref, issued_at) WHERE wechat_ref IS NOT NULL;
