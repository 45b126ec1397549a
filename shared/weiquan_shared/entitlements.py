"""The entitlements calculator: what a worker is owed, with every step explained in Chinese.

Pure functions, no I/O (the local wage figures are loaded by the caller with
:meth:`LocalWages.load`). Rules from shared/DOMAIN.md §1 and §5, each cited in the results:

- Art.47 economic compensation (劳动合同法第四十七条; 实施条例第二十七条): one month's wage
  per full year of service; a remainder of six months or more counts as a year, less than six
  months as half a month. The monthly wage is floored at the local minimum wage; above three
  times the prior-year local average monthly wage it is capped there and the months at 12.
  Service before 2008-01-01 follows the rules of the time (Art.97), which are unverified: it
  is left out of the amount and flagged for a person to check.
- Art.87 damages: twice the Art.47 amount, with service counted from the start of employment
  (实施条例第二十五条), paid instead of compensation.
- Art.82 double wages (实施条例第六、七条): from the day after the one-month mark to the day
  before the contract is signed, at most up to the day before the one-year mark, when an
  open-ended contract is deemed concluded.
- The final-award test (调解仲裁法第四十七条; 最高法劳动争议解释（一）第十九、二十条), item
  by item; a mixed award is non-final.

Counting service. The day employment starts (用工之日) is the first day of service, and a
month of service ends the day before the same-numbered day of the next month, with month ends
as the Civil Code counts them (Art.202, :func:`weiquan_shared.legal_calendar.add_period`):
service from 2021-03-01 to 2024-09-30 is 3 years 7 months, and the one-month mark of an
employment started 2024-01-10 is 2024-02-09, so double wages start on 2024-02-10 (DOMAIN.md
E6). The same reading makes the Art.82 period at most 11 months less one day (its last day is
the day before the one-year mark).

Money is :class:`~decimal.Decimal`, rounded to the fen with ROUND_HALF_UP once, on the amount.
Bad input raises :class:`InvalidEntitlementInput` with a Chinese message a person can act on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path

from weiquan_shared.legal_calendar import add_period

DEFAULT_LOCAL_WAGES = Path(__file__).with_name("local_wages.json")

LABOUR_CONTRACT_LAW_IN_FORCE = date(2008, 1, 1)
FEN = Decimal("0.01")
COMPENSATION_CAP_MONTHS = Decimal(12)
AVERAGE_WAGE_CAP_MULTIPLE = Decimal(3)
FINAL_AWARD_MINIMUM_WAGE_MONTHS = Decimal(12)
DOUBLE_WAGES_FIRST_MONTH = 1
DOUBLE_WAGES_ONE_YEAR = 12

LCL_47 = "劳动合同法第四十七条"
LCL_82 = "劳动合同法第八十二条"
LCL_87 = "劳动合同法第八十七条"
LCL_97 = "劳动合同法第九十七条"
LCLR_6_7 = "劳动合同法实施条例第六条、第七条"
LCLR_25 = "劳动合同法实施条例第二十五条"
LCLR_27 = "劳动合同法实施条例第二十七条"
LDA_47 = "劳动争议调解仲裁法第四十七条"
SPC1_19 = "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）第十九条"
SPC1_20 = "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）第二十条"


class InvalidEntitlementInput(ValueError):
    """Input the calculator cannot work with; the message is Chinese, for the person."""


class MissingWageFigure(LookupError):
    """No local wage figure in force on the date asked; the message is Chinese."""


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _months_text(months: Decimal) -> str:
    return str(int(months)) if months == months.to_integral_value() else str(months)


# --- Local wages: configuration with source and effective date ---------------------------


@dataclass(frozen=True)
class WageFigure:
    rule_id: str
    value: Decimal
    source: str
    effective_from: date
    verified: bool

    def citation(self, what: str) -> str:
        status = "已核实" if self.verified else "未核实"
        since = self.effective_from.isoformat()
        return f"{what}（{self.rule_id}，{since}起，{status}）：{self.source}"


@dataclass(frozen=True)
class LocalWages:
    """A region's minimum and prior-year average monthly wages, each a dated series."""

    region_code: str
    region_name: str
    minimum_monthly_wage: tuple[WageFigure, ...]
    average_monthly_wage: tuple[WageFigure, ...]

    @classmethod
    def load(cls, region_code: str, path: Path = DEFAULT_LOCAL_WAGES) -> LocalWages:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for region in raw["regions"]:
            if region["code"] == region_code:
                return cls(
                    region_code=region_code,
                    region_name=region["name"],
                    minimum_monthly_wage=_figures(region["minimum_monthly_wage"]),
                    average_monthly_wage=_figures(region["average_monthly_wage"]),
                )
        raise MissingWageFigure(f"地区{region_code}尚未配置最低工资和平均工资标准")

    def minimum_wage_on(self, day: date) -> WageFigure:
        return _in_force(self.minimum_monthly_wage, day, f"{self.region_name}月最低工资标准")

    def average_wage_on(self, day: date) -> WageFigure:
        return _in_force(self.average_monthly_wage, day, f"{self.region_name}上年度职工月平均工资")


