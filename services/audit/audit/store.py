"""The audit store: set-wise inserts, searches, and monthly partitions (created ahead,
dropped whole when past retention)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from audit.domain import PARTITION_PREFIX, AuditFilters, Partition, expired_partitions
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import AuditRecorded

_COLUMNS = (
    "record_id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_role",
    "service",
    "action",
    "outcome",
    "case_id",
    "case_number",
    "district_code",
    "reason",
    "detail",
    "event_id",
    "correlation_id",
)
_TYPES = (
    "uuid",
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "uuid",
    "text",
    "text",
    "text",
    "text",
    "uuid",
    "uuid",
)
_INSERT = (
    f"INSERT INTO audit_records ({', '.join(_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'${i}::{t}[]' for i, t in enumerate(_TYPES, 1))}) "
    "ON CONFLICT DO NOTHING"
)


def _row(envelope: Envelope, record: AuditRecorded) -> tuple[Any, ...]:
    actor = envelope.acted_by()
    return (
        record.record_id,
        record.occurred_at,
        actor.kind,
        actor.id,
        actor.role,
        record.service,
        record.action,
        record.outcome,
        record.case_id,
        record.case_number,
        record.district_code,
        record.reason,
        record.detail,
        envelope.event_id,
        envelope.correlation_id,
    )


async def add_partitions(conn: asyncpg.Connection, partitions: Sequence[Partition]) -> int:
    """Create the partitions that do not exist yet; returns how many were made."""
    made = 0
    for partition in partitions:
        if await conn.fetchval(
            "SELECT audit_add_partition($1, $2, $3)",
            partition.name,
            partition.starts,
            partition.ends,
        ):
            made += 1
    return made


async def insert_records(
    conn: asyncpg.Connection, records: Sequence[tuple[Envelope, AuditRecorded]]
) -> int:
    """Store records in one statement (a record already stored is skipped); returns how
    many rows were new. Their months' partitions must exist."""
    rows = [_row(envelope, record) for envelope, record in records]
    columns = [list(column) for column in zip(*rows, strict=True)]
    status = await conn.execute(_INSERT, *columns)
    return int(status.rsplit(" ", 1)[-1])


async def partition_names(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'audit_records'::regclass ORDER BY c.relname"
    )
    return [row["relname"] for row in rows]


async def drop_expired_partitions(conn: asyncpg.Connection, cutoff: datetime) -> list[str]:
    """Drop every month whose records all occurred before ``cutoff``. No row is deleted:
    the month's table goes as a whole (the append-only triggers guard rows, not tables)."""
    dropped = expired_partitions(await partition_names(conn), cutoff)
    for name in dropped:
        assert name.startswith(PARTITION_PREFIX)  # names come from domain.expired_partitions
        await conn.execute(f'DROP TABLE "{name}"')
    return dropped


async def search(conn: asyncpg.Connection | asyncpg.Pool, filters: AuditFilters) -> list[Any]:
    """Records matching every filter given, newest first, one more than a page (to tell
    whether another page follows)."""
    conditions: list[str] = []
    args: list[Any] = []

    def where(condition: str, *values: Any) -> None:
        placeholders = [f"${len(args) + i}" for i in range(1, len(values) + 1)]
        conditions.append(condition.format(*placeholders))
        args.extend(values)

    for column, value in (
        ("actor_id", filters.actor),
        ("actor_role", filters.role),
        ("action", filters.action),
        ("case_number", filters.case_number),
        ("district_code", filters.district),
        ("outcome", filters.outcome),
    ):
        if value is not None:
            where(f"{column} = {{}}", value)
    if filters.since is not None:
        where("occurred_at >= {}", filters.since)
    if filters.until is not None:
        where("occurred_at < {}", filters.until)
    if filters.cursor is not None:
        where(
            "(occurred_at, record_id) < ({}, {})",
            filters.cursor.occurred_at,
            filters.cursor.record_id,
        )
    sql = "SELECT * FROM audit_records"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += f" ORDER BY occurred_at DESC, record_id DESC LIMIT {filters.limit + 1:d}"
    return await conn.fetch(sql, *args)
