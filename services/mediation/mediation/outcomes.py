"""Outcome rules of a mediation, pure (no I/O): the agreement, its instalments, judicial
confirmation, the payment order, fulfilment.

- An agreement (调解协议) lists per worker and per item (wages, compensation, damages, other)
  what the employer pays, in instalments whose sum is the total. It takes effect once both
  parties and the mediator have signed and the organisation has sealed it (LDA Art. 14):
  ``effective_on``.
- Judicial confirmation (司法确认, 民事诉讼法 2023 Arts. 205–206): both parties apply together
  within 30 days of the agreement taking effect, counted on the legal calendar (start day
  excluded, the last day rolled forward past rest days: 民法典 Arts. 201–203, 民诉法 Art. 85);
  to the court that invited the mediation organisation, otherwise the basic court where a
  party lives, the subject matter lies or the organisation sits; the intermediate court when
  the dispute falls under its jurisdiction.
- Payment order (支付令, LDA Art. 16): when the employer defaults under an agreement on
  remuneration, work-injury medical costs, economic compensation or damages; the court
  notifies acceptance within 5 days, issues the order within 15 days of accepting, and the
  debtor has 15 days from service to pay or object (民事诉讼法 2023 Arts. 225–228).
- Fulfilment: an instalment is overdue from the day after its due date while not fully paid
  (its due date is a date the parties agreed, not a period, so it does not roll forward).
  Money recovered is what was paid, never what was promised.

Every problem is a Chinese sentence a mediator can act on.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from weiquan_shared import labels
from weiquan_shared.legal_calendar import REVIEW_TEXT, LegalCalendar, Period

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # numeric(14, 2): what the database records
CONFIRMATION_WINDOW = Period(30, "days")  # 民事诉讼法 2023 Art. 205
PAYMENT_ORDER_ACCEPTANCE = Period(5, "days")  # Art. 226: notice of acceptance
PAYMENT_ORDER_ISSUE = Period(15, "days")  # Art. 227: the order, from acceptance
PAYMENT_ORDER_DEBTOR = Period(15, "days")  # Art. 227: pay or object, from service

ItemKind = Literal["wages", "compensation", "damages", "other"]
CourtBasis = Literal["invited", "party_domicile", "subject_matter", "organisation_seat"]

ITEM_LABELS = labels.AGREEMENT_ITEMS
COURT_BASIS_LABELS = labels.COURT_BASES
# LDA Art. 16: the items a payment order may claim (work-injury medical costs are agreed as
# ``damages`` or ``other`` here; ``other`` is not eligible unless a person re-labels it).
PAYMENT_ORDER_ITEMS: frozenset[str] = frozenset({"wages", "compensation", "damages"})


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN)


def yuan(amount: Decimal) -> str:
    return f"{fen(amount):,.2f}"


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class Item:
    worker_ref: str
    item: ItemKind
    amount: Decimal
    label: str | None = None


@dataclass(frozen=True)
class PlannedInstalment:
    number: int
    due_on: date
    amount: Decimal


def add_months(start: date, months: int) -> date:
    """The same-numbered day ``months`` later, or that month's last day (民法典 Art. 202)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def instalment_schedule(
    total: Decimal, first_due_on: date, count: int, every_months: int = 1
) -> list[PlannedInstalment]:
    """``count`` instalments of equal amounts (to the fen) every ``every_months`` months from
    ``first_due_on``; the fen left over by the division is paid with the last one."""
    if count < 1:
        raise ValueError("分期期数至少为1")
    if every_months < 1:
        raise ValueError("分期间隔至少为1个月")
    if total <= 0:
        raise ValueError("协议总金额必须大于0")
    share = (fen(total) / count).quantize(FEN, rounding=ROUND_DOWN)
    amounts = [share] * (count - 1) + [fen(total) - share * (count - 1)]
    return [
        PlannedInstalment(n + 1, add_months(first_due_on, n * every_months), amount)
        for n, amount in enumerate(amounts)
    ]


