-- Users, sign-in throttling and refresh tokens of the identity service.

CREATE TABLE users (
    id uuid PRIMARY KEY,
    -- Lower case, as typed at sign-in after normalisation.
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('operator', 'walk_in_clerk', 'triage_officer',
        'mediator', 'legal_aid_officer', 'lawyer', 'supervisor', 'admin')),
    organisation text NOT NULL CHECK (organisation IN ('union', 'peoples_court',
        'labour_bureau', 'procuratorate', 'justice_bureau', 'law_firm')),
    -- District codes the user works in; a city scope lists every district of the city.
    districts text[] NOT NULL DEFAULT '{}',
    -- Argon2id, PHC string format.
    password_hash text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins by username, whether or not such a user exists: an unknown name locks
-- like a real one, so neither the message nor the lock tells a guesser which names exist.
CREATE TABLE sign_in_throttle (
    username text PRIMARY KEY,
    failed_attempts integer NOT NULL,
    locked_until timestamptz,
    last_failure_at timestamptz NOT NULL
);

-- Refresh tokens: only a SHA-256 of each is kept. Single use: using one marks it used and
-- issues the next of the same family; presenting a used one again revokes the family.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
