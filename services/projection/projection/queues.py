"""Each person's work queues (我的工作): which cases are in which queue, and why.

The rules, as people would say them:

- ``mine`` (我的案件): cases whose responsible person (承办人, the newest ``case.assigned``)
  is me and that are still open (not answered on the spot, not concluded by mediation or
  legal aid, not voided), wherever they are.
- ``review`` (待核实): cases of my districts whose clocks, as most recently computed
  (``case.triaged``, ``case.deadlines_updated``, ``case.review_resolved``), still carry a
  review code. A case leaves when ``case.review_resolved`` (or a later clock event) brings
  clocks without one.
- ``at_risk`` (时限预警): cases of my districts with a deadline at risk today
  (``at_risk_from`` ≤ today ≤ ``due_on``), with their responsible person.
- ``unassigned`` (待分配): open cases of my districts with no responsible person.

A voided case is in no queue, and a case whose report has not reached projection yet (no
district, no employer) is in none either. :func:`queues_of` is these rules in Python (the
unit tests' reference); ``store.QUEUE_WHERE`` is the same rules in SQL, which the queries
run, and the integration tests check that both put every case in the same queues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from projection import labels

QUEUES = tuple(labels.QUEUES)


@dataclass(frozen=True)
class QueueCase:
    """What the rules read of a case."""

    district_code: str | None
    reported: bool
    voided: bool
    route: str | None
    assignee_id: str | None
    clocks: list[Mapping[str, Any]] = field(default_factory=list)
    handling: str | None = None  # where mediation and legal aid stand (projection.handling)


def open_reviews(clocks: Iterable[Mapping[str, Any]]) -> list[str]:
    """The review codes still open on a case's clocks, each once, in the clocks' order."""
    codes: dict[str, None] = {}
    for clock in clocks:
        for code in clock.get("review") or ():
            codes[code] = None
    return list(codes)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def at_risk(clocks: Iterable[Mapping[str, Any]], today: date) -> bool:
    for clock in clocks:
        due, from_ = _day(clock.get("due_on")), _day(clock.get("at_risk_from"))
        if due is not None and from_ is not None and from_ <= today <= due:
            return True
    return False


def is_open(case: QueueCase) -> bool:
    status = labels.case_status(voided=case.voided, route=case.route, handling=case.handling)
    return status not in ("closed", "voided")


def queues_of(
    case: QueueCase, subject: str, districts: tuple[str, ...] | None, today: date
) -> set[str]:
    """The queues of the person ``subject`` (reading ``districts``; None: every district)
    that ``case`` is in."""
    if case.voided or not case.reported:
        return set()
    found = set()
    if case.assignee_id == subject and is_open(case):
        found.add("mine")
    if districts is not None and case.district_code not in districts:
        return found
    if open_reviews(case.clocks):
        found.add("review")
    if at_risk(case.clocks, today):
        found.add("at_risk")
    if case.assignee_id is None and is_open(case):
        found.add("unassigned")
    return found
