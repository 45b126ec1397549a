"""The consumer: intake's, triage's, mediation's and legal aid's (its decisions) events
become rows of the outbox toward people; mediators' and lawyers' assignments and deadlines
at risk, rows toward staff (``staff.py``).

Nothing is sent here. A batch's messages are inserted in the batch's transaction (with
its inbox rows), unique by (event id, recipient, template): a replayed batch inserts
nothing new, and only the sender (``sender.py``), outside this transaction, sends.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notification import staff, store
from notification.rules import (
    PER_CASE_FIELD,
    SURVEY_TEMPLATES,
    PlannedMessage,
    RuleBook,
    plan,
)
from notification.survey import SurveyLinks, token_hash
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    LegalAidDenied,
    LegalAidGranted,
)
from weiquan_shared.events.legal_aid import LegalAidLawyerAssigned
from weiquan_shared.events.mediation import (
    MediationAgreementReached,
    MediationAssigned,
    MediationCasesChanged,
    MediationClosed,
    MediationExpired,
    MediationInstalmentOverdue,
    MediationSessionCancelled,
    MediationSessionMoved,
    MediationSessionScheduled,
)
from weiquan_shared.events.triage import CaseDeadlinesUpdated
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


class SurveyKeyMissing(RuntimeError):
    """A closure calls for a survey and no signing key is configured: the event is retried
    and then dead-lettered with this reason (to be replayed once the key is set), never
    dropped."""


async def _issue_surveys(
    conn: asyncpg.Connection, links: SurveyLinks | None, planned: list[Planned]
) -> list[Planned]:
    """Issue the survey of every survey message planned (one per case and worker, as when
    a person issues one): its row with the link's hash, in the batch's transaction. A case
    and worker that already has a survey (issued by hand, or by this event before: a
    replay) gets no message: once per case and worker."""
    wanted = {
        (case["case_id"], m.recipient.ref): case
        for _, _, case, m in planned
        if m.rule.template in SURVEY_TEMPLATES
    }
    if not wanted:
        return planned
    if links is None:
        raise SurveyKeyMissing("WEIQUAN_NOTIFICATION_SURVEY_KEY is not set")
    issued: dict[tuple[uuid.UUID, str], dict[str, str]] = {}
    now = datetime.now(UTC)
    for (case_id, worker_ref), case in wanted.items():
        survey_id = uuid.uuid4()
        token, expires = links.issue(survey_id, now)
        inserted = await conn.fetchval(
            "INSERT INTO surveys (id, case_id, case_number, district_code, worker_ref, "
            "token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (case_id, worker_ref) DO NOTHING RETURNING id",
            survey_id,
            case_id,
            case["case_number"],
            case["district_code"],
            worker_ref,
            token_hash(token),
            expires,
        )
        if inserted is not None:
            issued[(case_id, worker_ref)] = {
                "survey_id": str(survey_id),
                "survey_expires": str(int(expires.timestamp())),
            }
    kept: list[Planned] = []
    for event_id, event_type, case, m in planned:
        if m.rule.template not in SURVEY_TEMPLATES:
            kept.append((event_id, event_type, case, m))
        elif (key := (case["case_id"], m.recipient.ref)) in issued:
            with_survey = replace(m, variables={**m.variables, **issued[key]})
            kept.append((event_id, event_type, case, with_survey))
    log.info("surveys issued at closure", surveys=len(issued))
    return kept


def register_handlers(
    consumer: EventConsumer, book: RuleBook, links: SurveyLinks | None = None
) -> None:
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
        planned = await _issue_surveys(conn, links, planned)
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
        planned = await _issue_surveys(conn, links, planned)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added, waiting=len(waiting))

    @consumer.handles_batch(
        MediationSessionScheduled,
        MediationSessionMoved,
        MediationSessionCancelled,
        MediationAgreementReached,
        MediationInstalmentOverdue,
        MediationExpired,
        MediationClosed,
    )
    async def on_mediation(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        """A mediation event names its cases: each case's workers are told (with that
        case's number), as ``rules.plan`` addresses them; a case not yet known waits.
        Sessions are remembered for their mediators' reminder the day before, closures
        end a mediation's responsibility for deadlines (``staff.py``)."""
        conn = uow.conn
        await staff.remember_sessions(
            conn,
            [
                e
                for _, e in events
                if isinstance(
                    e, MediationSessionScheduled | MediationSessionMoved | MediationSessionCancelled
                )
            ],
        )
        await staff.remember_mediations(
            conn, [e for _, e in events if isinstance(e, MediationClosed)]
        )
        cases = await store.known_cases(conn, [c for _, e in events for c in e.case_ids])
        planned: list[Planned] = []
        waiting = []
        for envelope, event in events:
            payload = event.model_dump(mode="json")
            for case_id, number in zip(event.case_ids, event.case_numbers, strict=True):
                per_case = {**payload, PER_CASE_FIELD: number}
                case = cases.get(case_id)
                if case is None:
                    waiting.append((envelope.event_id, envelope.event_type, case_id, per_case))
                    continue
                planned += _plan_for(book, envelope.event_id, envelope.event_type, per_case, case)
        await store.wait_for_case(conn, waiting)
        planned = await _issue_surveys(conn, links, planned)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added, waiting=len(waiting))

    @consumer.handles_batch(
        MediationAssigned, MediationCasesChanged, LegalAidLawyerAssigned, CaseDeadlinesUpdated
    )
    async def on_staff(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        """Mediators and lawyers: who is responsible for which case is remembered, then an
        assignment tells its mediator or lawyer, a clock entering its at-risk window tells
        the case's mediator and lawyer (once per case, clock and due date)."""
        conn = uow.conn
        await staff.remember_mediations(
            conn,
            [e for _, e in events if isinstance(e, MediationAssigned | MediationCasesChanged)],
        )
        await staff.remember_lawyers(
            conn, [e for _, e in events if isinstance(e, LegalAidLawyerAssigned)]
        )
        planned: list[staff.Planned] = []
        for envelope, event in events:
            if isinstance(event, MediationAssigned | LegalAidLawyerAssigned):
                planned += staff.assignment_messages(
                    book, envelope.event_id, envelope.event_type, event
                )
        planned += await staff.deadline_messages(
            conn, book, [e for _, e in events if isinstance(e, CaseDeadlinesUpdated)]
        )
        added = await staff.record(conn, planned)
        log.info("staff messages recorded", events=len(events), messages=added)
