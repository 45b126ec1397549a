-- What a survey asked about (survey.answered's optional ``about``): 'mediation',
-- 'legal_aid', or NULL for an answer published before the field existed (all of those were
-- mediations' surveys). The survey figure is mediation's; legal aid's answers count in legal
-- aid's own satisfaction figure (legal_aid_summary, fed by legal_aid.satisfaction_recorded),
-- so they are kept here but left out of it.
ALTER TABLE fact_survey ADD COLUMN about text;
