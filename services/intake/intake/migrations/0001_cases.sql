-- Intake's own store. Personal data only as AES-GCM ciphertext (*_enc) and keyed hashes (*_index).
CREATE TABLE case_number_counters (
    district_code text    NOT NULL,
    year          integer NOT NULL,
    last_value    integer NOT NULL,
    PRIMARY KEY (district_code, year)
);

CREATE TABLE cases (
    id                      uuid PRIMARY KEY,
    case_number             text        NOT NULL UNIQUE,
    channel                 text        NOT NULL,
    channel_ref             text        NOT NULL,
    district_code           text        NOT NULL,
    employer_name           text        NOT NULL,
    employer_credit_code    text,
    employer_industry       text,
    description_enc         bytea       NOT NULL,
    claim_amount            numeric(14, 2),
    knew_of_infringement_on date,
    employment_ended_on     date,
    reported_at             timestamptz NOT NULL,
    operator_id             text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    -- A client retrying the same call, message or desk entry gets the same case.
    UNIQUE (channel, channel_ref)
);

CREATE TABLE case_workers (
    id              uuid PRIMARY KEY,
    case_id         uuid    NOT NULL REFERENCES cases (id),
    position        integer NOT NULL,
    name_enc        bytea   NOT NULL,
    mobile_enc      bytea   NOT NULL,
    mobile_index    text    NOT NULL,
    id_number_enc   bytea,
    id_number_index text,
    is_migrant_worker  boolean NOT NULL,
    is_platform_worker boolean NOT NULL,
    UNIQUE (case_id, position)
);
CREATE INDEX case_workers_mobile_index ON case_workers (mobile_index);
CREATE INDEX case_workers_id_number_index ON case_workers (id_number_index);
