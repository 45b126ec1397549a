-- By which channels a case's employer can be reached (intake's
-- case.employer_contact_recorded: 'mobile', 'email'), never the contact itself: the
-- employer's rules apply only where intake holds a contact for their channel, and the
-- union's reminder letter goes to the latest of an employer's cases that has an email.
-- Kept apart from cases: the event may come before the case's case.reported.
CREATE TABLE employer_contacts (
    case_id     uuid PRIMARY KEY,
    channels    text[]      NOT NULL,
    recorded_at timestamptz NOT NULL
);
