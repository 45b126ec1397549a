"""Notification's store: cases known from case.reported, decisions waiting for their case,
and the outbox toward people (``messages``)."""

from __future__ import annotations

import json
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
    if not cases:
        return
    columns = [list(c) for c in zip(*cases, strict=True)]
    await conn.execute(
        "INSERT INTO cases (case_id, case_number, district_code, channel, worker_refs, "
        "reported_at) SELECT c.id, c.num, c.district, c.channel, "
        "ARRAY(SELECT jsonb_array_elements_text(c.refs)), c.at "
        "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], "
        "$6::timestamptz[]) AS c(id, num, district, channel, refs, at) "
        "ON CONFLICT (case_id) DO NOTHING",
        columns[0],
        columns[1],
        columns[2],
        columns[3],
        [json.dumps(list(refs)) for refs in columns[4]],
        columns[5],
    )


async def known_cases(
    conn: asyncpg.Connection, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch("SELECT * FROM cases WHERE case_id = ANY($1::uuid[])", list(case_ids))
    return {row["case_id"]: row for row in rows}


async def wait_for_case(
    conn: asyncpg.Connection, events: Sequence[tuple[uuid.UUID, str, uuid.UUID, str]]
) -> None:
    """(event_id, event_type, case_id, payload JSON) of decisions whose case is unknown."""
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
            json.dumps(m.variables, ensure_ascii=False),
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