def _figures(entries: list[dict[str, object]]) -> tuple[WageFigure, ...]:
    return tuple(
        WageFigure(
            rule_id=str(entry["rule_id"]),
            value=Decimal(str(entry["value"])),
            source=str(entry["source"]),
            effective_from=date.fromisoformat(str(entry["effective_from"])),
            verified=bool(entry["verified"]),
        )
        for entry in entries
    )


def _in_force(figures: Sequence[WageFigure], day: date, what: str) -> WageFigure:
    """The figure with the latest ``effective_from`` on or before ``day``."""
    in_force = [figure for figure in figures if figure.effective_from <= day]
    if not in_force:
        raise MissingWageFigure(f"{day.isoformat()}没有生效的{what}，请先在配置中补充")
    return max(in_force, key=lambda figure: figure.effective_from)


# --- Service length and the half-year rule --------------------------------------------------


def month_mark(start: date, months: int) -> date:
    """The last day of ``months`` full months of service begun on ``start`` (满N个月之日)."""
    return add_period(start, months, "months") - timedelta(days=1)


@dataclass(frozen=True)
class ServiceLength:
    """Full months of service, and the days served after the last full month."""

    months: int
    days: int

    @property
    def years(self) -> int:
        return self.months // 12

    @property
    def remainder_months(self) -> int:
        return self.months % 12

    def text(self) -> str:
        parts = []
        if self.years:
            parts.append(f"{self.years}年")
        if self.remainder_months:
            parts.append(f"{self.remainder_months}个月")
        if self.days or not parts:
            parts.append(f"{self.days}天")
        return "".join(parts)

    def compensation_months(self) -> Decimal:
        """The half-year rule of Art.47: ≥ 6 months (以上, inclusive) is a year, less is half."""
        if self.remainder_months >= 6:
            return Decimal(self.years + 1)
        if self.remainder_months or self.days:
            return Decimal(self.years) + Decimal("0.5")
        return Decimal(self.years)


def service_length(start: date, end: date) -> ServiceLength:
    """Service from ``start`` to ``end``, both days worked."""
    if end < start:
        raise InvalidEntitlementInput("离职日期不能早于入职（用工）日期")
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    while months > 0 and month_mark(start, months) > end:
        months -= 1
    return ServiceLength(months, (end - month_mark(start, months)).days)


def average_of_monthly_pay(monthly_pay: Sequence[Decimal]) -> Decimal:
    """The average of the last 12 months' pay (bonuses, allowances and piece wages included,
    实施条例第二十七条), or of the months actually worked when there are fewer; oldest first."""
    if not monthly_pay:
        raise InvalidEntitlementInput("请至少填写一个月的工资")
    if any(pay < 0 for pay in monthly_pay):
        raise InvalidEntitlementInput("月工资不能为负数")
    counted = monthly_pay[-12:]
    return to_fen(sum(counted, Decimal(0)) / len(counted))


# --- Art.47 economic compensation and Art.87 damages ---------------------------------------


