"""Deciding a batch against an employer's in-memory ledger, and what the batch announces
(no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from triage.domain import OverrideRequest, Policy, facts_of, override
from triage.handlers import DecidedBatch
from triage.ledger import EmployerLedger, history_window
from weiquan_shared.envelope import Actor, Envelope, EventPayload, decode, encode, new_event
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    EmployerFlagged,
    EmployerRef,
    WorkerRef,
)

POLICY = Policy.load()


def case(summary: str, *, on: date) -> CaseReported:
    """One worker's hotline case against the same employer."""
    return CaseReported(
        case_id=uuid.uuid4(),
        case_number=f"440305-2026-{uuid.uuid4().int % 10**6:06d}",
        channel="hotline",
        channel_ref=str(uuid.uuid4()),
        reported_at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC),
        district_code="440305",
        employer=EmployerRef(name="深圳市恒信精密五金制品厂", district_code="440305"),
        workers=[WorkerRef(worker_ref=uuid.uuid4().hex * 2)],
        summary=summary,
        knew_of_infringement_on=on - timedelta(days=30),
    )


INTAKE = Actor.system("intake")


class Emitted(list[Envelope]):
    """The events a batch announces, as triage's unit of work would publish them."""

    def append_new(
        self, payload: EventPayload, *, subject: str, caused_by: Envelope | None = None, **_: object
    ) -> Envelope:
        event = new_event(
            payload,
            subject=subject,
            producer="triage",
            actor=Actor.system("triage"),
            caused_by=caused_by,
        )
        self.append(event)
        return event


def test_a_batch_of_ten_callers_forms_one_group_and_upgrades_the_first_nine() -> None:
    ledger = EmployerLedger()
    results = [
        ledger.assess(case("公司拖欠工资三个月", on=date(2026, 6, 1) + timedelta(days=i)), POLICY)
        for i in range(10)
    ]
    assert all(r.group is None for r in results[:9])
    tenth = results[9]
    assert tenth.group is not None and tenth.group.is_new and tenth.group.case_count == 10
    assert len(tenth.upgrades) == 9
    assert {u.previous.urgency for u in tenth.upgrades} == {"normal"}
    assert {u.decision.urgency for u in tenth.upgrades} == {"critical"}
    # Every case is now in the group, and none is left to upgrade again.
    assert {p.group_id for p in ledger.history} == {tenth.group.group_id}
    assert ledger.current == {}


def test_the_eleventh_caller_joins_the_group_formed_earlier_in_the_batch() -> None:
    ledger = EmployerLedger()
    for i in range(10):
        ledger.assess(case("公司拖欠工资三个月", on=date(2026, 6, 1) + timedelta(days=i)), POLICY)
    eleventh = ledger.assess(case("工资拖欠两个月没发", on=date(2026, 6, 12)), POLICY)
    assert eleventh.group is not None and not eleventh.group.is_new
    assert eleventh.group.case_count == 11 and eleventh.upgrades == []
    assert eleventh.decision.urgency == "critical"


def test_the_third_case_in_ninety_days_flags_the_employer_once() -> None:
    ledger = EmployerLedger()
    summaries = ["公司拖欠工资三个月", "公司不给交社保", "加班不给加班费", "拖欠工资"]
    days = [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1), date(2026, 8, 2)]
    results = [ledger.assess(case(s, on=d), POLICY) for s, d in zip(summaries, days, strict=True)]
    assert [r.repeat is not None for r in results] == [False, False, True, False]
    assert ledger.flagged_on == date(2026, 8, 1)
    assert results[3].decision.employer_flagged


def test_the_history_window_reaches_as_far_as_the_longest_rule() -> None:
    since, until = history_window(POLICY, [date(2026, 6, 10), date(2026, 6, 12)])
    reach = POLICY.rules.number("repeat_employer.window_days", date(2026, 6, 10))
    assert since == date(2026, 6, 10) - timedelta(days=reach)
    assert until == date(2026, 6, 12) + timedelta(days=reach)


def test_a_case_triaged_and_upgraded_in_one_batch_numbers_its_two_decisions() -> None:
    """Both decisions bear the batch's time; only their numbers say which is current."""
    emitted = Emitted()
    ledger, batch = EmployerLedger(), DecidedBatch(emitted.append_new)
    for i in range(10):
        reported = case("公司拖欠工资三个月", on=date(2026, 6, 1) + timedelta(days=i))
        envelope = new_event(
            reported, subject=str(reported.case_id), producer="intake", actor=INTAKE
        )
        batch.add(envelope, reported, ledger.assess(reported, POLICY))
    payloads = [decode(encode(event))[1] for event in emitted]
    triaged = {p.case_id: p for p in payloads if isinstance(p, CaseTriaged)}
    retriaged = {p.case_id: p for p in payloads if isinstance(p, CaseRetriaged)}
    assert len(triaged) == 10 and len(retriaged) == 9
    for case_id, upgrade in retriaged.items():
        first = triaged[case_id]
        assert (
            upgrade.retriaged_at == first.triaged_at
        )  # the tie projection must not break by chance
        assert upgrade.decision_seq == 2
        assert (first.urgency, upgrade.urgency) == ("normal", "critical")
    recorded = {(r.case_id, r.decision.seq) for r in batch.decisions}
    assert len(recorded) == len(batch.decisions) == 19  # no two decisions of a case share a number


def test_an_override_is_numbered_after_the_decision_it_replaces() -> None:
    reported = case("公司以业绩不达标为由口头辞退", on=date(2026, 6, 1))
    first = EmployerLedger().assess(reported, POLICY).decision
    request = OverrideRequest(officer_id="op-017", reason="职工补充说明", urgency="critical")
    overridden = override(first, facts_of(reported), request, date(2026, 6, 2), POLICY)
    again = override(
        overridden, facts_of(reported), replace(request, urgency="urgent"), date(2026, 6, 3), POLICY
    )
    assert (first.seq, overridden.seq, again.seq) == (1, 2, 3)


def test_a_repeat_employer_flag_suggests_supervision_and_claims_no_action() -> None:
    emitted = Emitted()
    ledger, batch = EmployerLedger(), DecidedBatch(emitted.append_new)
    for i, summary in enumerate(["公司拖欠工资三个月", "公司不给交社保", "加班不给加班费"]):
        reported = case(summary, on=date(2026, 6, 1) + timedelta(days=i))
        envelope = new_event(
            reported, subject=str(reported.case_id), producer="intake", actor=INTAKE
        )
        batch.add(envelope, reported, ledger.assess(reported, POLICY))
    [flag] = [p for p in (decode(encode(e))[1] for e in emitted) if isinstance(p, EmployerFlagged)]
    third = batch.decisions[-1].decision
    said = [flag.reason.text, *(r.text for r in third.reasons if r.rule == "employer.repeat")]
    assert len(said) == 2
    for text in said:
        assert "列为重复投诉单位" in text and "建议提请工会劳动法律监督" in text
        assert "已提请" not in text and "发送" not in text  # nobody has done either yet
