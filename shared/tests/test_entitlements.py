"""The entitlements calculator: DOMAIN.md E1, E4 and E6 as tables, edge cases, properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weiquan_shared.entitlements import (
    ClaimItem,
    ClaimKind,
    InvalidEntitlementInput,
    LocalWages,
    MissingWageFigure,
    Proration,
    ServiceLength,
    WageFigure,
    average_of_monthly_pay,
    double_wages,
    economic_compensation,
    final_award_test,
    service_length,
    unlawful_termination_damages,
)

MINIMUM = Decimal(2000)
AVERAGE = Decimal(10000)


def figure(rule_id: str, value: Decimal, effective_from: date, verified: bool = True) -> WageFigure:
    return WageFigure(rule_id, value, f"测试数据 {rule_id}", effective_from, verified)


# E1's figures: A = 10,000; a minimum wage below every wage in the table.
E1_WAGES = LocalWages(
    "test",
    "测试市",
    (figure("minimum", MINIMUM, date(2000, 1, 1)),),
    (figure("average", AVERAGE, date(2000, 1, 1)),),
)

STANDARD = (date(2021, 3, 1), date(2024, 9, 30))
LONG = (date(2008, 1, 1), date(2023, 3, 15))


@pytest.mark.parametrize(
    ("service", "wage", "months", "base", "compensation", "damages"),
    [
        (STANDARD, Decimal(8000), Decimal(4), Decimal(8000), Decimal(32000), Decimal(64000)),
        (STANDARD, Decimal(36000), Decimal(4), Decimal(30000), Decimal(120000), Decimal(240000)),
        (LONG, Decimal(8000), Decimal("15.5"), Decimal(8000), Decimal(124000), Decimal(248000)),
        (LONG, Decimal(36000), Decimal(12), Decimal(30000), Decimal(360000), Decimal(720000)),
    ],
)
def test_e1_compensation_and_damages(service, wage, months, base, compensation, damages) -> None:
    start, end = service
    result = economic_compensation(start, end, wage, E1_WAGES)
    assert (result.months, result.monthly_base, result.amount) == (months, base, compensation)
    assert unlawful_termination_damages(start, end, wage, E1_WAGES).amount == damages
    assert result.review == ()


def test_e1_explanation_names_each_step_and_its_rule() -> None:
    capped = economic_compensation(*STANDARD, Decimal(36000), E1_WAGES)
    assert capped.explanation[0].startswith(
        "工作年限3年7个月（2021-03-01至2024-09-30），按4个月计算"
    )
    assert "劳动合同法第四十七条" in capped.explanation[0]
    assert any("三倍（30,000.00元）" in line for line in capped.explanation)
    assert capped.explanation[-1] == "经济补偿：4 × 30,000.00 = 120,000.00元"
    assert "劳动合同法第四十七条" in capped.sources
    long = economic_compensation(*LONG, Decimal(8000), E1_WAGES)
    assert long.explanation[0].startswith("工作年限15年2个月15天")
    assert "按15.5个月计算" in long.explanation[0]
    damages = unlawful_termination_damages(*STANDARD, Decimal(8000), E1_WAGES)
    assert damages.explanation[-1].startswith("赔偿金：2 × 32,000.00 = 64,000.00元")
    assert "劳动合同法第八十七条" in damages.sources


@pytest.mark.parametrize(
    ("start", "end", "length", "months"),
    [
        # Exactly six months over full years: "六个月以上" includes six.
        (date(2022, 1, 1), date(2023, 6, 30), ServiceLength(18, 0), Decimal(2)),
        (date(2024, 1, 1), date(2024, 6, 30), ServiceLength(6, 0), Decimal(1)),
        # One day short of six months: half a month.
        (date(2024, 1, 1), date(2024, 6, 29), ServiceLength(5, 29), Decimal("0.5")),
        # Less than a month.
        (date(2024, 3, 1), date(2024, 3, 10), ServiceLength(0, 10), Decimal("0.5")),
        (date(2024, 3, 1), date(2024, 3, 1), ServiceLength(0, 1), Decimal("0.5")),
        # Exactly whole years: nothing added.
        (date(2020, 5, 15), date(2023, 5, 14), ServiceLength(36, 0), Decimal(3)),
        # Month ends as the Civil Code counts them (Art.202).
        (date(2024, 1, 31), date(2024, 2, 28), ServiceLength(1, 0), Decimal("0.5")),
    ],
)
def test_half_year_rule(start, end, length, months) -> None:
    assert service_length(start, end) == length
    assert economic_compensation(start, end, Decimal(5000), E1_WAGES).months == months


def test_short_service_averages_the_months_worked() -> None:
    five_months = [Decimal(6000), Decimal(6000), Decimal(7000), Decimal(7000), Decimal(9000)]
    assert average_of_monthly_pay(five_months) == Decimal(7000)
    fifteen_months = [Decimal(1)] * 3 + [Decimal(8000)] * 12
    assert average_of_monthly_pay(fifteen_months) == Decimal(8000)
    assert average_of_monthly_pay([Decimal(1000), Decimal(1000), Decimal(1001)]) == Decimal(
        "1000.33"
    )
    result = economic_compensation(
        date(2024, 1, 1), date(2024, 5, 31), average_of_monthly_pay(five_months), E1_WAGES
    )
    assert (result.months, result.amount) == (Decimal("0.5"), Decimal(3500))


def test_wage_below_the_minimum_is_raised_to_it() -> None:
    result = economic_compensation(*STANDARD, Decimal(1500), E1_WAGES)
    assert (result.monthly_base, result.amount) == (MINIMUM, Decimal(8000))
    assert any("低于测试市月最低工资标准2,000.00元" in line for line in result.explanation)


def test_rounded_to_the_fen_half_up() -> None:
    # 0.5 × 3,333.33 = 1,666.665 → 1,666.67
    result = economic_compensation(date(2024, 3, 1), date(2024, 3, 5), Decimal("3333.33"), E1_WAGES)
    assert result.amount == Decimal("1666.67")


def test_service_before_2008_is_flagged_not_computed() -> None:
    result = economic_compensation(date(2005, 7, 1), date(2010, 12, 31), Decimal(8000), E1_WAGES)
    assert result.counted_from == date(2008, 1, 1)
    assert (result.months, result.amount) == (Decimal(3), Decimal(24000))
    assert len(result.review) == 1
    assert "2005-07-01至2007-12-31" in result.review[0]
    assert "劳动合同法第九十七条" in result.sources
    # Damages count service from the start of employment (实施条例第二十五条).
    damages = unlawful_termination_damages(
        date(2005, 7, 1), date(2010, 12, 31), Decimal(8000), E1_WAGES
    )
    assert (damages.base.months, damages.amount) == (Decimal(6), Decimal(96000))
    only_old = economic_compensation(date(2000, 1, 1), date(2007, 6, 30), Decimal(8000), E1_WAGES)
    assert only_old.amount == Decimal(0)
    assert only_old.review


def test_wage_figures_in_force_on_the_end_date() -> None:
    wages = LocalWages(
        "test",
        "测试市",
        (
            figure("minimum.old", Decimal(2000), date(2020, 1, 1)),
            figure("minimum.new", Decimal(3000), date(2024, 7, 1), verified=False),
        ),
        (figure("average", AVERAGE, date(2020, 1, 1)),),
    )
    assert wages.minimum_wage_on(date(2024, 6, 30)).rule_id == "minimum.old"
    assert wages.minimum_wage_on(date(2024, 7, 1)).rule_id == "minimum.new"
    before = economic_compensation(date(2024, 1, 1), date(2024, 6, 30), Decimal(1000), wages)
    after = economic_compensation(date(2024, 1, 1), date(2024, 7, 1), Decimal(1000), wages)
    assert (before.monthly_base, before.review) == (Decimal(2000), ())
    assert after.monthly_base == Decimal(3000)
    assert after.review and "minimum.new" in after.review[0]
    with pytest.raises(MissingWageFigure, match="没有生效的测试市月最低工资标准"):
        wages.minimum_wage_on(date(2019, 12, 31))


def test_shenzhen_figures_are_configured_and_marked_unverified() -> None:
    shenzhen = LocalWages.load("440300")
    assert shenzhen.region_name == "深圳市"
    figures = shenzhen.minimum_monthly_wage + shenzhen.average_monthly_wage
    assert figures and not any(f.verified for f in figures)
    assert all("未核实" in f.source for f in figures)
    result = economic_compensation(date(2023, 1, 1), date(2025, 1, 1), Decimal(8000), shenzhen)
    assert len(result.review) == 2
    with pytest.raises(MissingWageFigure):
        LocalWages.load("000000")


@pytest.mark.parametrize(
    "call",
    [
        lambda: economic_compensation(date(2024, 2, 1), date(2024, 1, 31), Decimal(1), E1_WAGES),
        lambda: economic_compensation(date(2024, 1, 1), date(2024, 2, 1), Decimal(-1), E1_WAGES),
        lambda: average_of_monthly_pay([]),
        lambda: double_wages(date(2024, 1, 10), None, Decimal(5000), date(2024, 1, 9)),
        lambda: double_wages(date(2024, 1, 10), date(2024, 6, 1), Decimal(5000), date(2024, 5, 1)),
        lambda: final_award_test([], Decimal(2500)),
        lambda: final_award_test([ClaimItem(ClaimKind.LABOUR_REMUNERATION)], Decimal(2500)),
    ],
)
def test_bad_input_gets_a_chinese_message(call) -> None:
    with pytest.raises(InvalidEntitlementInput) as error:
        call()
    assert any("\u4e00" <= char <= "\u9fff" for char in str(error.value))


# --- E6: double wages -------------------------------------------------------------------------


def test_e6_double_wages() -> None:
    result = double_wages(date(2024, 1, 10), date(2024, 6, 20), Decimal(6000), date(2024, 7, 1))
    assert (result.owed_from, result.owed_to) == (date(2024, 2, 10), date(2024, 6, 19))
    # 4 months + 10 days of the 30-day monthly period 06-10..07-09.
    assert (result.months, result.days, result.amount) == (4, 10, Decimal(26000))
    assert result.deemed_open_ended_from is None
    assert any("2024-02-10至2024-06-19" in line for line in result.explanation)
    assert "另行支付的一倍工资：4 × 6,000.00 + 6,000.00 × 10 ÷ 30 = 26,000.00元" in (
        result.explanation
    )
    assert any("本系统的选择" in line for line in result.explanation)
    thirty = double_wages(
        date(2024, 1, 10), date(2024, 6, 20), Decimal(6100), date(2024, 7, 1), Proration.THIRTY_DAYS
    )
    assert thirty.amount == Decimal("26433.33")


@pytest.mark.parametrize(
    ("signed", "as_of", "owed", "months", "days", "deemed"),
    [
        # Signed within the first month: nothing owed.
        (date(2024, 2, 9), date(2024, 3, 1), None, 0, 0, None),
        # Signed on the day after the one-month mark: still nothing (owed to the day before).
        (date(2024, 2, 10), date(2024, 3, 1), None, 0, 0, None),
        (date(2024, 2, 11), date(2024, 3, 1), (date(2024, 2, 10), date(2024, 2, 10)), 0, 1, None),
        # Not signed yet, still within the first year: owed up to as_of.
        (None, date(2024, 5, 9), (date(2024, 2, 10), date(2024, 5, 9)), 3, 0, None),
        # Never signed: at most to the day before the one-year mark, then deemed open-ended.
        (None, date(2025, 6, 1), (date(2024, 2, 10), date(2025, 1, 8)), 10, 30, date(2025, 1, 9)),
        (
            date(2025, 3, 1),
            date(2025, 6, 1),
            (date(2024, 2, 10), date(2025, 1, 8)),
            10,
            30,
            date(2025, 1, 9),
        ),
    ],
)
def test_double_wages_period(signed, as_of, owed, months, days, deemed) -> None:
    result = double_wages(date(2024, 1, 10), signed, Decimal(3100), as_of)
    assert (result.owed_from, result.owed_to) == (owed or (None, None))
    assert (result.months, result.days, result.deemed_open_ended_from) == (months, days, deemed)
    if deemed:
        assert any("无固定期限劳动合同" in line for line in result.explanation)


# --- E4: the final-award test -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("wage_claim", "final", "item_finals"),
    [
        (Decimal(28000), True, (True, True)),
        (Decimal(31000), False, (False, True)),
        (Decimal(30000), True, (True, True)),  # "不超过" includes the threshold itself
    ],
)
def test_e4_final_award(wage_claim, final, item_finals) -> None:
    test = final_award_test(
        [
            ClaimItem(ClaimKind.LABOUR_REMUNERATION, wage_claim),
            ClaimItem(ClaimKind.ECONOMIC_COMPENSATION, Decimal(12000)),
        ],
        Decimal(2500),
    )
    assert test.threshold == Decimal(30000)
    assert test.final is final
    assert tuple(item.final for item in test.items) == item_finals
    assert len(test.explanation) == 4
    if not final:
        assert "按非终局裁决处理" in test.explanation[-1]


def test_final_award_labour_standards_and_other_claims() -> None:
    standards = final_award_test(
        [ClaimItem(ClaimKind.SOCIAL_INSURANCE), ClaimItem(ClaimKind.REST_AND_LEAVE)], Decimal(2500)
    )
    assert standards.final
    other = final_award_test(
        [ClaimItem(ClaimKind.OTHER, description="确认劳动关系"), ClaimItem(ClaimKind.WORKING_TIME)],
        Decimal(2500),
    )
    assert not other.final
    assert other.items[0].reason.startswith("不属于终局裁决事项")
    assert other.explanation[1].startswith("确认劳动关系：")
    only_other = final_award_test([ClaimItem(ClaimKind.OTHER)], Decimal(2500))
    assert not only_other.final
    assert "均不属终局裁决事项" in only_other.explanation[-1]


# --- Properties ---------------------------------------------------------------------------------

dates_since_2008 = st.dates(min_value=date(2008, 1, 1), max_value=date(2040, 12, 31))
wages = st.decimals(min_value=0, max_value=200000, places=2, allow_nan=False, allow_infinity=False)


@given(start=dates_since_2008, days=st.integers(0, 20000), wage=wages)
def test_capped_base_and_months(start, days, wage) -> None:
    result = economic_compensation(start, start + timedelta(days=days), wage, E1_WAGES)
    assert result.monthly_base <= 3 * AVERAGE
    if result.capped:
        assert result.months <= 12
    assert result.amount == (result.months * result.monthly_base).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


@given(
    start=dates_since_2008,
    days=st.integers(0, 20000),
    more=st.integers(1, 4000),
    earlier=st.integers(0, 4000),
    wage=wages,
)
def test_longer_service_never_pays_less(start, days, more, earlier, wage) -> None:
    end = start + timedelta(days=days)
    shorter = economic_compensation(start, end, wage, E1_WAGES)
    assert economic_compensation(start, end + timedelta(days=more), wage, E1_WAGES).amount >= (
        shorter.amount
    )
    earlier_start = max(date(2008, 1, 1), start - timedelta(days=earlier))
    assert economic_compensation(earlier_start, end, wage, E1_WAGES).amount >= shorter.amount


@given(start=dates_since_2008, days=st.integers(0, 20000), wage=wages)
def test_damages_are_twice_compensation(start, days, wage) -> None:
    end = start + timedelta(days=days)
    compensation = economic_compensation(start, end, wage, E1_WAGES)
    assert (
        unlawful_termination_damages(start, end, wage, E1_WAGES).amount == 2 * compensation.amount
    )


@given(
    start=dates_since_2008,
    signed_after=st.one_of(st.none(), st.integers(0, 1000)),
    as_of_after=st.integers(0, 1500),
    wage=wages,
    proration=st.sampled_from(Proration),
)
def test_double_wages_never_above_eleven_months(
    start, signed_after, as_of_after, wage, proration
) -> None:
    as_of = start + timedelta(days=max(as_of_after, signed_after or 0))
    signed = None if signed_after is None else start + timedelta(days=signed_after)
    result = double_wages(start, signed, wage, as_of, proration)
    assert result.months <= 10 or (result.months == 11 and result.days == 0)
    assert result.amount <= 11 * wage