@dataclass(frozen=True)
class Compensation:
    """An Art.47 amount; ``review`` lists what a person must check before relying on it."""

    counted_from: date
    end: date
    service: ServiceLength
    months: Decimal
    monthly_base: Decimal
    capped: bool
    amount: Decimal
    explanation: tuple[str, ...]
    sources: tuple[str, ...]
    review: tuple[str, ...]


@dataclass(frozen=True)
class Damages:
    """Art.87 damages: twice ``base``, the Art.47 amount with service from the start."""

    base: Compensation
    amount: Decimal
    explanation: tuple[str, ...]
    sources: tuple[str, ...]
    review: tuple[str, ...]


def economic_compensation(
    start: date, end: date, average_monthly_wage: Decimal, wages: LocalWages
) -> Compensation:
    """Art.47 economic compensation for employment from ``start`` to ``end`` (last day worked).

    ``average_monthly_wage`` is the worker's average over the 12 months before the end
    (:func:`average_of_monthly_pay`). Service before 2008-01-01 is not counted but flagged.
    """
    _check_employment(start, end, average_monthly_wage)
    if start >= LABOUR_CONTRACT_LAW_IN_FORCE:
        return _article_47(start, end, average_monthly_wage, wages)
    old_rules = (
        f"{start.isoformat()}至2007-12-31的工作年限依当时有关规定计算经济补偿（{LCL_97}），"
        "旧规定的计算方法未经核实，本计算未包含该段年限，请人工核实"
    )
    if end < LABOUR_CONTRACT_LAW_IN_FORCE:
        return Compensation(
            counted_from=LABOUR_CONTRACT_LAW_IN_FORCE,
            end=end,
            service=ServiceLength(0, 0),
            months=Decimal(0),
            monthly_base=Decimal(0),
            capped=False,
            amount=to_fen(Decimal(0)),
            explanation=(old_rules, "2008年1月1日后无工作年限，本计算金额为0"),
            sources=(LCL_97,),
            review=(old_rules,),
        )
    counted = _article_47(LABOUR_CONTRACT_LAW_IN_FORCE, end, average_monthly_wage, wages)
    return replace(
        counted,
        explanation=(old_rules, *counted.explanation),
        sources=(*counted.sources, LCL_97),
        review=(old_rules, *counted.review),
    )


def unlawful_termination_damages(
    start: date, end: date, average_monthly_wage: Decimal, wages: LocalWages
) -> Damages:
    """Art.87 damages for an unlawful termination: 2 × Art.47, service from the start."""
    _check_employment(start, end, average_monthly_wage)
    base = _article_47(start, end, average_monthly_wage, wages)
    amount = to_fen(2 * base.amount)
    explanation = (
        f"违法解除或者终止劳动合同的，按经济补偿标准的二倍支付赔偿金，"
        f"工作年限自用工之日（{start.isoformat()}）起计算（{LCL_87}、{LCLR_25}）",
        *base.explanation,
        f"赔偿金：2 × {yuan(base.amount)} = {yuan(amount)}元；"
        f"支付赔偿金的，不再支付经济补偿（{LCLR_25}）",
    )
    return Damages(
        base=base,
        amount=amount,
        explanation=explanation,
        sources=(LCL_87, LCLR_25, *base.sources),
        review=base.review,
    )


def _check_employment(start: date, end: date, average_monthly_wage: Decimal) -> None:
    if end < start:
        raise InvalidEntitlementInput("离职日期不能早于入职（用工）日期")
    if average_monthly_wage < 0:
        raise InvalidEntitlementInput("月平均工资不能为负数")


