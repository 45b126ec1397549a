-- A mediation event names several cases: one of them may arrive before its case.reported
-- while the others are known, so an event waits once per case.
ALTER TABLE waiting_events DROP CONSTRAINT waiting_events_pkey;
ALTER TABLE waiting_events ADD PRIMARY KEY (event_id, case_id);