def agreement_problems(
    items: Sequence[Item],
    instalments: Sequence[PlannedInstalment],
    *,
    workers: Iterable[str],
    effective_on: date,
    received_on: date,
    today: date,
) -> list[str]:
    """What keeps an agreement from being recorded (empty: it may be)."""
    problems: list[str] = []
    known = set(workers)
    if not items:
        problems.append("协议至少要有一项给付内容")
    seen: set[tuple[str, str, str | None]] = set()
    for item in items:
        what = ITEM_LABELS.get(item.item, item.item)
        if item.worker_ref not in known:
            problems.append(f"{what}：所列职工不在本调解案件中，请从本案职工中选择")
        if item.item == "other" and not (item.label and item.label.strip()):
            problems.append("“其他”项须写明给付内容（如：工伤医疗费）")
        if item.amount < 0:
            problems.append(f"{what}：金额不能为负数")
        elif fen(item.amount) != item.amount:
            problems.append(f"{what}：金额最多精确到分")
        key = (item.worker_ref, item.item, (item.label or "").strip() or None)
        if key in seen:
            problems.append(f"{what}：同一职工的同一项目重复填写，请合并为一项")
        seen.add(key)
    total = sum((i.amount for i in items), Decimal(0))
    if items and total <= 0:
        problems.append("协议总金额必须大于0")
    if total >= MAX_AMOUNT:
        problems.append("协议总金额超出可登记的范围（不超过一万亿元），请核对金额")
    if not instalments:
        problems.append("请填写至少一期付款安排（付款日期和金额）")
    numbers = [i.number for i in instalments]
    if numbers != list(range(1, len(instalments) + 1)):
        problems.append("分期须从第1期起连续编号")
    previous: date | None = None
    for plan in instalments:
        if plan.amount <= 0:
            problems.append(f"第{plan.number}期金额必须大于0")
        elif fen(plan.amount) != plan.amount:
            problems.append(f"第{plan.number}期金额最多精确到分")
        if plan.due_on < effective_on:
            problems.append(f"第{plan.number}期付款日期早于协议生效日期")
        if previous is not None and plan.due_on <= previous:
            problems.append(f"第{plan.number}期付款日期须晚于上一期")
        previous = plan.due_on
    paid_in_instalments = sum((i.amount for i in instalments), Decimal(0))
    if items and instalments and paid_in_instalments != total:
        problems.append(
            f"各期金额合计{yuan(paid_in_instalments)}元，与协议给付总额{yuan(total)}元不一致"
        )
    if effective_on > today:
        problems.append("协议生效日期不能晚于今天：双方签字、调解员签名并加盖印章后方生效")
    if effective_on < received_on:
        problems.append("协议生效日期不能早于调解组织收到申请的日期")
    return problems


def is_partial(items: Sequence[Item], workers: Iterable[str], declared_partial: bool) -> bool:
    """Partial: the mediator says some claims stay unresolved, or a worker has no item."""
    covered = {i.worker_ref for i in items}
    return declared_partial or any(w not in covered for w in workers)


# --------------------------------------------------------------------------- confirmation


@dataclass(frozen=True)
class Window:
    effective_on: date
    nominal: date
    due_on: date
    review: tuple[str, ...]

    def open_on(self, day: date) -> bool:
        return self.effective_on <= day <= self.due_on

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def confirmation_window(effective_on: date, legal: LegalCalendar) -> Window:
    """The 30 days within which both parties apply for judicial confirmation."""
    deadline = legal.deadline(effective_on, CONFIRMATION_WINDOW)
    return Window(
        effective_on,
        deadline.nominal,
        deadline.due,
        tuple(REVIEW_TEXT[r] for r in deadline.review),
    )


@dataclass(frozen=True)
class CourtChoice:
    court_name: str
    basis: CourtBasis
    intermediate: bool


def confirmation_problems(
    *,
    window: Window,
    applied_on: date,
    today: date,
    both_parties: bool,
    court: CourtChoice,
    invited_court: str | None,
    already_requested: bool,
) -> list[str]:
    """What keeps an application for judicial confirmation from being recorded."""
    problems: list[str] = []
    if already_requested:
        problems.append("本协议已申请司法确认，请记录法院的裁定结果")
    if not both_parties:
        problems.append("司法确认须由双方当事人共同申请（民事诉讼法第二百零五条）")
    if applied_on > today:
        problems.append("申请日期不能晚于今天")
    if applied_on < window.effective_on:
        problems.append("申请日期不能早于协议生效日期")
    elif applied_on > window.due_on:
        problems.append(
            f"已超过申请期限：应自协议生效之日起三十日内（{window.due_on.isoformat()}前）申请；"
            "逾期的可就协议内容申请仲裁或起诉"
        )
    if not court.court_name.strip():
        problems.append("请填写受理申请的法院名称")
    if invited_court and court.basis != "invited":
        problems.append(
            f"本案由{invited_court}邀请调解组织先行调解，应向该法院申请司法确认"
            "（民事诉讼法第二百零五条第一项）"
        )
    if court.basis == "invited" and not invited_court:
        problems.append(
            "本案并非人民法院邀请调解，请按当事人住所地、标的物所在地或调解组织所在地选择法院"
        )
    if court.basis == "invited" and invited_court and court.court_name.strip() != invited_court:
        problems.append(f"法院名称应为邀请调解的{invited_court}")
    if court.intermediate and "中级人民法院" not in court.court_name:
        problems.append("案件属于中级人民法院管辖的，应向相应的中级人民法院提出申请")
    if not court.intermediate and court.basis != "invited" and "中级" in court.court_name:
        problems.append("除属于中级人民法院管辖的案件外，应向基层人民法院提出申请")
    return problems