def _article_47(
    counted_from: date, end: date, average_monthly_wage: Decimal, wages: LocalWages
) -> Compensation:
    service = service_length(counted_from, end)
    months = service.compensation_months()
    minimum = wages.minimum_wage_on(end)
    average = wages.average_wage_on(end)
    cap = AVERAGE_WAGE_CAP_MULTIPLE * average.value
    explanation = [
        f"工作年限{service.text()}（{counted_from.isoformat()}至{end.isoformat()}），"
        f"按{_months_text(months)}个月计算（{LCL_47}：每满一年支付一个月工资；"
        "六个月以上不满一年的按一年计算；不满六个月的支付半个月工资）",
        f"月工资为解除或者终止劳动合同前十二个月的平均工资（含奖金、津贴、补贴等；"
        f"不满十二个月的按实际工作月数平均）：{yuan(average_monthly_wage)}元（{LCLR_27}）",
    ]
    base = average_monthly_wage
    if base < minimum.value:
        base = minimum.value
        explanation.append(
            f"低于{wages.region_name}月最低工资标准{yuan(minimum.value)}元，"
            f"按最低工资标准计算（{LCL_47}）"
        )
    capped = base > cap
    if capped:
        base = cap
        months = min(months, COMPENSATION_CAP_MONTHS)
        explanation.append(
            f"高于{wages.region_name}上年度职工月平均工资{yuan(average.value)}元的三倍"
            f"（{yuan(cap)}元），按{yuan(cap)}元计算，支付年限最高不超过十二年，"
            f"按{_months_text(months)}个月计算（{LCL_47}）"
        )
    amount = to_fen(months * base)
    explanation.append(f"经济补偿：{_months_text(months)} × {yuan(base)} = {yuan(amount)}元")
    used = (
        (f"{wages.region_name}月最低工资标准", minimum),
        (f"{wages.region_name}上年度职工月平均工资", average),
    )
    review = tuple(
        f"{what}{yuan(figure.value)}元（{figure.rule_id}）尚未与官方公布核实，"
        "请人工核对后再使用本结果"
        for what, figure in used
        if not figure.verified
    )
    return Compensation(
        counted_from=counted_from,
        end=end,
        service=service,
        months=months,
        monthly_base=base,
        capped=capped,
        amount=amount,
        explanation=tuple(explanation),
        sources=(LCL_47, LCLR_27, *(figure.citation(what) for what, figure in used)),
        review=review,
    )


# --- Art.82 double wages ------------------------------------------------------------------


class Proration(StrEnum):
    """How the extra wage of a partial month is pro-rated: a choice, not a rule of law."""

    CALENDAR_DAYS = "calendar_days"
    THIRTY_DAYS = "thirty_days"


PRORATION_TEXT: dict[Proration, str] = {
    Proration.CALENDAR_DAYS: "不足一个月的天数按该月实际天数折算（月工资 × 天数 ÷ 该月天数）",
    Proration.THIRTY_DAYS: "不足一个月的天数按每月30天折算（月工资 ÷ 30 × 天数）",
}


@dataclass(frozen=True)
class DoubleWages:
    """The Art.82 period (``None`` when nothing is owed) and the extra wage for it."""

    owed_from: date | None
    owed_to: date | None
    months: int
    days: int
    amount: Decimal
    deemed_open_ended_from: date | None
    proration: Proration
    explanation: tuple[str, ...]
    sources: tuple[str, ...]


