-- The WeChat OpenID a case came from, encrypted (AES-GCM bound to the case), so the
-- notification service can answer the worker on WeChat: it asks intake for it at send
-- time with its own credentials (audited), and it never travels on Kafka.
ALTER TABLE cases ADD COLUMN wechat_openid_enc bytea;
