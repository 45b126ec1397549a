"""The unit of work: one transaction, the acting user, and the events the change causes.

Every state change in every service goes through one (cosmicpython's ``unit_of_work.py`` is
the model)::

    async with runtime.unit_of_work(actor) as uow:        # an API route: the signed-in user
        await uow.conn.execute("UPDATE …")
        uow.emit(CaseRetriaged(…), subject=str(case_id))
    # committed: the rows and the outbox entries together, or neither

Consumers get one from :class:`~weiquan_shared.consumer.EventConsumer`, acting as
``system:<service>``, inside the batch's transaction; ``uow.emit(…, caused_by=envelope)``
links the new event to the one that caused it. Nobody else builds an envelope: producer,
actor, correlation and causation are filled in here, the same way everywhere.

The audit trail is written here too: every event a person (not a service) causes is
followed by an ``audit.recorded`` naming it, and a read of personal data records itself
with :meth:`UnitOfWork.audit` (a unit of work that changes nothing else). What services do
on their own is in their events, with ``system:<service>`` as the actor.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Protocol

import asyncpg

from weiquan_shared.envelope import Actor, Envelope, EventPayload, new_event
from weiquan_shared.events.audit import AuditOutcome, AuditRecorded
from weiquan_shared.outbox import add_to_outbox
from weiquan_shared.settings import Settings


class Emit(Protocol):
    """What code that announces events needs of a unit of work (rules-level code takes
    this, so it can be exercised without a database)."""

    def __call__(
        self,
        payload: EventPayload,
        *,
        subject: str,
        caused_by: Envelope | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope: ...


class UnitOfWork:
    """What one transaction changes and announces, on behalf of one actor.

    ``correlation_id`` ties together every event of one request; an event emitted with
    ``caused_by`` takes its cause's correlation id instead (a consumer's batch mixes
    requests).
    """

    def __init__(
        self,
        conn: asyncpg.Connection,
        settings: Settings,
        actor: Actor,
        *,
        correlation_id: uuid.UUID | None = None,
    ) -> None:
        self.conn = conn
        self.actor = actor
        self.correlation_id = correlation_id or uuid.uuid4()
        self._settings = settings
        self._pending: list[Envelope] = []

    def emit(
        self,
        payload: EventPayload,
        *,
        subject: str,
        caused_by: Envelope | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """Queue an event; it reaches the outbox when the unit of work commits."""
        event = new_event(
            payload,
            subject=subject,
            producer=self._settings.service_name,
            actor=self.actor,
            correlation_id=self.correlation_id,
            caused_by=caused_by,
            occurred_at=occurred_at,
        )
        self._pending.append(event)
        return event

    def audit(
        self,
        action: str,
        *,
        case_id: uuid.UUID | None = None,
        case_number: str | None = None,
        district_code: str | None = None,
        outcome: AuditOutcome = "success",
        reason: str | None = None,
        detail: str | None = None,
    ) -> Envelope:
        """Record that the actor did ``action`` (a read of personal data, say); committed
        with the unit of work, like any event."""
        record = AuditRecorded(
            record_id=uuid.uuid4(),
            service=self._settings.service_name,
            action=action,
            outcome=outcome,
            case_id=case_id,
            case_number=case_number,
            district_code=district_code,
            reason=reason,
            detail=detail,
            occurred_at=datetime.now(UTC),
        )
        subject = str(case_id) if case_id else str(self.actor)
        return self.emit(record, subject=subject)

    @property
    def pending(self) -> tuple[Envelope, ...]:
        return tuple(self._pending)

    async def flush(self) -> None:
        """Write the queued events to the outbox, in the open transaction; a person's
        state changes get their audit records first."""
        if self.actor.kind != "system":
            for event in [e for e in self._pending if e.event_type != AuditRecorded.event_type]:
                self.audit(
                    event.event_type,
                    case_id=_case_id(event),
                    case_number=event.payload.get("case_number"),
                    district_code=event.payload.get("district_code"),
                    detail=f"event {event.event_id}",
                )
        events, self._pending = self._pending, []
        await add_to_outbox(self.conn, self._settings, *events)


@contextlib.asynccontextmanager
async def unit_of_work(
    pool: asyncpg.Pool,
    settings: Settings,
    actor: Actor,
    *,
    correlation_id: uuid.UUID | None = None,
) -> AsyncIterator[UnitOfWork]:
    """Open a transaction for ``actor``; on leaving without an error, write the events and
    commit. An error rolls back the state change and the events alike."""
    async with pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, settings, actor, correlation_id=correlation_id)
        yield uow
        await uow.flush()


def _case_id(event: Envelope) -> uuid.UUID | None:
    case_id = event.payload.get("case_id")
    return uuid.UUID(case_id) if isinstance(case_id, str) else None