def double_wages(
    start: date,
    contract_signed_on: date | None,
    monthly_wage: Decimal,
    as_of: date,
    proration: Proration = Proration.CALENDAR_DAYS,
) -> DoubleWages:
    """The extra wage owed for working without a written contract (LCL Art.82).

    Owed from the day after the one-month mark to the day before the contract is signed (or
    to ``as_of`` when none is signed yet), at most to the day before the one-year mark; on the
    one-year mark an open-ended contract is deemed concluded (实施条例第六、七条).
    ``monthly_wage`` is the wage that is doubled; the amount is the extra single wage.
    """
    if as_of < start:
        raise InvalidEntitlementInput("计算日期不能早于用工之日")
    if contract_signed_on is not None and contract_signed_on > as_of:
        raise InvalidEntitlementInput("书面劳动合同的订立日期不能晚于计算日期")
    if monthly_wage < 0:
        raise InvalidEntitlementInput("月工资不能为负数")
    first_owed = add_period(start, DOUBLE_WAGES_FIRST_MONTH, "months")
    one_year_mark = month_mark(start, DOUBLE_WAGES_ONE_YEAR)
    last_possible = one_year_mark - timedelta(days=1)
    explanation = [
        f"用工之日为{start.isoformat()}，满一个月的次日为{first_owed.isoformat()}，"
        f"满一年的前一日为{last_possible.isoformat()}，二倍工资最长计至该日，"
        f"不超过十一个月（{LCL_82}、{LCLR_6_7}）"
    ]
    if contract_signed_on is None:
        explanation.append(f"截至{as_of.isoformat()}未订立书面劳动合同")
        last = min(as_of, last_possible)
    else:
        explanation.append(f"书面劳动合同于{contract_signed_on.isoformat()}订立")
        last = min(contract_signed_on - timedelta(days=1), last_possible)
    deemed = None
    signed_in_first_year = contract_signed_on is not None and contract_signed_on <= one_year_mark
    if not signed_in_first_year and as_of >= one_year_mark:
        deemed = one_year_mark
        explanation.append(
            f"自用工之日起满一年（{one_year_mark.isoformat()}）未订立书面劳动合同，"
            f"视为自该日起已与劳动者订立无固定期限劳动合同，应当立即补订书面劳动合同（{LCLR_6_7}）"
        )
    sources = (LCL_82, LCLR_6_7)
    if last < first_owed:
        explanation.append(
            "自用工之日起一个月内订立书面劳动合同，不支付二倍工资"
            if contract_signed_on is not None
            else "截至计算日期用工未满一个月，尚不支付二倍工资"
        )
        return DoubleWages(
            None, None, 0, 0, to_fen(Decimal(0)), deemed, proration, tuple(explanation), sources
        )
    served = service_length(start, last)
    months = served.months - DOUBLE_WAGES_FIRST_MONTH
    amount = months * monthly_wage
    formula = f"{months} × {yuan(monthly_wage)}"
    if served.days:
        if proration is Proration.CALENDAR_DAYS:
            month_days = (
                add_period(start, served.months + 1, "months")
                - add_period(start, served.months, "months")
            ).days
        else:
            month_days = 30
        amount += monthly_wage * served.days / month_days
        formula += f" + {yuan(monthly_wage)} × {served.days} ÷ {month_days}"
    amount = to_fen(amount)
    explanation += [
        f"应支付二倍工资的期间：{first_owed.isoformat()}至{last.isoformat()}，"
        f"共{ServiceLength(months, served.days).text()}",
        f"另行支付的一倍工资：{formula} = {yuan(amount)}元",
        f"{PRORATION_TEXT[proration]}；此折算方式为本系统的选择（可配置），并非法律规定",
    ]
    return DoubleWages(
        first_owed,
        last,
        months,
        served.days,
        amount,
        deemed,
        proration,
        tuple(explanation),
        sources,
    )


# --- The final-award test ------------------------------------------------------------------


class ClaimKind(StrEnum):
    LABOUR_REMUNERATION = "labour_remuneration"
    WORK_INJURY_MEDICAL = "work_injury_medical"
    ECONOMIC_COMPENSATION = "economic_compensation"
    DAMAGES = "damages"
    WORKING_TIME = "working_time"
    REST_AND_LEAVE = "rest_and_leave"
    SOCIAL_INSURANCE = "social_insurance"
    OTHER = "other"


CLAIM_KIND_LABELS: dict[ClaimKind, str] = {
    ClaimKind.LABOUR_REMUNERATION: "追索劳动报酬",
    ClaimKind.WORK_INJURY_MEDICAL: "工伤医疗费",
    ClaimKind.ECONOMIC_COMPENSATION: "经济补偿",
    ClaimKind.DAMAGES: "赔偿金",
    ClaimKind.WORKING_TIME: "工作时间标准争议",
    ClaimKind.REST_AND_LEAVE: "休息休假标准争议",
    ClaimKind.SOCIAL_INSURANCE: "社会保险标准争议",
    ClaimKind.OTHER: "其他请求",
}

