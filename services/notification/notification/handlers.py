"""The consumer: intake's, triage's, mediation's and legal aid's (its decisions, its closure) events
become rows of the outbox toward people.

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

from notification import store
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
    LegalAidClosed,
    LegalAidDenied,
    LegalAidGranted,
)
from weiquan_shared.events.mediation import (
    MediationAgreementReached,
    MediationClosed,
    MediationExpired,
    MediationInstalmentOverdue,
    MediationSessionCancelled,
    MediationSessionMoved,
    MediationSessionScheduled,
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


def survey_about(event_type: str, payload: dict[str, Any]) -> tuple[str, str, str]:
    """What a closure's survey asks about: ``mediation`` or ``legal_aid``, and the
    mediation's or application's id and number (carried by ``survey.answered``)."""
    if event_type.startswith("legal_aid."):
        return "legal_aid", payload["application_id"], payload["application_number"]
    return "mediation", payload["mediation_id"], payload["mediation_number"]


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
                book, row["event_id"], row["event_type"], payload, cases[row["case_id"]]
            )
        planned = await _issue_surveys(conn, links, planned, payloads)
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
        case's number), as ``rules.plan`` addresses them; a case not yet known waits."""
        conn = uow.conn
        cases = await store.known_cases(conn, [c for _, e in events for c in e.case_ids])
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
                planned += _plan_for(book, envelope.event_id, envelope.event_type, per_case, case)
        await store.wait_for_case(conn, waiting)
        planned = await _issue_surveys(conn, links, planned, payloads)
        added = await store.insert_messages(conn, planned)
        log.info("messages recorded", events=len(events), messages=added, waiting=len(waiting))
