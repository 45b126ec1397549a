-- Idempotency keys with a body: a keyed hash of each submission's content beside its
-- channel reference. The same reference with the same hash is a retry (the earlier answer);
-- with another hash it is a conflict (409). Rows from before have none and keep replaying.
-- depends: 0002_channels

ALTER TABLE cases ADD COLUMN request_hash text;
ALTER TABLE consultations ADD COLUMN request_hash text;
