-- Mediation's and legal aid's part of a case page (projection.handling): whether each
-- mediation or legal-aid application still handles the case (0 open, 1 closed, 2 gone: the
-- case left it), and the lines their events add to the case's timeline. Keyed by case
-- number, which every mediation and legal-aid event names. Filled from the topics by a
-- rebuild (the flag below), then by the live consumer.
CREATE TABLE case_handling (
    case_number text     NOT NULL,
    handler_id  uuid     NOT NULL,  -- the mediation or the legal-aid application
    kind        text     NOT NULL CHECK (kind IN ('mediation', 'legal_aid')),
    state       smallint NOT NULL CHECK (state IN (0, 1, 2)),
    PRIMARY KEY (case_number, handler_id)
);
CREATE TABLE case_handling_line (
    event_id    uuid        NOT NULL,
    case_number text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    text        text        NOT NULL,
    PRIMARY KEY (event_id, case_number)
);
CREATE INDEX case_handling_line_case ON case_handling_line (case_number, occurred_at);
INSERT INTO projection_state (key, value) VALUES ('rebuild_required', 'migration 0014')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
