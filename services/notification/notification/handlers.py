"""The consumer: intake's, triage's and legal aid's (its decisions) events become rows of
the outbox toward people.

Nothing is sent here. A batch's messages are inserted in the batch's transaction (with
its inbox rows), unique by (event id, recipient, template): a replayed batch inserts
nothing new, and only the sender (``sender.py``), outside this transaction, sends.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from notification import store
from notification.rules import PlannedMessage, RuleBook, plan
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    LegalAidDenied,
    LegalAidGranted,
)
from weiquan_shared.logging import get_logger
from weiquan_shared.uow import UnitOfWork

log = get_logger(__name__)

Planned = tuple[uuid.UUID, str, asyncpg.Record, PlannedMessage]


def _plan_for(
    book: RuleBook,
    event_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    case: asyncpg.Record,
) -> list[Planned]:
    messages = plan(
        book, event_type, payload, case_channel=case["channel"], workers=case["worker_refs"]
    )
    return [(event_id, event_type, case, m) for m in messages]


def register_handlers(consumer: EventConsumer, book: RuleBook) -> None:
    @consumer.handles_batch(CaseReported)
    async def on_reported(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        conn = uow.conn
        await store.remember_cases(
            conn,
            [
                (
                    e.case_id,
                    e.case_number,
                    e.district_code,
                    e.channel,
                    [w.worker_ref for w in e.workers],
                    e.reported_at,
                )
                for _, e in events
            ],
        )
        ids = [e.case_id for _, e in events]
        cases = await store.known_cases(conn, ids)
        planned: list[Planned] = []
        for envelope, event in events:
            planned += _plan_for(
                book,
                envelope.event_id,
                envelope.event_type,
                event.model_dump(mode="json"),
                cases[event.case_id],
            )
        for row in await store.take_waiting(conn, ids):
            payload = row["payload"]
            planned += _plan_for(
                book, row["event_id"], row["event_type"], payload, cases[row["case_id"]]
            )
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added)

    @consumer.handles_batch(CaseTriaged, CaseRetriaged, LegalAidGranted, LegalAidDenied)
    async def on_decisions(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        conn = uow.conn
        # A walk-in's legal-aid decision names no case: intake holds no contact to tell it by
        # (the officer hands the written decision over at the desk).
        events = [(envelope, e) for envelope, e in events if e.case_id is not None]
        cases = await store.known_cases(conn, [e.case_id for _, e in events])
        planned: list[Planned] = []
        waiting = []
        for envelope, event in events:
            payload = event.model_dump(mode="json")
            case = cases.get(event.case_id)
            if case is None:
                waiting.append((envelope.event_id, envelope.event_type, event.case_id, payload))
                continue
            planned += _plan_for(book, envelope.event_id, envelope.event_type, payload, case)
        await store.wait_for_case(conn, waiting)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added, waiting=len(waiting))
