"""The consumer: intake's, triage's, mediation's and legal aid's (its decisions, its closure)
events become rows of the outbox toward people: workers, employers, and mediators and
lawyers (their assignments and deadlines at risk, ``staff.py``).

Nothing is sent here. A batch's messages are inserted in the batch's transaction (with
its inbox rows), unique by (event id, recipient, template): a replayed batch inserts
nothing new, and only the sender (``sender.py``), outside this transaction, sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
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
    CaseEmployerContactRecorded,
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    EmployerFlagged,
    LegalAidClosed,
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
    employer_channels: Collection[str] = (),
) -> list[Planned]:
    messages = plan(
        book,
        event_type,
        payload,
        case_channel=case["channel"],
        workers=case["worker_refs"],
        employer_channels=employer_channels,
    )
    return [(event_id, event_type, case, m) for m in messages]


def survey_about(event_type: str, payload: dict[str, Any]) -> tuple[str, str, str]:
    """What a closure's survey asks about: ``mediation`` or ``legal_aid``, and the
    mediation's or application's id and number (carried by ``survey.answered``)."""
    if event_type.startswith("legal_aid."):
        return "legal_aid", payload["application_id"], payload["application_number"]
    return "mediation", payload["mediation_id"], payload["mediation_number"]


def _employer_once(planned: list[Planned]) -> list[Planned]:
    """An event naming several cases (a group's mediation) tells their employer once per
    template: by the first of its cases whose employer contact reaches that channel."""
    seen: set[tuple[uuid.UUID, str]] = set()
    kept = []
    for event_id, event_type, case, m in planned:
        if m.recipient.kind == "employer":
            if (event_id, m.rule.template) in seen:
                continue
            seen.add((event_id, m.rule.template))
        kept.append((event_id, event_type, case, m))
    return kept


class SurveyKeyMissing(RuntimeError):
    """A closure calls for a survey and no signing key is configured: the event is retried
    and then dead-lettered with this reason (to be replayed once the key is set), never
    dropped."""


async def _issue_surveys(
    conn: asyncpg.Connection,
    links: SurveyLinks | None,
    planned: list[Planned],
    payloads: dict[uuid.UUID, dict[str, Any]],
) -> list[Planned]:
    """Issue the survey of every survey message planned (one per case, worker and subject,
    as when a person issues one): its row with the link's hash and what it asks about (the
    mediation or the legal-aid application, from the event's payload in ``payloads`` by
    event id), in the batch's transaction. A case and worker that already has a survey on
    that subject (issued by hand, or by this event before: a replay) gets no message: once
    per case, worker and subject."""
    wanted = {
        (case["case_id"], m.recipient.ref): (case, survey_about(event_type, payloads[event_id]))
        for event_id, event_type, case, m in planned
        if m.rule.template in SURVEY_TEMPLATES
    }
    if not wanted:
        return planned
    if links is None:
        raise SurveyKeyMissing("WEIQUAN_NOTIFICATION_SURVEY_KEY is not set")
    issued: dict[tuple[uuid.UUID, str], dict[str, str]] = {}
    now = datetime.now(UTC)
    for (case_id, worker_ref), (case, (about, about_id, about_number)) in wanted.items():
        survey_id = uuid.uuid4()
        token, expires = links.issue(survey_id, now)
        inserted = await conn.fetchval(
            "INSERT INTO surveys (id, case_id, case_number, district_code, worker_ref, "
            "token_hash, expires_at, about, about_id, about_number) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT (case_id, worker_ref, about) DO NOTHING RETURNING id",
            survey_id,
            case_id,
            case["case_number"],
            case["district_code"],
            worker_ref,
            token_hash(token),
            expires,
            about,
            uuid.UUID(str(about_id)),
            about_number,
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
        employers = await store.employer_channels(conn, ids)
        planned: list[Planned] = []
        payloads: dict[uuid.UUID, dict[str, Any]] = {}
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
            payloads[row["event_id"]] = payload
            planned += _plan_for(
                book,
                row["event_id"],
                row["event_type"],
                payload,
                cases[row["case_id"]],
                employers.get(row["case_id"], ()),
            )
        planned = await _issue_surveys(conn, links, _employer_once(planned), payloads)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added)

    @consumer.handles_batch(
        CaseTriaged, CaseRetriaged, LegalAidGranted, LegalAidDenied, LegalAidClosed
    )
    async def on_decisions(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        conn = uow.conn
        # A walk-in's legal-aid decision or closure names no case: intake holds no contact
        # to tell it by (the officer hands the written decision over at the desk).
        events = [(envelope, e) for envelope, e in events if e.case_id is not None]
        cases = await store.known_cases(conn, [e.case_id for _, e in events])
        planned: list[Planned] = []
        payloads: dict[uuid.UUID, dict[str, Any]] = {}
        waiting = []
        for envelope, event in events:
            payload = event.model_dump(mode="json")
            payloads[envelope.event_id] = payload
            case = cases.get(event.case_id)
            if case is None:
                waiting.append((envelope.event_id, envelope.event_type, event.case_id, payload))
                continue
            planned += _plan_for(book, envelope.event_id, envelope.event_type, payload, case)
        await store.wait_for_case(conn, waiting)
        planned = await _issue_surveys(conn, links, planned, payloads)
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
        ids = [c for _, e in events for c in e.case_ids]
        cases = await store.known_cases(conn, ids)
        employers = await store.employer_channels(conn, ids)
        planned: list[Planned] = []
        payloads: dict[uuid.UUID, dict[str, Any]] = {}
        waiting = []
        for envelope, event in events:
            payload = event.model_dump(mode="json")
            payloads[envelope.event_id] = payload
            for case_id, number in zip(event.case_ids, event.case_numbers, strict=True):
                per_case = {**payload, PER_CASE_FIELD: number}
                case = cases.get(case_id)
                if case is None:
                    waiting.append((envelope.event_id, envelope.event_type, case_id, per_case))
                    continue
                planned += _plan_for(
                    book,
                    envelope.event_id,
                    envelope.event_type,
                    per_case,
                    case,
                    employers.get(case_id, ()),
                )
        await store.wait_for_case(conn, waiting)
        planned = await _issue_surveys(conn, links, _employer_once(planned), payloads)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added, waiting=len(waiting))

    @consumer.handles_batch(CaseEmployerContactRecorded)
    async def on_employer_contact(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        """Intake recorded (or corrected) a case's employer contact: by which channels the
        employer can be reached now (the contact itself is asked of intake at send time)."""
        await store.remember_employer_contacts(
            uow.conn, [(e.case_id, list(e.channels), e.recorded_at) for _, e in events]
        )
        log.info("employer contacts recorded", events=len(events))

    @consumer.handles_batch(EmployerFlagged)
    async def on_flagged(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        """Triage flagged an employer (too many cases in its window): the union's reminder
        letter (提示函) goes by email, once per flag event, to the employer's contact of the
        latest of the flagged cases whose employer has an email at intake. None has one:
        nothing is sent (the letter goes by post, outside this service)."""
        conn = uow.conn
        ids = [c for _, e in events for c in e.case_ids]
        cases = await store.known_cases(conn, ids)
        employers = await store.employer_channels(conn, ids)
        planned: list[Planned] = []
        for envelope, event in events:
            reachable = [
                cases[c] for c in event.case_ids if c in cases and "email" in employers.get(c, ())
            ]
            if not reachable:
                log.info(
                    "reminder letter: no flagged case has an employer email",
                    event_id=str(envelope.event_id),
                    cases=len(event.case_ids),
                )
                continue
            latest = max(reachable, key=lambda case: case["reported_at"])
            payload = {**event.model_dump(mode="json"), PER_CASE_FIELD: latest["case_number"]}
            planned += _plan_for(
                book, envelope.event_id, envelope.event_type, payload, latest, ("email",)
            )
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added)

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
