-- Each person's searches by mobile in the current window: the rate limit every instance
-- of intake shares (rows older than the window are deleted as the person searches again).
CREATE TABLE mobile_searches (
    subject     text        NOT NULL,
    searched_at timestamptz NOT NULL
);
CREATE INDEX mobile_searches_subject ON mobile_searches (subject, searched_at);
