-- Walk-in and WeChat channels, consent, consultations and the WeChat conversations.
-- depends: 0001_cases

ALTER TABLE cases
    ADD COLUMN demands_enc             bytea,
    ADD COLUMN employer_address        text,
    ADD COLUMN centre                  text,
    ADD COLUMN consent_wording_version text,
    ADD COLUMN consent_given_at        timestamptz,
    -- Keyed hash of the WeChat OpenID a case came from: 「查询」 answers only its own cases.
    ADD COLUMN wechat_openid_index     text,
    ADD COLUMN status                  text NOT NULL DEFAULT 'accepted';
CREATE INDEX cases_wechat_openid_index ON cases (wechat_openid_index)
    WHERE wechat_openid_index IS NOT NULL;

ALTER TABLE case_workers
    ADD COLUMN household_type text,
    ADD COLUMN occupation     text;

-- Questions answered on the spot; text stored with mobiles and ID numbers removed.
CREATE TABLE consultations (
    id            uuid PRIMARY KEY,
    channel       text        NOT NULL,
    channel_ref   text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    operator_id   text        NOT NULL,
    district_code text        NOT NULL,
    topic         text        NOT NULL,
    question      text        NOT NULL,
    answer        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, channel_ref)
);

-- One conversation per OpenID (keyed hash); answers are AES-GCM ciphertext of a JSON object.
CREATE TABLE wechat_conversations (
    openid_index text PRIMARY KEY,
    step         text        NOT NULL,
    answers_enc  bytea,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every message received, by WeChat's MsgId: a redelivered message gets the same reply.
CREATE TABLE wechat_messages (
    msg_id       text PRIMARY KEY,
    openid_index text        NOT NULL,
    reply        text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
