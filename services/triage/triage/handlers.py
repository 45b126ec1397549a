"""Triage's event handler: decide, record and announce a batch of reported cases, all in the
consumer's transaction.

The employers of the batch are locked first (``SELECT … FOR UPDATE``, in key order), so
cases of one employer handled at once by two triage instances are decided one after the
other, and the second sees the first: a group dispute forms exactly once. Their recent
cases are then read once, the batch is decided case by case in memory
(:class:`~triage.ledger.EmployerLedger`), and everything it decided is written with a few
set-wise statements: a handful of round trips per batch instead of a dozen per case.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from triage import store
from triage.clocks import china_date
from triage.domain import Assessment, Policy, classify_case, facts_of
from triage.grouping import GroupOutcome, employer_id, employer_key
from triage.ledger import history_window
from weiquan_shared.consumer import EventConsumer
from weiquan_shared.envelope import Envelope, EventPayload
from weiquan_shared.events import (
    CaseGrouped,
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    EmployerFlagged,
    TriageReason,
)
from weiquan_shared.uow import Emit, UnitOfWork

GROUP_NOTE = "并入群体性劳动争议，系统自动升级为特急"


def register_handlers(consumer: EventConsumer, policy: Policy) -> None:
    @consumer.handles_batch(CaseReported)
    async def on_cases_reported(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
        conn = uow.conn
        cases: list[tuple[Envelope, CaseReported]] = events
        employers = {employer_key(case.employer): case.employer for _, case in cases}
        flagged = await store.lock_employers(conn, employers)
        classified = {case.case_id: classify_case(case, policy) for _, case in cases}
        claims: dict[str, set[str]] = {key: set() for key in employers}
        for _, case in cases:
            claims[employer_key(case.employer)].add(classified[case.case_id].category)
        since, until = history_window(policy, [china_date(c.reported_at) for _, c in cases])
        ledgers = await store.employer_ledgers(conn, flagged, claims, since, until)

        batch = DecidedBatch(uow.emit)
        for envelope, case in cases:
            key = employer_key(case.employer)
            batch.add(envelope, case, ledgers[key].assess(case, policy, classified[case.case_id]))

        await store.save_groups(conn, list(batch.groups.values()))
        await store.save_cases(conn, batch.cases, batch.group_of)
        await store.record_decisions(conn, batch.decisions)
        if batch.flags:
            await store.flag_employers(conn, batch.flags)


class DecidedBatch:
    """What deciding a batch writes, collected for set-wise writes; what it announces goes
    to ``emit`` (the unit of work's), each event caused by the report it was decided from."""

    def __init__(self, emit: Emit) -> None:
        self._emit_event = emit
        self.now = datetime.now(UTC)
        self.cases: list[store.NewCaseRow] = []
        self.groups: dict[uuid.UUID, tuple[GroupOutcome, str, str]] = {}  # latest outcome
        self.group_of: dict[uuid.UUID, uuid.UUID] = {}
        self.decisions: list[store.DecisionRecord] = []
        self.flags: list[tuple[str, date, list[uuid.UUID]]] = []

    def _emit(self, cause: Envelope, payload: EventPayload, subject: uuid.UUID) -> None:
        self._emit_event(payload, subject=str(subject), caused_by=cause)

    def add(self, envelope: Envelope, case: CaseReported, result: Assessment) -> None:
        decision, group, now = result.decision, result.group, self.now
        key = result.employer_key
        reported_on = china_date(case.reported_at)
        self.cases.append(
            store.NewCaseRow(case, key, decision.category, facts_of(case), reported_on)
        )
        if group is not None:
            self.groups[group.group_id] = (group, key, decision.category)
            self.group_of.update(dict.fromkeys(group.member_ids, group.group_id))
        self.decisions.append(
            store.DecisionRecord(
                case_id=case.case_id,
                case_number=case.case_number,
                kind="initial",
                decision=decision,
                source_event_id=envelope.event_id,
            )
        )
        self._emit(
            envelope,
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
            case.case_id,
        )
        for upgrade in result.upgrades:
            earlier = upgrade.previous
            new = upgrade.decision
            self.decisions.append(
                store.DecisionRecord(
                    case_id=upgrade.case.case_id,
                    case_number=upgrade.case.case_number,
                    kind="group",
                    decision=new,
                    source_event_id=envelope.event_id,
                    note=GROUP_NOTE,
                    previous=earlier,
                )
            )
            self._emit(
                envelope,
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
                    note=GROUP_NOTE,
                    group_id=new.group_id,
                    retriaged_at=now,
                    decision_seq=new.seq,
                ),
                upgrade.case.case_id,
            )
        if group is not None:
            self._emit(
                envelope,
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
                group.group_id,
            )
        if result.repeat is not None:
            repeat = result.repeat
            self.flags.append((key, reported_on, repeat.case_ids))
            self._emit(
                envelope,
                EmployerFlagged(
                    employer_id=employer_id(key),
                    employer=case.employer,
                    case_count=len(repeat.case_ids),
                    window_days=repeat.window_days,
                    case_ids=repeat.case_ids,
                    reason=TriageReason(
                        rule="employer.repeat",
                        text=f"{repeat.window_days}天内被投诉{len(repeat.case_ids)}起，"
                        "列为重复投诉单位，建议提请工会劳动法律监督（一函两书）",
                    ),
                    flagged_at=now,
                ),
                employer_id(key),
            )
