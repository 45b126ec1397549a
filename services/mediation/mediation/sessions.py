"""Booking sessions: rooms and mediators' calendars, no double booking.

The database decides who wins: ``sessions_no_double_booked_room`` and
``mediator_bookings_no_double_booked_mediator`` are exclusion constraints over time ranges
(btree_gist), so two bookings racing for one room or one mediator cannot both commit,
whatever the service's instances do. The loser's ``exclusion_violation`` becomes
:class:`BookingConflict`, a Chinese message naming what it collided with (read after the
insert's savepoint rolled back, so the request's transaction stays usable).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from mediation.clocks import CHINA

ROOM_CONSTRAINT = "sessions_no_double_booked_room"
MEDIATOR_CONSTRAINT = "mediator_bookings_no_double_booked_mediator"


class BookingConflict(Exception):
    """The room or a mediator is taken for (part of) the time asked for."""


@dataclass(frozen=True)
class Slot:
    room_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime


def china_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def span(starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(CHINA), ends_at.astimezone(CHINA)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


async def book(
    conn: asyncpg.Connection,
    *,
    session_id: uuid.UUID,
    mediation_id: uuid.UUID,
    slot: Slot,
    workers: list[str],
    representatives_elected: bool,
    employer_representative: bool,
    mediator_ids: list[str],
    organisations: list[str],
    actor: str,
) -> None:
    """Insert the session and its mediators' bookings, or raise :class:`BookingConflict`."""
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves the request usable
            await conn.execute(
                """INSERT INTO sessions (session_id, mediation_id, room_id, starts_at, ends_at,
                       workers, representatives_elected, employer_representative,
                       mediator_ids, organisations, booked_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
                session_id,
                mediation_id,
                slot.room_id,
                slot.starts_at,
                slot.ends_at,
                workers,
                representatives_elected,
                employer_representative,
                mediator_ids,
                organisations,
                actor,
            )
            await _book_mediators(conn, session_id, mediator_ids, slot)
            await _history(conn, session_id, "scheduled", slot, None, actor)
    except asyncpg.ExclusionViolationError as exc:
        raise BookingConflict(await _conflict(conn, exc, slot, mediator_ids, None)) from exc


async def move(
    conn: asyncpg.Connection,
    *,
    session_id: uuid.UUID,
    slot: Slot,
    mediator_ids: list[str],
    reason: str,
    actor: str,
) -> None:
    """Move a scheduled session (time, room, mediators), or raise :class:`BookingConflict`."""
    try:
        async with conn.transaction():
            await conn.execute(
                """UPDATE sessions SET room_id = $2, starts_at = $3, ends_at = $4,
                       mediator_ids = $5, moves = moves + 1
                   WHERE session_id = $1""",
                session_id,
                slot.room_id,
                slot.starts_at,
                slot.ends_at,
                mediator_ids,
            )
            await conn.execute("DELETE FROM mediator_bookings WHERE session_id = $1", session_id)
            await _book_mediators(conn, session_id, mediator_ids, slot)
            await _history(conn, session_id, "moved", slot, reason, actor)
    except asyncpg.ExclusionViolationError as exc:
        raise BookingConflict(await _conflict(conn, exc, slot, mediator_ids, session_id)) from exc


async def block_time(
    conn: asyncpg.Connection,
    *,
    mediator_id: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
) -> uuid.UUID:
    """A time a mediator is away (training, leave): no session may be booked over it."""
    booking_id = uuid.uuid4()
    slot = Slot(uuid.UUID(int=0), starts_at, ends_at)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO mediator_bookings (booking_id, mediator_id, during, kind, note)
                   VALUES ($1, $2, tstzrange($3, $4, '[)'), 'away', $5)""",
                booking_id,
                mediator_id,
                starts_at,
                ends_at,
                note,
            )
    except asyncpg.ExclusionViolationError as exc:
        raise BookingConflict(await _conflict(conn, exc, slot, [mediator_id], None)) from exc
    return booking_id


async def _book_mediators(
    conn: asyncpg.Connection, session_id: uuid.UUID, mediator_ids: list[str], slot: Slot
) -> None:
    await conn.executemany(
        """INSERT INTO mediator_bookings (booking_id, mediator_id, during, session_id, kind)
           VALUES ($1, $2, tstzrange($3, $4, '[)'), $5, 'session')""",
        [(uuid.uuid4(), m, slot.starts_at, slot.ends_at, session_id) for m in mediator_ids],
    )


async def _history(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    action: str,
    slot: Slot,
    reason: str | None,
    actor: str,
) -> None:
    await conn.execute(
        """INSERT INTO session_history (session_id, action, starts_at, ends_at, room_id,
               reason, actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        session_id,
        action,
        slot.starts_at,
        slot.ends_at,
        slot.room_id,
        reason,
        actor,
    )


async def _conflict(
    conn: asyncpg.Connection,
    exc: asyncpg.ExclusionViolationError,
    slot: Slot,
    mediator_ids: list[str],
    own_session: uuid.UUID | None,
) -> str:
    """The Chinese message naming what the booking collided with."""
    asked = span(slot.starts_at, slot.ends_at)
    if exc.constraint_name == ROOM_CONSTRAINT:
        row = await conn.fetchrow(
            """SELECT r.name, s.starts_at, s.ends_at, m.mediation_number
               FROM sessions s JOIN rooms r USING (room_id)
                    JOIN mediations m USING (mediation_id)
               WHERE s.room_id = $1 AND s.status <> 'cancelled'
                 AND s.during && tstzrange($2, $3, '[)')
                 AND s.session_id IS DISTINCT FROM $4
               ORDER BY s.starts_at LIMIT 1""",
            slot.room_id,
            slot.starts_at,
            slot.ends_at,
            own_session,
        )
        if row is None:  # the other booking was cancelled meanwhile: try again
            return f"调解室在 {asked} 刚被占用后又释放，请重新提交预约"
        return (
            f"调解室“{row['name']}”在 {span(row['starts_at'], row['ends_at'])} 已被"
            f"调解案件 {row['mediation_number']} 预约，与所选时间 {asked} 冲突，"
            "请另选时间或调解室"
        )
    row = await conn.fetchrow(
        """SELECT b.mediator_id, d.name, lower(b.during) AS starts_at,
                  upper(b.during) AS ends_at, b.kind, b.note, m.mediation_number, r.name AS room
           FROM mediator_bookings b JOIN mediators d ON d.subject = b.mediator_id
                LEFT JOIN sessions s ON s.session_id = b.session_id
                LEFT JOIN mediations m ON m.mediation_id = s.mediation_id
                LEFT JOIN rooms r ON r.room_id = s.room_id
           WHERE b.mediator_id = ANY($1::text[]) AND b.during && tstzrange($2, $3, '[)')
             AND b.session_id IS DISTINCT FROM $4
           ORDER BY lower(b.during) LIMIT 1""",
        mediator_ids,
        slot.starts_at,
        slot.ends_at,
        own_session,
    )
    if row is None:
        return f"调解员在 {asked} 的日程刚有变动，请重新提交预约"
    when = span(row["starts_at"], row["ends_at"])
    if row["kind"] == "away":
        what = f"不在岗（{row['note'] or '外出'}）"
    else:
        what = f"在“{row['room']}”主持调解案件 {row['mediation_number']}"
    return (
        f"调解员{row['name']}在 {when} {what}，同一时间不能出现在两个地方，"
        f"与所选时间 {asked} 冲突，请另选时间或调解员"
    )
