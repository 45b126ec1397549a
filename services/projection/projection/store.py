"""Projection's read models: writes from handlers, queries for the dashboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from projection import labels
from weiquan_shared.envelope import Envelope


async def add_to_timeline(conn: asyncpg.Connection, envelope: Envelope, text: str) -> None:
    await conn.execute(
        """INSERT INTO case_timeline (event_id, case_id, event_type, occurred_at, text)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING""",
        envelope.event_id,
        uuid.UUID(envelope.subject),
        envelope.event_type,
        envelope.occurred_at,
        text,
    )


@dataclass(frozen=True)
class Filters:
    district_code: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses = ["reported_at IS NOT NULL"]
        args: list[Any] = []
        for column, op, value in (
            ("district_code", "=", self.district_code),
            ("reported_at", ">=", self.reported_from),
            ("reported_at", "<", self.reported_to),
        ):
            if value is not None:
                args.append(value)
                clauses.append(f"{column} {op} ${len(args)}")
        return " AND ".join(clauses), args


def _breakdown(rows: list[asyncpg.Record], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"code": r["code"], "name": names.get(r["code"], r["code"] or "待分流"), "cases": r["n"]}
        for r in rows
    ]


async def dashboard(pool: asyncpg.Pool, filters: Filters) -> dict[str, Any]:
    where, args = filters.where()
    async with pool.acquire() as conn:
        totals = await conn.fetchrow(
            f"""SELECT count(*) AS cases, coalesce(sum(worker_count), 0) AS workers,
                       count(*) FILTER (WHERE triaged_at IS NULL) AS awaiting_triage,
                       count(*) FILTER (WHERE worker_count >= 10) AS group_disputes
                FROM case_summary WHERE {where}""",
            *args,
        )

        async def by(column: str) -> list[asyncpg.Record]:
            return await conn.fetch(
                f"SELECT {column} AS code, count(*) AS n FROM case_summary WHERE {where} "
                f"GROUP BY {column} ORDER BY n DESC, code",
                *args,
            )

        return {
            "totals": dict(totals),
            "by_channel": _breakdown(await by("channel"), labels.CHANNELS),
            "by_category": _breakdown(await by("category"), labels.CATEGORIES),
            "by_urgency": _breakdown(await by("urgency"), labels.URGENCIES),
            "by_route": _breakdown(await by("route"), labels.ROUTES),
            "by_district": _breakdown(await by("district_code"), labels.DISTRICTS),
        }


async def list_cases(pool: asyncpg.Pool, filters: Filters, limit: int) -> list[dict[str, Any]]:
    where, args = filters.where()
    rows = await pool.fetch(
        f"""SELECT case_number, channel, district_code, employer_name, worker_count,
                   claim_amount, reported_at, category, urgency, route
            FROM case_summary WHERE {where} ORDER BY reported_at DESC LIMIT {int(limit)}""",
        *args,
    )
    return [
        {
            **dict(r),
            "channel_name": labels.CHANNELS.get(r["channel"], r["channel"]),
            "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "category_name": labels.CATEGORIES.get(r["category"], "待分流"),
            "urgency_name": labels.URGENCIES.get(r["urgency"], "待分流"),
        }
        for r in rows
    ]


async def timeline(pool: asyncpg.Pool, case_number: str) -> list[dict[str, Any]] | None:
    case_id = await pool.fetchval(
        "SELECT case_id FROM case_summary WHERE case_number = $1", case_number
    )
    if case_id is None:
        return None
    rows = await pool.fetch(
        "SELECT event_type, occurred_at, text FROM case_timeline WHERE case_id = $1 "
        "ORDER BY occurred_at, event_id",
        case_id,
    )
    return [dict(r) for r in rows]
