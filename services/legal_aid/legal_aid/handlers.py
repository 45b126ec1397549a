"""Legal aid's consumers, each a batch in the consumer's transaction (idempotent: one
application per case, whatever Kafka redelivers; an older triage decision arriving late
changes nothing).

- ``case.reported``: the case's employer (credit code, for conflicts) and its workers.
- ``case.triaged`` / ``case.retriaged``: route ``legal_aid`` opens an application;
  fewer than 7 days before limitation, or triage's ``route.provisional_legal_aid``, makes it
  provisional aid (Art. 44): a lawyer at once, the review after.
- ``mediation.failed`` / ``mediation.expired``: when legal aid is among the next steps
  offered, an application for each case of the mediation, *from mediation*, waiting for the
  officer to confirm the worker wants aid.
- ``case.voided``: the case's open application closes as voided.
- ``survey.answered`` about legal aid (notification's survey at ``legal_aid.closed``,
  answered by its link or a WeChat reply): the application's satisfaction, recorded as an
  officer's entry would be (``legal_aid.satisfaction_recorded``). The first answer stands:
  an application already holding a satisfaction (the officer's, or another worker's
  answer) keeps it; answers about a mediation are not legal aid's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from legal_aid import store
from legal_aid.store import Context
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    CaseVoided,
    MediationExpired,
    MediationFailed,
    SurveyAnswered,
)
from weiquan_shared.logging import get_logger
from weiquan_shared.uow import UnitOfWork

PROVISIONAL_RULE = "route.provisional_legal_aid"
log = get_logger(__name__)


def _json_list(value: Any) -> list[Any]:
    return list(store._json(value) or [])


CHINA = ZoneInfo("Asia/Shanghai")


def china_today() -> date:
    return datetime.now(CHINA).date()


def register_handlers(consumer: EventConsumer, ctx: Context) -> None:
    @consumer.handles_batch(CaseReported)
    async def on_reported(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, case in events:
            await store.upsert_reported(uow.conn, case)
            await store.recheck_conflict(uow, ctx, case.case_id, china_today(), envelope)

    async def on_decision(uow: UnitOfWork, envelope: Envelope, d: Any, seq: int) -> None:
        limitation = (
            next((c.due_on for c in d.clocks if c.kind == "arbitration_limitation"), None)
            if hasattr(d, "clocks")
            else None
        )
        if limitation is None:
            known = await store.case_row(uow.conn, d.case_id)
            limitation = known["limitation_due_on"] if known is not None else None
        signal = any(r.rule == PROVISIONAL_RULE for r in d.reasons)
        current = await store.record_decision(
            uow.conn, d.case_id, d.case_number, seq, d.category, d.route, limitation, signal
        )
        if not current or d.route != "legal_aid":
            return
        case = await store.case_row(uow.conn, d.case_id)
        if case is None or case["voided"]:
            return
        await store.open_application(
            uow,
            ctx,
            source="triage",
            today=china_today(),
            district_code=case["district_code"] or store.district_of(d.case_number),
            matter=store.matter_of(d.category),
            case=case,
            cause=envelope,
        )

    @consumer.handles_batch(CaseTriaged)
    async def on_triaged(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, decision in events:
            await on_decision(uow, envelope, decision, 1)

    @consumer.handles_batch(CaseRetriaged)
    async def on_retriaged(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, decision in events:
            await on_decision(uow, envelope, decision, decision.decision_seq)

    async def from_mediation(
        uow: UnitOfWork, envelope: Envelope, m: Any, offered: list[str], workers: list[str]
    ) -> None:
        if "legal_aid" not in offered:
            return
        for case_id, case_number in zip(m.case_ids, m.case_numbers, strict=False):
            # The mediation's failure may arrive before the case's report (other topics):
            # the case is known by its number until the report fills it in.
            await uow.conn.execute(
                """INSERT INTO cases (case_id, case_number, district_code)
                   VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING""",
                case_id,
                case_number,
                m.district_code,
            )
            case = await store.case_row(uow.conn, case_id)
            if case is None or case["voided"]:
                continue
            if not _json_list(case["workers"]) and workers:
                case = await uow.conn.fetchrow(
                    "UPDATE cases SET workers = $2 WHERE case_id = $1 RETURNING *",
                    case_id,
                    [{"worker_ref": w} for w in workers],
                )
            await store.open_application(
                uow,
                ctx,
                source="mediation",
                today=china_today(),
                district_code=m.district_code,
                matter=store.matter_of(case["category"]),
                case=case,
                mediation_id=m.mediation_id,
                awaiting_confirmation=True,
                cause=envelope,
            )

    @consumer.handles_batch(MediationFailed)
    async def on_failed(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, failed in events:
            await from_mediation(uow, envelope, failed, list(failed.next_steps), [])

    @consumer.handles_batch(MediationExpired)
    async def on_expired(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, expired in events:
            await from_mediation(
                uow, envelope, expired, list(expired.offers), list(expired.worker_refs)
            )

    @consumer.handles_batch(CaseVoided)
    async def on_voided(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, voided in events:
            await uow.conn.execute(
                """INSERT INTO cases (case_id, case_number, district_code, voided)
                   VALUES ($1, $2, $3, true)
                   ON CONFLICT (case_id) DO UPDATE SET voided = true, updated_at = now()""",
                voided.case_id,
                voided.case_number,
                voided.district_code,
            )
            row = await uow.conn.fetchrow(
                "SELECT * FROM applications WHERE case_id = $1 AND status <> 'closed' FOR UPDATE",
                voided.case_id,
            )
            if row is not None:
                await store.close(
                    uow,
                    row,
                    reason="voided",
                    amount_recovered=Decimal(0),
                    satisfaction=None,
                    today=china_today(),
                    cause=envelope,
                )

    @consumer.handles_batch(SurveyAnswered)
    async def on_survey(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        for envelope, answer in events:
            if answer.about != "legal_aid":
                continue
            if answer.about_id is not None:
                row = await uow.conn.fetchrow(
                    "SELECT * FROM applications WHERE application_id = $1 FOR UPDATE",
                    answer.about_id,
                )
            else:  # a survey issued by hand names the case only (one application per case)
                row = await uow.conn.fetchrow(
                    "SELECT * FROM applications WHERE case_id = $1 FOR UPDATE", answer.case_id
                )
            if row is None or row["status"] != "closed" or row["satisfaction"] is not None:
                log.info(
                    "survey answer not recorded",
                    survey_id=str(answer.survey_id),
                    why="no such closed application"
                    if row is None or row["status"] != "closed"
                    else "satisfaction already recorded",
                )
                continue
            await store.record_satisfaction(uow, row, answer.score, cause=envelope)
