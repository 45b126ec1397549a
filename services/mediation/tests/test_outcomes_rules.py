"""Table tests of mediation's outcome rules: the 30-day confirmation window on the legal
calendar, the court, overdue instalments, payment-order eligibility and its court dates,
the instalment schedule and the agreement's checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from mediation.outcomes import (
    CourtChoice,
    InstalmentState,
    Item,
    PlannedInstalment,
    agreement_problems,
    confirmation_problems,
    confirmation_window,
    fulfilled,
    instalment_schedule,
    is_overdue,
    is_partial,
    payment_order_check,
    payment_order_dates,
    payment_problems,
    recovered,
)

from weiquan_shared.legal_calendar import LegalCalendar

LEGAL = LegalCalendar.load()
W1, W2, W3 = ("a" * 64, "b" * 64, "c" * 64)
D = date.fromisoformat


@pytest.mark.parametrize(
    ("effective_on", "nominal", "due_on", "why"),
    [
        ("2025-03-01", "2025-03-31", "2025-03-31", "a Monday: no roll-forward"),
        ("2025-09-26", "2025-10-26", "2025-10-27", "a Sunday rolls to Monday"),
        ("2025-09-07", "2025-10-07", "2025-10-09", "National Day holiday through 10-08"),
        ("2025-04-01", "2025-05-01", "2025-05-06", "Labour Day holiday 05-01..05-05"),
        ("2025-01-05", "2025-02-04", "2025-02-05", "Spring Festival through 02-04"),
        ("2024-12-31", "2025-01-30", "2025-02-05", "counted across the year into the holiday"),
    ],
)
def test_confirmation_window_is_30_days_on_the_legal_calendar(
    effective_on: str, nominal: str, due_on: str, why: str
) -> None:
    window = confirmation_window(D(effective_on), LEGAL)
    assert (window.nominal, window.due_on) == (D(nominal), D(due_on)), why
    assert window.review == ()
    assert window.open_on(window.due_on)
    assert not window.open_on(window.due_on + timedelta(days=1))


def test_confirmation_window_in_a_year_without_a_calendar_asks_for_review() -> None:
    window = confirmation_window(D("2026-12-20"), LEGAL)
    assert window.due_on == D("2027-01-19")
    assert window.review and "尚未录入" in window.review[0]


def _court(name: str = "深圳市南山区人民法院", basis: str = "organisation_seat", mid: bool = False):
    return CourtChoice(name, basis, mid)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("applied_on", "both", "court", "invited", "expect"),
    [
        ("2025-10-09", True, _court(), None, []),  # the last day, after roll-forward
        ("2025-10-10", True, _court(), None, ["已超过申请期限"]),
        ("2025-09-08", False, _court(), None, ["双方当事人共同申请"]),
        ("2025-09-06", True, _court(), None, ["早于协议生效日期"]),
        (
            "2025-09-10",
            True,
            _court(),
            "深圳市南山区人民法院",
            ["应向该法院申请司法确认"],
        ),
        ("2025-09-10", True, _court(basis="invited"), "深圳市南山区人民法院", []),
        ("2025-09-10", True, _court(basis="invited"), None, ["并非人民法院邀请调解"]),
        ("2025-09-10", True, _court("深圳市中级人民法院"), None, ["应向基层人民法院"]),
        ("2025-09-10", True, _court("深圳市中级人民法院", mid=True), None, []),
        ("2025-09-10", True, _court(mid=True), None, ["中级人民法院管辖"]),
    ],
)
def test_confirmation_application_rules(
    applied_on: str, both: bool, court: CourtChoice, invited: str | None, expect: list[str]
) -> None:
    problems = confirmation_problems(
        window=confirmation_window(D("2025-09-07"), LEGAL),
        applied_on=D(applied_on),
        today=D("2025-12-01"),
        both_parties=both,
        court=court,
        invited_court=invited,
        already_requested=False,
    )
    assert len(problems) == len(expect), problems
    for fragment, problem in zip(expect, problems, strict=True):
        assert fragment in problem


def _inst(number: int, due: str, amount: str, paid: str = "0") -> InstalmentState:
    return InstalmentState(number, D(due), Decimal(amount), Decimal(paid))


@pytest.mark.parametrize(
    ("instalment", "today", "overdue"),
    [
        (_inst(1, "2025-10-10", "5000"), "2025-10-10", False),  # the due day itself
        (_inst(1, "2025-10-10", "5000"), "2025-10-11", True),
        (_inst(1, "2025-10-10", "5000", "5000"), "2025-11-01", False),
        (_inst(1, "2025-10-10", "5000", "4999.99"), "2025-10-11", True),  # short by a fen
        (_inst(1, "2025-10-01", "5000"), "2025-10-02", True),  # a holiday: no roll-forward
    ],
)
def test_overdue(instalment: InstalmentState, today: str, overdue: bool) -> None:
    assert is_overdue(instalment, D(today)) is overdue


WAGES = Item(W1, "wages", Decimal("6000"))
OTHER = Item(W1, "other", Decimal("1000"), "交通费")


@pytest.mark.parametrize(
    ("items", "instalments", "confirmed", "eligible", "amount", "reason"),
    [
        ([WAGES, OTHER], [_inst(1, "2025-10-10", "7000")], False, True, "6000.00", None),
        (
            [WAGES, OTHER],
            [_inst(1, "2025-10-10", "3500", "3500"), _inst(2, "2025-11-10", "3500")],
            False,
            True,
            "3500.00",
            None,
        ),
        ([WAGES], [_inst(1, "2025-12-10", "6000")], False, False, "6000.00", "尚无逾期"),
        ([OTHER], [_inst(1, "2025-10-10", "1000")], False, False, "0.00", "没有劳动报酬"),
        ([WAGES], [_inst(1, "2025-10-10", "6000")], True, True, "6000.00", "强制执行"),
    ],
)
def test_payment_order_eligibility(
    items: list[Item],
    instalments: list[InstalmentState],
    confirmed: bool,
    eligible: bool,
    amount: str,
    reason: str | None,
) -> None:
    check = payment_order_check(
        items, instalments, D("2025-11-20"), confirmed=confirmed, already_applied=False
    )
    assert check.eligible is eligible
    assert check.amount == Decimal(amount)
    if reason is None:
        assert check.reasons == ()
    else:
        assert any(reason in r for r in check.reasons), check.reasons


def test_payment_order_court_dates() -> None:
    # Applied Fri 2025-09-26: 5 days end 10-01 (National Day) → 10-09; the order 15 days
    # from that latest acceptance: 10-24; the debtor's 15 days from service on 10-20: 11-04.
    dates = payment_order_dates(D("2025-09-26"), LEGAL, served_on=D("2025-10-20"))
    assert (dates.acceptance_notice_by, dates.order_by, dates.debtor_answer_by) == (
        D("2025-10-09"),
        D("2025-10-24"),
        D("2025-11-04"),
    )
    accepted = payment_order_dates(D("2025-09-26"), LEGAL, accepted_on=D("2025-09-29"))
    assert accepted.order_by == D("2025-10-14")


@pytest.mark.parametrize(
    ("total", "first", "count", "every", "expect"),
    [
        ("10000", "2025-10-31", 2, 1, [("2025-10-31", "5000.00"), ("2025-11-30", "5000.00")]),
        (
            "100",
            "2025-01-31",
            3,
            1,
            [("2025-01-31", "33.33"), ("2025-02-28", "33.33"), ("2025-03-31", "33.34")],
        ),
        ("8000.50", "2025-06-15", 1, 1, [("2025-06-15", "8000.50")]),
        ("9000", "2025-01-10", 2, 3, [("2025-01-10", "4500.00"), ("2025-04-10", "4500.00")]),
    ],
)
def test_instalment_schedule(
    total: str, first: str, count: int, every: int, expect: list[tuple[str, str]]
) -> None:
    plan = instalment_schedule(Decimal(total), D(first), count, every)
    assert [(p.due_on.isoformat(), str(p.amount)) for p in plan] == expect
    assert sum(p.amount for p in plan) == Decimal(total)
    assert [p.number for p in plan] == list(range(1, count + 1))


def _plan(*pairs: tuple[str, str]) -> list[PlannedInstalment]:
    return [PlannedInstalment(n + 1, D(d), Decimal(a)) for n, (d, a) in enumerate(pairs)]


GOOD_ITEMS = [Item(W1, "wages", Decimal("6000")), Item(W2, "compensation", Decimal("4000"))]


@pytest.mark.parametrize(
    ("items", "plan", "effective_on", "expect"),
    [
        (GOOD_ITEMS, _plan(("2025-10-10", "5000"), ("2025-11-10", "5000")), "2025-09-07", []),
        (GOOD_ITEMS, _plan(("2025-10-10", "5000")), "2025-09-07", ["不一致"]),
        (
            GOOD_ITEMS,
            _plan(("2025-10-10", "5000"), ("2025-10-01", "5000")),
            "2025-09-07",
            ["晚于上一期"],
        ),
        (GOOD_ITEMS, _plan(("2025-09-01", "10000")), "2025-09-07", ["早于协议生效日期"]),
        (
            [Item("d" * 64, "wages", Decimal(10))],
            _plan(("2025-10-10", "10")),
            "2025-09-07",
            ["不在本调解案件中"],
        ),
        (
            [Item(W1, "other", Decimal(10))],
            _plan(("2025-10-10", "10")),
            "2025-09-07",
            ["写明给付内容"],
        ),
        (
            [Item(W1, "wages", Decimal("999999999999.99")), Item(W2, "wages", Decimal(1))],
            _plan(("2025-10-10", "1000000000000.99")),
            "2025-09-07",
            ["超出可登记的范围"],
        ),
        (
            [Item(W1, "wages", Decimal(10)), Item(W1, "wages", Decimal(5))],
            _plan(("2025-10-10", "15")),
            "2025-09-07",
            ["重复填写"],
        ),
        (GOOD_ITEMS, _plan(("2025-12-10", "10000")), "2025-12-05", ["不能晚于今天"]),
        (GOOD_ITEMS, _plan(("2025-10-10", "10000")), "2025-08-01", ["早于调解组织收到申请"]),
        (
            [Item(W1, "wages", Decimal("10.005"))],
            _plan(("2025-10-10", "10.005")),
            "2025-09-07",
            ["精确到分", "精确到分"],
        ),
    ],
)
def test_agreement_problems(
    items: list[Item], plan: list[PlannedInstalment], effective_on: str, expect: list[str]
) -> None:
    problems = agreement_problems(
        items,
        plan,
        workers=[W1, W2, W3],
        effective_on=D(effective_on),
        received_on=D("2025-08-20"),
        today=D("2025-12-01"),
    )
    assert len(problems) == len(expect), problems
    for fragment, problem in zip(expect, problems, strict=True):
        assert fragment in problem


def test_partial_when_a_worker_has_no_item_or_the_mediator_says_so() -> None:
    assert is_partial(GOOD_ITEMS, [W1, W2, W3], declared_partial=False)
    assert not is_partial(GOOD_ITEMS, [W1, W2], declared_partial=False)
    assert is_partial(GOOD_ITEMS, [W1, W2], declared_partial=True)


def test_recovered_counts_payments_not_promises() -> None:
    instalments = [_inst(1, "2025-10-10", "5000", "5000"), _inst(2, "2025-11-10", "5000")]
    assert recovered(instalments) == Decimal("5000")
    assert not fulfilled(instalments)
    assert fulfilled([_inst(1, "2025-10-10", "5000", "5000")])


@pytest.mark.parametrize(
    ("paid_before", "amount", "paid_on", "expect"),
    [
        ("0", "5000", "2025-10-09", []),
        ("0", "4000", "2025-10-09", []),  # short: the instalment stays owed (overdue later)
        ("5000", "5000", "2025-10-09", ["已登记付款"]),
        ("0", "5000.01", "2025-10-09", ["超过第1期应付"]),
        ("0", "5000", "2025-12-02", ["不能晚于今天"]),
        ("0", "5000", "2025-09-01", ["早于协议生效日期"]),
        ("0", "0", "2025-10-09", ["必须大于0"]),
    ],
)
def test_payment_problems(paid_before: str, amount: str, paid_on: str, expect: list[str]) -> None:
    problems = payment_problems(
        _inst(1, "2025-10-10", "5000", paid_before),
        amount=Decimal(amount),
        paid_on=D(paid_on),
        effective_on=D("2025-09-07"),
        today=D("2025-12-01"),
    )
    assert len(problems) == len(expect), problems
    for fragment, problem in zip(expect, problems, strict=True):
        assert fragment in problem
