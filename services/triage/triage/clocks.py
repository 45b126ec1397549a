"""Statutory clocks of a case, computed with the shared day-counting engine (no I/O).

Which clocks a case has:

- ``arbitration_limitation`` (劳动争议调解仲裁法 Art.27): one year from the day the worker
  knew of the infringement; for wage arrears, none while employment continues, and one year
  from the end of employment once it has ended. A period that has run out when the case is
  decided is its own state (review code and handling from ``limitation.expired``): it may
  have been interrupted or suspended, which only a person can check.
- ``mediation_window`` (Art.14): 15 days from the day the mediation organisation receives
  the application. Triage routes the case to the union's own mediation, so the routing day
  is the receipt day; the mediation service re-anchors it when it records receipt.
- ``legal_aid_review`` (法律援助法 Art.43): 7 days from receipt, likewise from routing.
- ``injury_recognition_employer`` / ``_worker`` (工伤保险条例 Art.17): 30 days and one year
  from the injury (the day the worker knew of it).

How "deadlines at risk" stays true: every clock is published with its due date *and* the
day it becomes at risk (``at_risk_from``), so a dashboard compares those dates with today
at query time and is right on any day without anyone recomputing. What can still change a
due date after triage is the data: a newly published holiday calendar or a corrected rule.
So triage also runs a daily sweep (``triage.sweeper``) that recomputes every open clock
with the data it runs with now, stores the result, and publishes ``case.deadlines_updated``
when a due date moved or a clock entered its at-risk window (once per clock), for
notification and projection to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from triage.rules import RuleBook
from weiquan_shared.events import Category, ClockKind, Route, StatutoryClock
from weiquan_shared.legal_calendar import REVIEW_TEXT, Deadline, LegalCalendar

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


@dataclass(frozen=True)
class ClockInputs:
    """The facts of a case the clocks depend on."""

    knew_on: date | None
    employment_ended_on: date | None
    # The day an officer recorded the limitation as interrupted (LDA Art. 27 §2): the
    # limitation counts from it, whatever the category, on every later recomputation.
    limitation_restarted_on: date | None = None


_TITLES: dict[ClockKind, str] = {
    "arbitration_limitation": "仲裁时效",
    "mediation_window": "调解期限",
    "legal_aid_review": "法律援助审查期限",
    "injury_recognition_employer": "用人单位申请工伤认定期限",
    "injury_recognition_worker": "职工或工会申请工伤认定期限",
}


def compute_clocks(
    inputs: ClockInputs,
    *,
    category: Category,
    route: Route,
    today: date,
    rules: RuleBook,
    calendar: LegalCalendar,
) -> list[StatutoryClock]:
    clocks = [_limitation(inputs, category, today, rules, calendar)]
    if route == "mediation":
        clocks.append(_clock("mediation_window", today, today, rules, calendar))
    if route == "legal_aid":
        clocks.append(_clock("legal_aid_review", today, today, rules, calendar))
    if category == "work_injury" and inputs.knew_on is not None:
        for kind in ("injury_recognition_employer", "injury_recognition_worker"):
            clocks.append(_clock(kind, inputs.knew_on, today, rules, calendar))
    return clocks


def _limitation(
    inputs: ClockInputs, category: Category, today: date, rules: RuleBook, calendar: LegalCalendar
) -> StatutoryClock:
    kind: ClockKind = "arbitration_limitation"
    restarted = inputs.limitation_restarted_on
    if restarted is not None:
        clock = _clock(kind, restarted, today, rules, calendar)
        clock = clock.model_copy(
            update={"note": f"时效中断，自{restarted:%Y-%m-%d}重新计算；{clock.note}"}
        )
        return _flag_expired(clock, today, rules)
    if category == "wage_arrears" and inputs.employment_ended_on is None:
        return StatutoryClock(
            kind=kind,
            rule_id="clock.arbitration_limitation",
            starts_on=None,
            due_on=None,
            at_risk_from=None,
            note="在职期间拖欠劳动报酬争议不受一年仲裁时效限制；劳动关系终止后应自终止之日起一年内申请"
            "（劳动争议调解仲裁法第二十七条第四款）",
        )
    start = inputs.employment_ended_on if category == "wage_arrears" else inputs.knew_on
    if start is None:
        return StatutoryClock(
            kind=kind,
            rule_id="clock.arbitration_limitation",
            starts_on=None,
            due_on=None,
            at_risk_from=None,
            review=["start_unknown"],
            note="未记录知道或应当知道权利受侵害的日期，无法计算仲裁时效，请人工核实",
        )
    return _flag_expired(_clock(kind, start, today, rules, calendar), today, rules)


def _flag_expired(clock: StatutoryClock, today: date, rules: RuleBook) -> StatutoryClock:
    if not limitation_expired(clock, today):
        return clock
    handling = rules.handling("limitation.expired", today)
    return clock.model_copy(
        update={
            "review": [*clock.review, handling.review],
            "note": f"{clock.note}；{EXPIRED_NOTE}",
        }
    )


EXPIRED_NOTE = (
    "时效期间已届满：如曾向对方主张权利、向有关部门请求权利救济或对方同意履行义务，时效中断并"
    "重新计算；因不可抗力或其他正当理由不能申请仲裁的，时效中止。请核实有无上述情形"
    "（劳动争议调解仲裁法第二十七条第二、三款）"
)


def limitation_expired(clock: StatutoryClock, today: date) -> bool:
    """The period has run out: today is past its last day (the last day itself still counts)."""
    return clock.due_on is not None and clock.due_on < today


def _clock(
    kind: ClockKind, start: date, today: date, rules: RuleBook, calendar: LegalCalendar
) -> StatutoryClock:
    rule_id = f"clock.{kind}"
    deadline = calendar.deadline(start, rules.period(rule_id, start))
    at_risk_days = rules.number(f"at_risk.{kind}", today)
    return StatutoryClock(
        kind=kind,
        rule_id=rule_id,
        starts_on=start,
        due_on=deadline.due,
        at_risk_from=deadline.due - timedelta(days=at_risk_days),
        review=[r.value for r in deadline.review],
        note=_note(kind, deadline, rules.rule(rule_id, start).source),
    )


def _note(kind: ClockKind, deadline: Deadline, source: str) -> str:
    text = f"{_TITLES[kind]}：自{deadline.start:%Y-%m-%d}起算，{deadline.due:%Y-%m-%d}届满"
    if deadline.rolled_forward:
        text += f"（{deadline.nominal:%Y-%m-%d}为休息日或法定节假日，顺延）"
    checks = "".join(f"；{REVIEW_TEXT[review]}" for review in deadline.review)
    return f"{text}{checks}；依据：{source}"


def days_left(clock: StatutoryClock, today: date) -> int | None:
    return None if clock.due_on is None else (clock.due_on - today).days


def recompute(
    clock: StatutoryClock, *, today: date, rules: RuleBook, calendar: LegalCalendar
) -> StatutoryClock:
    """The same clock with today's calendar and rules (a clock without a start stays)."""
    if clock.starts_on is None:
        return clock
    return _clock(clock.kind, clock.starts_on, today, rules, calendar)


@dataclass(frozen=True)
class StoredClock:
    clock: StatutoryClock
    at_risk_announced: bool


@dataclass(frozen=True)
class ClockReview:
    """What the daily sweep found for one case."""

    clocks: list[StatutoryClock]
    moved: list[ClockKind]
    at_risk: list[ClockKind]

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.at_risk)


def review_clocks(
    stored: list[StoredClock], *, today: date, rules: RuleBook, calendar: LegalCalendar
) -> ClockReview:
    clocks: list[StatutoryClock] = []
    moved: list[ClockKind] = []
    at_risk: list[ClockKind] = []
    for entry in stored:
        fresh = recompute(entry.clock, today=today, rules=rules, calendar=calendar)
        if fresh.due_on != entry.clock.due_on:
            moved.append(fresh.kind)
        if (
            fresh.at_risk_from is not None
            and fresh.due_on is not None
            and fresh.at_risk_from <= today <= fresh.due_on
            and not entry.at_risk_announced
        ):
            at_risk.append(fresh.kind)
        clocks.append(fresh)
    return ClockReview(clocks, moved, at_risk)