# LDA Art.47(1): money claims final up to 12 × the local monthly minimum wage.
MONEY_CLAIMS = frozenset(
    {
        ClaimKind.LABOUR_REMUNERATION,
        ClaimKind.WORK_INJURY_MEDICAL,
        ClaimKind.ECONOMIC_COMPENSATION,
        ClaimKind.DAMAGES,
    }
)
# LDA Art.47(2): disputes over national labour standards, final whatever the amount.
LABOUR_STANDARD_CLAIMS = frozenset(
    {ClaimKind.WORKING_TIME, ClaimKind.REST_AND_LEAVE, ClaimKind.SOCIAL_INSURANCE}
)


@dataclass(frozen=True)
class ClaimItem:
    kind: ClaimKind
    amount: Decimal | None = None
    description: str = ""

    @property
    def label(self) -> str:
        return self.description or CLAIM_KIND_LABELS[self.kind]


@dataclass(frozen=True)
class ItemFinality:
    item: ClaimItem
    final: bool
    reason: str


@dataclass(frozen=True)
class FinalAwardTest:
    threshold: Decimal
    items: tuple[ItemFinality, ...]
    final: bool
    explanation: tuple[str, ...]
    sources: tuple[str, ...]


def final_award_test(items: Sequence[ClaimItem], minimum_monthly_wage: Decimal) -> FinalAwardTest:
    """Whether an award over ``items`` is final (LDA Art.47), tested item by item (SPC I
    Art.19); an award with both final and non-final items is non-final (Art.20)."""
    if not items:
        raise InvalidEntitlementInput("请至少填写一项仲裁请求")
    if minimum_monthly_wage <= 0:
        raise InvalidEntitlementInput("当地月最低工资标准必须大于0")
    threshold = to_fen(FINAL_AWARD_MINIMUM_WAGE_MONTHS * minimum_monthly_wage)
    verdicts = tuple(_item_finality(item, threshold) for item in items)
    finals = sum(verdict.final for verdict in verdicts)
    explanation = [
        f"终局裁决金额标准：当地月最低工资标准{yuan(minimum_monthly_wage)}元 × 12 = "
        f"{yuan(threshold)}元（{LDA_47}）",
        *(f"{verdict.item.label}：{verdict.reason}" for verdict in verdicts),
    ]
    if finals == len(verdicts):
        explanation.append(f"各项均属终局裁决事项，裁决为终局裁决（{SPC1_19}）")
    elif finals:
        explanation.append(
            f"同一裁决同时包含终局裁决事项和非终局裁决事项，按非终局裁决处理（{SPC1_20}）"
        )
    else:
        explanation.append(f"各项均不属终局裁决事项，裁决为非终局裁决（{LDA_47}）")
    return FinalAwardTest(
        threshold=threshold,
        items=verdicts,
        final=finals == len(verdicts),
        explanation=tuple(explanation),
        sources=(LDA_47, SPC1_19, SPC1_20),
    )


def _item_finality(item: ClaimItem, threshold: Decimal) -> ItemFinality:
    if item.kind in LABOUR_STANDARD_CLAIMS:
        return ItemFinality(
            item,
            True,
            "因执行国家劳动标准在工作时间、休息休假、社会保险等方面发生的争议，"
            f"属终局裁决事项（{LDA_47}第二项）",
        )
    if item.kind not in MONEY_CLAIMS:
        return ItemFinality(item, False, f"不属于终局裁决事项，为非终局裁决事项（{LDA_47}）")
    if item.amount is None or item.amount < 0:
        raise InvalidEntitlementInput(f"{item.label}须填写不小于0的请求金额")
    if item.amount <= threshold:
        return ItemFinality(
            item,
            True,
            f"请求金额{yuan(item.amount)}元，不超过{yuan(threshold)}元，"
            f"属终局裁决事项（{LDA_47}第一项、{SPC1_19}）",
        )
    return ItemFinality(
        item,
        False,
        f"请求金额{yuan(item.amount)}元，超过{yuan(threshold)}元，"
        f"为非终局裁决事项（{LDA_47}第一项、{SPC1_19}）",
    )
