-- The employer's contact person (联系人: name, mobile, email) of a case, as one AES-GCM
-- ciphertext bound to the case (cases.employer_contact:<id>); notification asks for it at
-- send time (a session's invitation, the union's reminder letter). Never on Kafka.
ALTER TABLE cases ADD COLUMN employer_contact_enc bytea;
ALTER TABLE cases ADD COLUMN employer_contact_at timestamptz;
