"""A triage officer settles what triage flagged for review (请人工核实) on a case (no I/O).

What each resolution does to the case's clocks (``clocks.compute_clocks`` does the
counting, with the date the officer recorded):

- ``start_date_recorded``: the worker's date of knowing is now known; the clocks that
  count from it (the arbitration limitation, the injury-recognition periods) are computed
  from it. Clocks anchored on the routing day (mediation, legal-aid review) stay.
- ``limitation_interrupted`` (LDA Art.27 §2): the limitation period starts again from the
  date recorded (the day the worker claimed, sought a remedy or the employer agreed to pay).
- ``limitation_suspended`` (Art.27 §3): the officer found a ground of suspension; the
  limitation clock keeps its dates, its ``limitation_expired`` code is settled and its note
  says it is suspended (the period continues once the ground ends, which a person records
  later as an interruption date if need be).
- ``limitation_expiry_confirmed`` / ``dates_checked``: a person checked the dates; the
  review codes of the clocks that have them are settled. A missing start date cannot be
  settled that way (record it with ``start_date_recorded``).

Recomputed clocks may raise review codes of their own (a new due date on a make-up
workday, a limitation that has already run out again): those stay, and the case stays in
the review queue until they are settled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from triage.clocks import ClockInputs, compute_clocks
from triage.rules import RuleBook
from weiquan_shared.events import Category, Route, StatutoryClock
from weiquan_shared.events.triage import ReviewResolution
from weiquan_shared.legal_calendar import LegalCalendar

LIMITATION = "arbitration_limitation"
# Clocks counted from the day the worker knew of the infringement.
FROM_KNOWING = frozenset({LIMITATION, "injury_recognition_employer", "injury_recognition_worker"})
START_UNKNOWN = "start_unknown"
SUSPENDED_NOTE = (
    "分流员核实：存在时效中止事由（劳动争议调解仲裁法第二十七条第三款），中止原因消除后时效继续计算"
)


class NothingToReview(Exception):
    """The resolution settles nothing on this case (409 with the Chinese message)."""


@dataclass(frozen=True)
class Resolved:
    clocks: list[StatutoryClock]
    # The codes the officer settled, per clock kind (kept so the daily sweep does not raise
    # them again while the due date stays the same).
    confirmed: dict[str, list[str]]


def resolve(
    clocks: list[StatutoryClock],
    resolution: ReviewResolution,
    recorded_on: date | None,
    *,
    category: Category,
    route: Route,
    employment_ended_on: date | None,
    today: date,
    rules: RuleBook,
    calendar: LegalCalendar,
) -> Resolved:
    """The case's clocks after ``resolution``; raises :class:`NothingToReview` when no clock
    awaits a person, or none that this resolution settles."""
    if not any(clock.review for clock in clocks):
        raise NothingToReview("该案件没有待人工核实的事项，无需处理")
    by_kind: dict[str, StatutoryClock] = {clock.kind: clock for clock in clocks}
    if resolution == "start_date_recorded":
        assert recorded_on is not None
        fresh = compute_clocks(
            ClockInputs(recorded_on, employment_ended_on),
            category=category,
            route=route,
            today=today,
            rules=rules,
            calendar=calendar,
        )
        for clock in fresh:
            if clock.kind in FROM_KNOWING:
                by_kind[clock.kind] = clock
        return Resolved(_ordered(by_kind, clocks, fresh), {})
    if resolution == "limitation_interrupted":
        assert recorded_on is not None
        # Counted from the date recorded whatever the category (an interruption restarts it).
        by_kind[LIMITATION] = compute_clocks(
            ClockInputs(None, None, limitation_restarted_on=recorded_on),
            category=category,
            route=route,
            today=today,
            rules=rules,
            calendar=calendar,
        )[0]
        return Resolved(_ordered(by_kind, clocks, []), {})
    if resolution == "limitation_suspended":
        limitation = by_kind.get(LIMITATION)
        settled = [c for c in (limitation.review if limitation else []) if c != START_UNKNOWN]
        if limitation is None or not settled:
            raise NothingToReview("仲裁时效没有待核实的届满事项，无法记录时效中止")
        by_kind[LIMITATION] = limitation.model_copy(
            update={
                "review": [c for c in limitation.review if c not in settled],
                "note": f"{limitation.note}；{SUSPENDED_NOTE}",
            }
        )
        return Resolved(_ordered(by_kind, clocks, []), {LIMITATION: settled})
    # limitation_expiry_confirmed, dates_checked: settle what a person could check.
    confirmed: dict[str, list[str]] = {}
    kinds = [LIMITATION] if resolution == "limitation_expiry_confirmed" else list(by_kind)
    for kind in kinds:
        checked = by_kind.get(kind)
        if checked is None:
            continue
        settled = [c for c in checked.review if c != START_UNKNOWN]
        if settled:
            confirmed[kind] = settled
            by_kind[kind] = checked.model_copy(
                update={"review": [c for c in checked.review if c not in settled]}
            )
    if not confirmed:
        raise NothingToReview(
            "没有可以这样处理的核实事项：未记录知道权利受侵害日期的，请选择“已核实并记录"
            "知道权利受侵害的日期”并填写日期"
        )
    return Resolved(_ordered(by_kind, clocks, []), confirmed)


def _ordered(
    by_kind: dict[str, StatutoryClock],
    before: list[StatutoryClock],
    fresh: list[StatutoryClock],
) -> list[StatutoryClock]:
    """The clocks in their earlier order, any new one (an injury clock once the date is
    known) after them."""
    earlier = {c.kind for c in before}
    kinds = [c.kind for c in before] + [c.kind for c in fresh if c.kind not in earlier]
    return [by_kind[kind] for kind in kinds if kind in by_kind]


def without_confirmed(
    clocks: list[StatutoryClock], confirmed: dict[str, tuple[date | None, list[str]]]
) -> list[StatutoryClock]:
    """Clocks with the codes a person settled removed, while the due date is unchanged."""
    kept = []
    for clock in clocks:
        entry = confirmed.get(clock.kind)
        if entry is not None and entry[0] == clock.due_on and clock.review:
            clock = clock.model_copy(
                update={"review": [c for c in clock.review if c not in entry[1]]}
            )
        kept.append(clock)
    return kept
