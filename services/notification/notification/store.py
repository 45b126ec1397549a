"""Notification's store: cases known from case.reported, decisions waiting for their case,
and the outbox toward people (``messages``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from notification.rules import PlannedMessage

_INSERT_MESSAGES = """
INSERT INTO messages (id, event_id, event_type, case_id, case_number, district_code, rule_id,
    recipient_kind, recipient_ref, worker_position, channel, template_id, variables,
    quiet_hours)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::jsonb[],
    $14::bool[])
ON CONFLICT (event_id, recipient_ref, template_id) DO NOTHING
"""


async def remember_cases(conn: asyncpg.Connection, cases: Sequence[tuple[Any, ...]]) -> None:
    """(case_id, case_number, district_code, channel, worker_refs, reported_at) rows."""
    # One row at a time: a text[] per case cannot ride in an unnest of arrays (asyncpg
    # reads nested lists as a two-dimensional array).
    await conn.executemany(
        "INSERT INTO cases (case_id, case_number, district_code, channel, worker_refs, "
        "reported_at) VALUES ($1, $2, $3, $4, $5::text[], $6) ON CONFLICT (case_id) DO NOTHING",
        [(*case[:4], list(case[4]), case[5]) for case in cases],
    )


async def known_cases(
    conn: asyncpg.Connection, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM cases WHERE case_id = ANY($1::uuid[])", list(case_ids))
    return {row["case_id"]: row for row in rows}


async def wait_for_case(
    conn: asyncpg.Connection, events: Sequence[tuple[uuid.UUID, str, uuid.UUID, Any]]
) -> None:
    """(event_id, event_type, case_id, payload) of decisions whose case is unknown."""
    if events:
        columns = [list(c) for c in zip(*events, strict=True)]
        await conn.execute(
            "INSERT INTO waiting_events (event_id, event_type, case_id, payload) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[]) "
            "ON CONFLICT DO NOTHING",
            *columns,
        )


async def take_waiting(conn: asyncpg.Connection, case_ids: Sequence[uuid.UUID]) -> list[Any]:
    return list(
        await conn.fetch(
            "DELETE FROM waiting_events WHERE case_id = ANY($1::uuid[]) "
            "RETURNING event_id, event_type, case_id, payload",
            list(case_ids),
        )
    )


async def insert_messages(
    conn: asyncpg.Connection,
    planned: Sequence[tuple[uuid.UUID, str, asyncpg.Record, PlannedMessage]],
) -> int:
    """(event_id, event_type, case row, planned message); a message already recorded for
    the same (event, recipient, template) is skipped. Returns how many rows are new."""
    if not planned:
        return 0
    rows = [
        (
            m.id,
            event_id,
            event_type,
            case["case_id"],
            case["case_number"],
            case["district_code"],
            m.rule.id,
            m.recipient.kind,
            m.recipient.ref,
            m.recipient.position,
            m.rule.channel,
            m.rule.template,
            m.variables,
            m.rule.quiet_hours,
        )
        for event_id, event_type, case, m in planned
    ]
    status = await conn.execute(_INSERT_MESSAGES, *[list(c) for c in zip(*rows, strict=True)])
    return int(status.rsplit(" ", 1)[-1])


async def deliveries(
    conn: asyncpg.Connection | asyncpg.Pool, case_number: str
) -> tuple[str | None, list[Any]]:
    """A case's district (None: unknown case) and its messages, oldest first."""
    district = await conn.fetchval(
        "SELECT district_code FROM cases WHERE case_number = $1", case_number
    )
    rows = await conn.fetch(
        "SELECT * FROM messages WHERE case_number = $1 ORDER BY created_at, template_id",
        case_number,
    )
    return district, list(rows)


async def remember_employer_contacts(
    conn: asyncpg.Connection, contacts: Sequence[tuple[uuid.UUID, list[str], Any]]
) -> None:
    """(case_id, channels, recorded_at): the latest recording of each case wins (a replayed
    or late older one changes nothing)."""
    await conn.executemany(
        "INSERT INTO employer_contacts (case_id, channels, recorded_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (case_id) DO UPDATE SET channels = excluded.channels, "
        "recorded_at = excluded.recorded_at "
        "WHERE employer_contacts.recorded_at < excluded.recorded_at",
        [(case_id, list(channels), at) for case_id, channels, at in contacts],
    )


async def employer_channels(
    conn: asyncpg.Connection, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    rows = await conn.fetch(
        "SELECT case_id, channels FROM employer_contacts WHERE case_id = ANY($1::uuid[])",
        list(case_ids),
    )
    return {row["case_id"]: list(row["channels"]) for row in rows}
