"""Triage's event handler: decide, record and announce, all in the consumer's transaction.

The employer's row is locked first (``SELECT … FOR UPDATE``), so two cases of one employer
handled at once on different partitions (or by two triage instances) are decided one after
the other, and the second sees the first: a group dispute forms exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from triage import store
from triage.clocks import china_date
from triage.domain import Policy, assess, facts_of
from triage.grouping import employer_id, employer_key
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope, EventPayload, new_event
from weiquan_shared.events import (
    CaseGrouped,
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    EmployerFlagged,
    TriageReason,
)
from weiquan_shared.outbox import add_to_outbox
from weiquan_shared.settings import Settings


def register_handlers(consumer: EventConsumer, settings: Settings, policy: Policy) -> None:
    @consumer.handles(CaseReported)
    async def on_case_reported(
        conn: asyncpg.Connection, envelope: Envelope, case: CaseReported
    ) -> None:
        async def emit(payload: EventPayload, subject: str) -> None:
            event = new_event(payload, subject=subject, producer="triage", caused_by=envelope)
            await add_to_outbox(conn, settings, event)

        key = employer_key(case.employer)
        flagged_on = await store.lock_employer(conn, key, case)
        history, current = await store.employer_cases(conn, key)
        result = assess(case, history, current=current, flagged_on=flagged_on, policy=policy)
        decision, group = result.decision, result.group
        now = datetime.now(UTC)
        reported_on = china_date(case.reported_at)

        await store.save_case(
            conn, case, key=key, decision=decision, facts=facts_of(case), reported_on=reported_on
        )
        if group is not None:
            await store.save_group(conn, group, key=key, category=decision.category)
        await store.record_decision(
            conn,
            case_id=case.case_id,
            case_number=case.case_number,
            kind="initial",
            decision=decision,
            source_event_id=envelope.event_id,
        )
        await emit(
            CaseTriaged(
                case_id=case.case_id,
                case_number=case.case_number,
                category=decision.category,
                secondary_categories=decision.secondary_categories,
                urgency=decision.urgency,
                route=decision.route,
                route_detail=decision.route_detail,
                reasons=decision.reasons,
                clocks=decision.clocks,
                group_id=decision.group_id,
                employer_flagged=decision.employer_flagged,
                triaged_at=now,
            ),
            str(case.case_id),
        )
        for upgrade in result.upgrades:
            earlier, _, _ = current[upgrade.case.case_id]
            note = "并入群体性劳动争议，系统自动升级为特急"
            await store.record_decision(
                conn,
                case_id=upgrade.case.case_id,
                case_number=upgrade.case.case_number,
                kind="group",
                decision=upgrade.decision,
                source_event_id=envelope.event_id,
                note=note,
                previous=earlier,
            )
            new = upgrade.decision
            await emit(
                CaseRetriaged(
                    case_id=upgrade.case.case_id,
                    case_number=upgrade.case.case_number,
                    category=new.category,
                    secondary_categories=new.secondary_categories,
                    urgency=new.urgency,
                    route=new.route,
                    route_detail=new.route_detail,
                    reasons=new.reasons,
                    previous=earlier.snapshot(),
                    retriaged_by="system",
                    note=note,
                    group_id=new.group_id,
                    retriaged_at=now,
                ),
                str(upgrade.case.case_id),
            )
        if group is not None:
            await emit(
                CaseGrouped(
                    group_id=group.group_id,
                    group_number=group.group_number,
                    employer=case.employer,
                    category=decision.category,
                    case_ids=group.member_ids,
                    case_numbers=group.member_numbers,
                    new_case_ids=[case.case_id, *(p.case_id for p in group.joining)],
                    worker_count=group.worker_count,
                    formed_at=now,
                    reason=next(r for r in decision.reasons if r.rule == "urgency.group_dispute"),
                ),
                str(group.group_id),
            )
        if result.repeat is not None:
            await store.flag_employer(conn, key, reported_on, result.repeat.case_ids)
            await emit(
                EmployerFlagged(
                    employer_id=employer_id(key),
                    employer=case.employer,
                    case_count=len(result.repeat.case_ids),
                    window_days=result.repeat.window_days,
                    case_ids=result.repeat.case_ids,
                    reason=TriageReason(
                        rule="employer.repeat",
                        text=f"{result.repeat.window_days}天内被投诉{len(result.repeat.case_ids)}起，"
                        "提请工会劳动法律监督，发送提示函（一函两书）",
                    ),
                    flagged_at=now,
                ),
                str(employer_id(key)),
            )
