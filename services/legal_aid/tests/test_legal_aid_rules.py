"""Table tests: every eligibility rule passing and failing once, the clocks (E5 of
DOMAIN.md §11 included), the checklist and the lawyer choice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from legal_aid import clocks
from legal_aid.eligibility import Applicant, decide
from legal_aid.lawyers import PanelLawyer, choose
from legal_aid.rules import RuleBook
from weiquan_shared.legal_calendar import LegalCalendar

BOOK = RuleBook.load()
CAL = LegalCalendar.load()
ON = date(2025, 3, 12)
NANSHAN = "440305"


def _d(matter: str, **facts: object) -> tuple[str, list[str], tuple[str, ...]]:
    decision = decide(Applicant(matter=matter, district_code=NANSHAN, **facts), BOOK, ON)  # type: ignore[arg-type]
    return decision.outcome, decision.rule_ids, decision.reason_codes


POOR = {"household_size": 3, "monthly_household_income": Decimal("6000")}  # 2000 a head
RICH = {"household_size": 2, "monthly_household_income": Decimal("20000")}  # 10000 a head


@pytest.mark.parametrize(
    ("matter", "facts", "outcome", "rule", "reason"),
    [
        # matter.art31: in scope (wages, hardship) / a matter outside it
        ("labour_remuneration", POOR, "granted", "matter.art31", None),
        ("economic_compensation", POOR, "granted", "matter.union_scope", None),
        # matter.union_scope fails: nothing covers a non-labour matter
        ("family", POOR, "denied", "matter.union_scope", "out_of_scope"),
        # exemption.art32: a domestic-violence victim is exempt / without it the test runs
        (
            "social_insurance",
            {**RICH, "circumstances": ("domestic_violence",)},
            "granted",
            "exemption.art32",
            None,
        ),
        ("social_insurance", RICH, "denied", "hardship.440300", "income_above_standard"),
        # exemption.art42_migrant: migrant wage claim exempt / migrant social insurance is not
        (
            "labour_remuneration",
            {**RICH, "is_migrant_worker": True},
            "granted",
            "exemption.art42_migrant",
            None,
        ),
        (
            "social_insurance",
            {**RICH, "is_migrant_worker": True},
            "denied",
            "hardship.440300",
            "income_above_standard",
        ),
        ("work_injury", {"is_migrant_worker": True}, "granted", "exemption.art42_migrant", None),
        # hardship.440300: at the standard (2360 a head) passes, a fen above fails
        (
            "work_injury",
            {"household_size": 1, "monthly_household_income": Decimal("2360.00")},
            "granted",
            "hardship.440300",
            None,
        ),
        (
            "work_injury",
            {"household_size": 1, "monthly_household_income": Decimal("2360.01")},
            "denied",
            "hardship.440300",
            "income_above_standard",
        ),
        # no income given: not decided, the facts are asked for
        ("employment_relationship", {}, "incomplete", "hardship.440300", "hardship_unknown"),
    ],
)
def test_eligibility_rules(
    matter: str, facts: dict[str, object], outcome: str, rule: str, reason: str | None
) -> None:
    got, rules, reasons = _d(matter, **facts)
    assert got == outcome
    assert rule in rules
    assert (reason in reasons) if reason else reasons == ()


def test_province_standard_applies_outside_a_city_with_its_own() -> None:
    poor = Applicant(
        "social_insurance", "441302", household_size=2, monthly_household_income=Decimal("3800")
    )
    rich = Applicant(
        "social_insurance", "441302", household_size=2, monthly_household_income=Decimal("3802")
    )
    assert decide(poor, BOOK, ON).rule_ids == ["matter.art31", "hardship.440000"]
    assert decide(poor, BOOK, ON).outcome == "granted"
    assert decide(rich, BOOK, ON).outcome == "denied"


def test_a_denial_explains_itself_and_says_how_to_ask_for_review() -> None:
    decision = decide(Applicant("social_insurance", NANSHAN, **RICH), BOOK, ON)  # type: ignore[arg-type]
    text = "\n".join(decision.explanation)
    assert "高于当地法律援助经济困难标准" in text
    assert "人均10000.00元" in text and "人均2360.00元" in text
    assert "司法行政部门" in text and "异议" in text
    assert "未核实" in text  # the Shenzhen figure is a placeholder and says so


def test_unverified_rules_are_marked() -> None:
    assert not BOOK.rule("hardship.440300", ON).verified
    assert not BOOK.rule("hardship.440000", ON).verified
    assert BOOK.rule("matter.art31", ON).verified
    assert (
        decide(Applicant("work_injury", NANSHAN, is_migrant_worker=True), BOOK, ON)
        .rule_refs[1]
        .verified
    )


@pytest.mark.parametrize(
    ("limitation", "received", "left"),
    [
        (date(2025, 3, 17), date(2025, 3, 12), 5),  # E5
        (date(2025, 3, 18), date(2025, 3, 12), 6),
        (date(2025, 3, 19), date(2025, 3, 12), None),  # 7 days left: not "fewer than 7"
        (date(2025, 3, 12), date(2025, 3, 12), 0),
        (date(2025, 3, 11), date(2025, 3, 12), None),  # run out: a lawyer checks interruption
        (None, date(2025, 3, 12), None),
    ],
)
def test_provisional_aid_threshold(
    limitation: date | None, received: date, left: int | None
) -> None:
    assert clocks.provisional(limitation, received, BOOK) == left


@pytest.mark.parametrize(
    ("clock", "start", "due"),
    [
        (lambda s: clocks.decision_due(s, BOOK, CAL), date(2025, 3, 12), date(2025, 3, 19)),  # E5
        (
            lambda s: clocks.decision_due(s, BOOK, CAL),
            date(2025, 9, 24),
            date(2025, 10, 9),
        ),  # National Day
        (
            lambda s: clocks.assignment_due(s, BOOK, CAL),
            date(2025, 3, 19),
            date(2025, 3, 24),
        ),  # Sat → Mon
        (lambda s: clocks.assignment_due(s, BOOK, CAL), date(2025, 3, 17), date(2025, 3, 20)),
        (
            lambda s: clocks.acceptance_due(s, BOOK, CAL),
            date(2025, 4, 1),
            date(2025, 4, 7),
        ),  # 04-06: Qingming holiday → Mon
        (
            lambda s: clocks.award_due(s, False, BOOK, CAL),
            date(2025, 4, 1),
            date(2025, 5, 16),
        ),  # E4
        (lambda s: clocks.award_due(s, True, BOOK, CAL), date(2025, 4, 1), date(2025, 6, 3)),  # E4
        (lambda s: clocks.documents_due(s, BOOK, CAL), date(2025, 3, 12), date(2025, 3, 27)),
    ],
)
def test_clock_arithmetic(clock: Callable[[date], clocks.Clock], start: date, due: date) -> None:
    assert clock(start).due_on == due


def test_windows_after_an_award() -> None:
    final = clocks.after_award(date(2025, 6, 3), True, BOOK, CAL)
    assert [(c.kind, c.due_on) for c in final] == [
        ("sue_after_award", date(2025, 6, 18)),
        ("set_aside_final", date(2025, 7, 3)),
    ]
    non_final = clocks.after_award(date(2025, 6, 3), False, BOOK, CAL)
    assert [c.kind for c in non_final] == ["sue_after_award"]


def test_checklist_per_matter_and_exemption() -> None:
    checklist = BOOK.checklist
    assert checklist.required("work_injury", False) == [
        "identity",
        "application_form",
        "hardship_pledge",
        "employment_proof",
        "injury_recognition",
        "medical_records",
    ]
    assert "hardship_pledge" not in checklist.required("labour_remuneration", True)
    assert checklist.missing(
        "labour_remuneration", True, ["identity", "application_form", "employment_proof"]
    ) == ["wage_evidence"]


def _lw(code: str, **kw: object) -> PanelLawyer:
    base: dict[str, object] = {
        "kind": "contracted_firm",
        "firm_code": None,
        "districts": (NANSHAN,),
        "specialties": ("labour_remuneration",),
        "capacity": 5,
        "open_cases": 0,
    }
    base.update(kw)
    return PanelLawyer(code=code, **base)  # type: ignore[arg-type]


def test_lawyer_choice_balances_load_and_refuses_conflicts() -> None:
    busy = _lw("A", open_cases=4)
    light = _lw("B", open_cases=1)
    assert (
        choose(
            [busy, light],
            district_code=NANSHAN,
            matter="labour_remuneration",
            employer_credit_code=None,
        ).lawyer
        == light
    )
    conflicted = _lw("B", open_cases=1, acted_for=frozenset({"91440300MA5XXXXX1A"}))
    got = choose(
        [busy, conflicted],
        district_code=NANSHAN,
        matter="labour_remuneration",
        employer_credit_code="91440300MA5XXXXX1A",
    )
    assert got.lawyer == busy and got.skipped_for_conflict == ("B",)
    # the district's only specialist acted for the employer: a non-specialist of the district next
    generalist = _lw("C", specialties=("social_insurance",))
    got = choose(
        [conflicted, generalist],
        district_code=NANSHAN,
        matter="labour_remuneration",
        employer_credit_code="91440300MA5XXXXX1A",
    )
    assert got.lawyer == generalist
    # a lawyer who declined is not asked again; a full one is skipped; nobody left → None
    assert (
        choose(
            [light],
            district_code=NANSHAN,
            matter="labour_remuneration",
            employer_credit_code=None,
            declined=frozenset({"B"}),
        ).lawyer
        is None
    )
    assert choose(
        [_lw("D", open_cases=5)],
        district_code=NANSHAN,
        matter="labour_remuneration",
        employer_credit_code=None,
    ).full == ("D",)
    # union advisers before contracted firms on equal load
    adviser = _lw("Z", kind="union_adviser", open_cases=1)
    assert (
        choose(
            [light, adviser],
            district_code=NANSHAN,
            matter="labour_remuneration",
            employer_credit_code=None,
        ).lawyer
        == adviser
    )
