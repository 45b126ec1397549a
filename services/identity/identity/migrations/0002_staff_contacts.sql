-- Staff's work contacts, for notification to tell mediators and lawyers of their cases
-- (assignments, tomorrow's sessions, deadlines at risk). Encrypted with the shared PII key
-- (AES-256-GCM, bound to "users.work_email:<id>" / "users.work_mobile:<id>"): a person's
-- mobile is personal data even when it is a work phone. Read only by notification through
-- GET /api/v1/internal/staff/{subject}/contact, audited per lookup.
ALTER TABLE users ADD COLUMN work_email_enc bytea;
ALTER TABLE users ADD COLUMN work_mobile_enc bytea;
