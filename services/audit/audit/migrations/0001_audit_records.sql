-- The audit trail: one row per audit.recorded event, never changed or removed by a
-- statement. Partitioned by month (China time) so retention drops whole months (DROP
-- TABLE of an expired partition) and no row is ever deleted.
CREATE TABLE audit_records (
    record_id      uuid        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    actor_kind     text        NOT NULL,  -- user | system | public
    actor_id       text        NOT NULL,  -- the user's subject, the service, the channel
    actor_role     text,
    service        text        NOT NULL,
    action         text        NOT NULL,
    outcome        text        NOT NULL,
    case_id        uuid,
    case_number    text,
    district_code  text,
    reason         text,
    detail         text,
    event_id       uuid        NOT NULL,
    correlation_id uuid        NOT NULL,
    PRIMARY KEY (record_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX audit_records_newest ON audit_records (occurred_at DESC, record_id DESC);
CREATE INDEX audit_records_by_actor ON audit_records (actor_id, occurred_at DESC);
CREATE INDEX audit_records_by_case ON audit_records (case_number, occurred_at DESC);
CREATE INDEX audit_records_by_action ON audit_records (action, occurred_at DESC);

-- The guard: any UPDATE, DELETE or TRUNCATE of audit records raises, whoever runs it
-- (the owner included, even after granting itself the privileges revoked below).
CREATE FUNCTION audit_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'Old records leave only when retention drops a whole month''s partition.';
END
$$;

-- Row level: cloned onto every partition, including one attached by hand.
CREATE TRIGGER audit_records_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_refuse_change();
-- Statement level: also refuses a statement that matches no row, and TRUNCATE.
CREATE TRIGGER audit_records_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM PUBLIC, CURRENT_USER;

-- A month's partition, with the same statement-level guard and revoked privileges (a
-- statement naming a partition checks the partition's, not the parent's). Idempotent.
CREATE FUNCTION audit_add_partition(partition_name text, starts timestamptz, ends timestamptz)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass(quote_ident(partition_name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF audit_records FOR VALUES FROM (%L) TO (%L)',
        partition_name, starts, ends);
    EXECUTE format(
        'CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %I '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse_change()', partition_name);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM PUBLIC, CURRENT_USER',
        partition_name);
    RETURN true;
END
$$;