# --------------------------------------------------------------------------- fulfilment


@dataclass(frozen=True)
class InstalmentState:
    number: int
    due_on: date
    amount: Decimal
    paid: Decimal  # 0 when no payment is recorded

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.paid, Decimal(0))


def is_overdue(instalment: InstalmentState, today: date) -> bool:
    """Overdue from the day after the due date while not fully paid."""
    return today > instalment.due_on and instalment.paid < instalment.amount


def overdue(instalments: Iterable[InstalmentState], today: date) -> list[InstalmentState]:
    return [i for i in instalments if is_overdue(i, today)]


def recovered(instalments: Iterable[InstalmentState]) -> Decimal:
    """Money actually recovered: what was paid, never what was promised."""
    return sum((i.paid for i in instalments), Decimal(0))


def fulfilled(instalments: Sequence[InstalmentState]) -> bool:
    return bool(instalments) and all(i.paid >= i.amount for i in instalments)


def payment_problems(
    instalment: InstalmentState, *, amount: Decimal, paid_on: date, effective_on: date, today: date
) -> list[str]:
    problems: list[str] = []
    if instalment.paid > 0:
        problems.append(f"第{instalment.number}期已登记付款，如有错误请联系督导更正")
    if amount <= 0:
        problems.append("实付金额必须大于0")
    elif fen(amount) != amount:
        problems.append("实付金额最多精确到分")
    elif amount > instalment.amount:
        problems.append(
            f"实付金额{yuan(amount)}元超过第{instalment.number}期应付的{yuan(instalment.amount)}元；"
            "多付部分请在下一期登记"
        )
    if paid_on > today:
        problems.append("付款日期不能晚于今天")
    if paid_on < effective_on:
        problems.append("付款日期不能早于协议生效日期")
    return problems


# --------------------------------------------------------------------------- payment order


@dataclass(frozen=True)
class PaymentOrderCheck:
    eligible: bool
    reasons: tuple[str, ...]  # why not, or what to know
    items: tuple[str, ...]  # the eligible item kinds the agreement has
    amount: Decimal  # what the order may claim: outstanding, at most the eligible items


def payment_order_check(
    items: Sequence[Item],
    instalments: Sequence[InstalmentState],
    today: date,
    *,
    confirmed: bool,
    already_applied: bool,
) -> PaymentOrderCheck:
    """Whether the worker may apply for a payment order on the agreement (LDA Art. 16)."""
    eligible_kinds = sorted({i.item for i in items if i.item in PAYMENT_ORDER_ITEMS})
    eligible_total = sum((i.amount for i in items if i.item in PAYMENT_ORDER_ITEMS), Decimal(0))
    outstanding = sum((i.outstanding for i in instalments), Decimal(0))
    reasons: list[str] = []
    late = overdue(instalments, today)
    if not late:
        reasons.append("用人单位尚无逾期未付的款项，不能申请支付令")
    if not eligible_kinds:
        reasons.append("协议中没有劳动报酬、工伤医疗费、经济补偿或赔偿金事项，不能申请支付令")
    if already_applied:
        reasons.append("已就本协议申请支付令")
    amount = min(outstanding, eligible_total)
    if late and eligible_kinds and amount <= 0:
        reasons.append("上述事项已全部付清")
    eligible = not reasons
    if confirmed:
        reasons.append("协议已经司法确认，可直接向人民法院申请强制执行（民事诉讼法第二百零六条）")
    return PaymentOrderCheck(eligible, tuple(reasons), tuple(eligible_kinds), fen(amount))


@dataclass(frozen=True)
class PaymentOrderDates:
    applied_on: date
    acceptance_notice_by: date
    order_by: date
    debtor_answer_by: date | None
    review: tuple[str, ...]


def payment_order_dates(
    applied_on: date,
    legal: LegalCalendar,
    *,
    accepted_on: date | None = None,
    served_on: date | None = None,
) -> PaymentOrderDates:
    """The court's deadlines on a payment order: acceptance notice within 5 days of the
    application, the order within 15 days of acceptance (from the latest possible acceptance
    while none is recorded), the debtor's 15 days from service to pay or object."""
    notice = legal.deadline(applied_on, PAYMENT_ORDER_ACCEPTANCE)
    order = legal.deadline(accepted_on or notice.due, PAYMENT_ORDER_ISSUE)
    answer = legal.deadline(served_on, PAYMENT_ORDER_DEBTOR) if served_on else None
    review = {REVIEW_TEXT[r] for d in (notice, order, answer) if d is not None for r in d.review}
    return PaymentOrderDates(
        applied_on,
        notice.due,
        order.due,
        answer.due if answer else None,
        tuple(sorted(review)),
    )
