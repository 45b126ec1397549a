# Table-driven: keyword arguments come from dicts of mixed types.
# mypy: disable-error-code="arg-type"
"""Mediation's rules without a broker or a database: assignment rules as a table, the two
clocks (DOMAIN.md E3 and the regulation's clock), extensions, membership, the consent gate."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from mediation.clocks import (
    ClockPolicy,
    ExtensionRefused,
    check_extension,
    compute_clocks,
    expired_clocks,
)
from mediation.membership import CaseState, closing_result, distinct_workers, plan
from mediation.rules import (
    DEFAULT_RULES,
    AssignmentBook,
    Dispute,
    MediatorLoad,
    choose_lead,
)
from mediation.visibility import may_see_mediation

from weiquan_shared.auth import Organisation, Principal, Role
from weiquan_shared.consent import case_gate
from weiquan_shared.envelope import Actor, new_event
from weiquan_shared.events import (
    CaseGrouped,
    CaseRetriaged,
    CaseTriaged,
    CaseVoided,
    EmployerRef,
    TriageReason,
)
from weiquan_shared.events.triage import DecisionSnapshot
from weiquan_shared.legal_calendar import LegalCalendar

BOOK = AssignmentBook.load()
POLICY = ClockPolicy.load()
CALENDAR = LegalCalendar.load()
FIVE = ("union", "peoples_court", "labour_bureau", "procuratorate", "justice_bureau")


def dispute(**overrides: object) -> Dispute:
    base: dict[str, object] = {
        "category": "wage_arrears",
        "district_code": "440305",
        "route_detail": "mediation.union",
        "worker_count": 1,
        "claim_amount": Decimal("18000"),
        "sensitive": False,
    }
    return Dispute(**{**base, **overrides})


# ---------------------------------------------------------------- assignment rules


@pytest.mark.parametrize(
    ("facts", "rule", "organisations", "lead"),
    [
        ({}, "assign.union", ("union",), "union"),
        ({"worker_count": 9}, "assign.union", ("union",), "union"),
        ({"worker_count": 10}, "assign.five_party.group", FIVE, "union"),
        ({"worker_count": 12, "route_detail": "mediation.labour_bureau"},
         "assign.five_party.group", FIVE, "union"),
        ({"sensitive": True}, "assign.five_party.sensitive", FIVE, "union"),
        ({"claim_amount": Decimal("299999.99")}, "assign.union", ("union",), "union"),
        ({"claim_amount": Decimal("300000")}, "assign.five_party.large_claim", FIVE, "union"),
        ({"claim_amount": None}, "assign.union", ("union",), "union"),
        ({"route_detail": "mediation.court_union_room"},
         "assign.court_union_room", ("union", "peoples_court"), "union"),
        ({"route_detail": "mediation.labour_bureau"},
         "assign.labour_bureau_room", ("labour_bureau", "union"), "labour_bureau"),
        ({"category": "work_injury"}, "assign.work_injury", ("union", "labour_bureau"), "union"),
        ({"route_detail": "mediation.industry_committee", "district_code": "440306"},
         "assign.union", ("union",), "union"),
    ],
)  # fmt: skip
def test_assignment_rules_table(
    facts: dict[str, object], rule: str, organisations: tuple[str, ...], lead: str
) -> None:
    chosen = BOOK.choose(dispute(**facts))
    assert (chosen.rule_id, chosen.organisations, chosen.lead_organisation) == (
        rule,
        organisations,
        lead,
    )
    assert chosen.five_party == (set(organisations) == set(FIVE))


def test_district_condition_and_a_rule_file_that_cannot_match_everything(tmp_path: Path) -> None:
    raw = json.loads(DEFAULT_RULES.read_text("utf-8"))
    raw["rules"].insert(
        0,
        {
            "rule_id": "assign.baoan.labour_bureau",
            "when": {"districts": ["440306"], "categories": ["overtime"]},
            "organisations": ["labour_bureau", "union"],
            "lead_organisation": "labour_bureau",
        },
    )
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw), "utf-8")
    book = AssignmentBook.load(path)
    assert book.choose(dispute(district_code="440306", category="overtime")).rule_id == (
        "assign.baoan.labour_bureau"
    )
    assert book.choose(dispute(district_code="440305", category="overtime")).rule_id == (
        "assign.union"
    )
    raw["rules"] = raw["rules"][:-1]
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(ValueError, match="must match every dispute"):
        AssignmentBook.load(path)
    catch_all = {"rule_id": "x", "when": {}, "organisations": ["union"],
                 "lead_organisation": "union"}  # fmt: skip
    raw["rules"] = [{**raw["rules"][0], "lead_organisation": "justice_bureau"}, catch_all]
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(ValueError, match="the lead must take part"):
        AssignmentBook.load(path)


def test_lead_is_the_least_loaded_mediator_of_the_lead_organisation_in_the_district() -> None:
    roster = [
        MediatorLoad("court-1", "法官甲", "peoples_court", ("440305",), 0),
        MediatorLoad("union-b", "调解员乙", "union", ("440305",), 2),
        MediatorLoad("union-a", "调解员甲", "union", ("440305", "440306"), 2),
        MediatorLoad("union-c", "调解员丙", "union", ("440306",), 0),
    ]
    chosen = BOOK.choose(dispute(route_detail="mediation.court_union_room"))
    lead = choose_lead(chosen, "440305", roster)
    assert lead is not None and lead.subject == "union-a"  # a tie: the first subject
    assert choose_lead(chosen, "440307", roster) is None


# ---------------------------------------------------------------- clocks


@pytest.mark.parametrize(
    ("received", "due", "review"),
    [
        (date(2025, 3, 7), date(2025, 3, 24), False),  # day 15 a Saturday → Monday
        (date(2025, 9, 22), date(2025, 10, 9), False),  # National Day → Thursday
        (date(2025, 9, 26), date(2025, 10, 11), True),  # a make-up workday: flagged
    ],
)
def test_statutory_clock_e3(received: date, due: date, review: bool) -> None:
    statutory, regulation = compute_clocks(POLICY, CALENDAR, received_on=received, accepted_on=None)
    assert statutory.kind == "statutory_receipt" and statutory.verified is True
    assert statutory.due_on == due
    assert bool(statutory.review) is review
    assert regulation.starts_on is None and regulation.due_on is None


def test_regulation_clock_from_acceptance_and_extended() -> None:
    _, regulation = compute_clocks(
        POLICY, CALENDAR, received_on=date(2025, 3, 3), accepted_on=date(2025, 3, 5)
    )
    assert regulation.verified is False
    assert regulation.due_on == date(2025, 3, 20)  # 15 days, a Thursday
    _, extended = compute_clocks(
        POLICY,
        CALENDAR,
        received_on=date(2025, 3, 3),
        accepted_on=date(2025, 3, 5),
        extended_days=10,
    )
    assert extended.due_on == date(2025, 3, 31)  # 25 days: Sunday 3-30 → Monday
    assert extended.extended_days == 10


def test_expired_clocks_run_to_the_end_of_their_day() -> None:
    clocks = compute_clocks(
        POLICY, CALENDAR, received_on=date(2025, 3, 7), accepted_on=date(2025, 3, 10)
    )
    assert expired_clocks(clocks, date(2025, 3, 24)) == []
    assert [c.kind for c in expired_clocks(clocks, date(2025, 3, 25))] == ["statutory_receipt"]
    assert len(expired_clocks(clocks, date(2025, 3, 26))) == 2


def test_extension_needs_both_parties_consent() -> None:
    args = {"accepted_on": date(2025, 3, 5), "extended_days": 0, "today": date(2025, 3, 12)}
    with pytest.raises(ExtensionRefused, match="尚未记录用人单位方的同意"):
        check_extension(
            POLICY, days=5, workers_consented_on=date(2025, 3, 10), employer_consented_on=None,
            **args,
        )  # fmt: skip
    with pytest.raises(ExtensionRefused, match="职工方、用人单位方"):
        check_extension(
            POLICY, days=5, workers_consented_on=None, employer_consented_on=None, **args
        )
    with pytest.raises(ExtensionRefused, match="尚未受理"):
        check_extension(
            POLICY, days=5, accepted_on=None, extended_days=0, today=date(2025, 3, 12),
            workers_consented_on=date(2025, 3, 10), employer_consented_on=date(2025, 3, 10),
        )  # fmt: skip
    with pytest.raises(ExtensionRefused, match="最多还可延长5日"):
        check_extension(
            POLICY, days=6, accepted_on=date(2025, 3, 5), extended_days=10,
            today=date(2025, 3, 12), workers_consented_on=date(2025, 3, 10),
            employer_consented_on=date(2025, 3, 11),
        )  # fmt: skip
    check_extension(
        POLICY, days=5, workers_consented_on=date(2025, 3, 10),
        employer_consented_on=date(2025, 3, 11), **args,
    )  # fmt: skip


def test_the_statutory_clock_may_not_be_made_extendable(tmp_path: Path) -> None:
    raw = json.loads((Path(__file__).parents[1] / "mediation" / "clocks.json").read_text("utf-8"))
    raw["clocks"][0]["extendable"] = True
    path = tmp_path / "clocks.json"
    path.write_text(json.dumps(raw), "utf-8")
    with pytest.raises(ValueError, match="cannot be extendable"):
        ClockPolicy.load(path)


# ---------------------------------------------------------------- membership


def _triaged(case_id: uuid.UUID, detail: str = "mediation.union", **kw: object) -> CaseTriaged:
    return CaseTriaged(
        case_id=case_id,
        case_number=f"440305-2026-{case_id.int % 10**6:06d}",
        category="wage_arrears",
        urgency="urgent",
        route=detail.split(".")[0],
        route_detail=detail,
        reasons=[TriageReason(rule="r", text="t")],
        triaged_at=datetime(2026, 3, 2, 2, tzinfo=UTC),
        **kw,
    )


def _apply(case: CaseState, payload: object) -> None:
    envelope = new_event(payload, subject=str(case.case_id), producer="t", actor=Actor.system("t"))
    case.apply(envelope, payload)


def _known(case_id: uuid.UUID) -> CaseState:
    case = CaseState(case_id, district_code="440305", workers=[{"worker_ref": case_id.hex * 2}])
    _apply(case, _triaged(case_id))
    return case


def test_a_case_triaged_before_its_group_moves_into_the_groups_mediation() -> None:
    early, late = _known(uuid.uuid4()), CaseState(uuid.uuid4(), district_code="440305")
    single = uuid.uuid4()
    early.mediation_id = single
    group_id = uuid.uuid4()
    _apply(late, _triaged(late.case_id, "mediation.court_union_room", group_id=group_id))
    grouped = CaseGrouped(
        group_id=group_id, group_number="QT-440305-2026-000001",
        employer=EmployerRef(name="某公司", district_code="440305"), category="wage_arrears",
        case_ids=[early.case_id, late.case_id], case_numbers=["a", "b"],
        new_case_ids=[late.case_id], worker_count=2, formed_at=datetime.now(UTC),
        reason=TriageReason(rule="urgency.group_dispute", text="群体"),
    )  # fmt: skip
    early.join_group(grouped, 0)
    cases = {early.case_id: early, late.case_id: late}
    moves = plan([early.case_id, late.case_id], cases, {single: ("case", early.case_id)}, set())
    assert {(m.case_id, m.from_key, m.to_key, m.reason) for m in moves} == {
        (early.case_id, single, ("group", group_id), "merged"),
        (late.case_id, None, ("group", group_id), None),
    }
    # Replayed with both already in the group's mediation: nothing moves.
    holder = uuid.uuid4()
    early.mediation_id = late.mediation_id = holder
    assert plan([early.case_id, late.case_id], cases, {holder: ("group", group_id)}, set()) == []


def test_retriage_away_and_voiding_leave_and_an_older_decision_is_ignored() -> None:
    case = _known(uuid.uuid4())
    holder = uuid.uuid4()
    case.mediation_id = holder
    away = CaseRetriaged(
        case_id=case.case_id, case_number="n", category="wage_arrears", urgency="urgent",
        route="legal_aid", route_detail="legal_aid.union", reasons=[], note="改法援",
        previous=DecisionSnapshot(category="wage_arrears", urgency="urgent", route="mediation"),
        retriaged_by="officer", retriaged_at=datetime.now(UTC), decision_seq=3,
    )  # fmt: skip
    _apply(case, away)
    [move] = plan([case.case_id], {case.case_id: case}, {holder: ("case", case.case_id)}, set())
    assert (move.to_key, move.reason) == (None, "retriaged")
    # Decision 2 arrives late (another topic): decision 3 stays current.
    back = away.model_copy(update={"route": "mediation", "route_detail": "mediation.union",
                                   "decision_seq": 2})  # fmt: skip
    _apply(case, back)
    assert case.route == "legal_aid" and case.decision_seq == 3

    voided = _known(uuid.uuid4())
    voided.mediation_id = holder
    _apply(voided, CaseVoided(case_id=voided.case_id, case_number="v", district_code="440305",
                              reason="duplicate", voided_at=datetime.now(UTC)))  # fmt: skip
    [move] = plan([voided.case_id], {voided.case_id: voided}, {holder: ("case", voided.case_id)},
                  set())  # fmt: skip
    assert (move.to_key, move.reason) == (None, "voided")
    assert closing_result(["voided"]) == "voided"
    assert closing_result(["retriaged", "voided"]) == "handed_on"
    assert closing_result(["voided", "merged"]) == "merged"


def test_a_case_whose_mediation_ended_stays_unless_triage_decides_again() -> None:
    case = _known(uuid.uuid4())
    case.mediation_id = uuid.uuid4()  # closed: not among the open holders
    assert plan([case.case_id], {case.case_id: case}, {}, set()) == []
    [move] = plan([case.case_id], {case.case_id: case}, {}, {case.case_id})
    assert move.from_key is None and move.to_key == ("case", case.case_id)


def test_facts_missing_keep_a_case_out_until_intake_speaks() -> None:
    case = CaseState(uuid.uuid4())
    _apply(case, _triaged(case.case_id))
    assert case.belongs_to() is None  # triaged, but case.reported not yet heard
    case.district_code = "440305"
    assert case.belongs_to() == ("case", case.case_id)


def test_a_worker_in_two_cases_counts_once() -> None:
    a = CaseState(uuid.uuid4(), workers=[{"worker_ref": "a" * 64}, {"worker_ref": "b" * 64}])
    b = CaseState(uuid.uuid4(), workers=[{"worker_ref": "a" * 64}])
    assert len(distinct_workers([a, b])) == 2


# ---------------------------------------------------------------- who sees what


def _principal(role: Role, org: Organisation | None, subject: str = "me") -> Principal:
    return Principal(subject, "某人", role, org, ("440305",), "https://issuer")


@pytest.mark.parametrize(
    ("org", "scopes", "allowed", "says"),
    [
        (Organisation.UNION, [], True, None),
        (Organisation.PEOPLES_COURT, [], False, "尚未记录职工同意向人民法院提供个人信息"),
        (Organisation.PEOPLES_COURT, ["labour_bureau"], False, "人民法院"),
        (Organisation.PEOPLES_COURT, ["court"], True, None),
        (Organisation.LABOUR_BUREAU, ["court"], False, "人力资源和社会保障局"),
        (Organisation.LABOUR_BUREAU, ["labour_bureau"], True, None),
        (Organisation.PROCURATORATE, ["court", "labour_bureau"], False, "不在可同意的范围内"),
    ],
)
def test_consent_gate(
    org: Organisation, scopes: list[str], allowed: bool, says: str | None
) -> None:
    gate = case_gate(_principal(Role.MEDIATOR, org), scopes)
    assert gate.allowed is allowed
    if says:
        assert gate.missing is not None and says in gate.missing
    assert case_gate(_principal(Role.SUPERVISOR, Organisation.UNION), []).allowed


def test_a_mediator_sees_their_sessions_and_organisation_within_their_districts() -> None:
    court = _principal(Role.MEDIATOR, Organisation.PEOPLES_COURT, "court-1")
    facts = {"district_code": "440305", "lead_mediator_id": "union-1", "session_mediators": set()}
    assert may_see_mediation(court, organisations=["union", "peoples_court"], **facts)
    assert not may_see_mediation(court, organisations=["union"], **facts)
    in_session = {**facts, "session_mediators": {"court-1"}}
    assert may_see_mediation(court, organisations=["union"], **in_session)
    elsewhere = {**facts, "district_code": "440306", "session_mediators": {"court-1"}}
    assert not may_see_mediation(court, organisations=["peoples_court"], **elsewhere)
    operator = _principal(Role.OPERATOR, Organisation.UNION)
    assert not may_see_mediation(operator, organisations=["union"], **facts)


def test_received_on_is_the_china_day_of_the_routing() -> None:
    case = CaseState(uuid.uuid4(), district_code="440305")
    payload = _triaged(case.case_id)
    late_evening = payload.model_copy(
        update={"triaged_at": datetime(2026, 3, 1, 17, 30, tzinfo=UTC)}
    )
    _apply(case, late_evening)
    assert case.received_on == date(2026, 3, 2)  # 01:30 in China the next day
    assert case.received_on - timedelta(days=1) == date(2026, 3, 1)
