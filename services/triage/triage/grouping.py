"""Group disputes and repeat employers, across cases and days (no I/O).

A **group dispute** (劳动争议调解仲裁法 Art.7) is ``group.min_workers`` or more distinct
workers with a common claim against one employer. Triage treats "common claim" as the same
primary category, and links cases reported within ``group.window_days`` of each other: a
walk-in group of ten forms one at once; ten hotline callers over a week form one when the
tenth call arrives, and every earlier case is linked (and upgraded) then. Once a group
exists, later cases of the same employer and category within the window join it.

A **repeat employer** has ``repeat_employer.min_cases`` or more cases (any category) whose
report dates fit in ``repeat_employer.window_days`` days (first to last day, both counted).
It is flagged once per window for the union's labour-law supervision (一函两书).

An employer is identified by its unified social credit code when intake has one, else by
its normalised name plus district (``employer_key``).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from triage.rules import RuleBook
from weiquan_shared.employers import employer_identity
from weiquan_shared.events import Category, EmployerRef

_NAMESPACE = uuid.UUID("5b0e7c7e-2f4d-4c55-9d0f-7a1d3c9e6b21")


def employer_key(employer: EmployerRef) -> str:
    """The employer as triage's rules count it: its identity (``weiquan_shared.employers``)
    and, for a name without a credit code, the district: the key every employer and group
    id triage has published derives from, so it stays as it was."""
    identity = employer_identity(employer)
    return identity if employer.credit_code else f"{identity}|{employer.district_code}"


def employer_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"employer|{key}")


@dataclass(frozen=True)
class PriorCase:
    """An earlier case of the same employer, as triage's store holds it."""

    case_id: uuid.UUID
    case_number: str
    category: Category
    worker_refs: frozenset[str]
    reported_on: date
    group_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewCase:
    case_id: uuid.UUID
    case_number: str
    category: Category
    worker_refs: frozenset[str]
    reported_on: date


@dataclass(frozen=True)
class GroupOutcome:
    group_id: uuid.UUID
    group_number: str
    is_new: bool
    member_ids: list[uuid.UUID]
    member_numbers: list[str]
    joining: list[PriorCase]  # earlier cases linked now (the new case itself not included)
    worker_count: int
    case_count: int


def find_group(
    case: NewCase, history: list[PriorCase], key: str, rules: RuleBook
) -> GroupOutcome | None:
    """The group the new case belongs to, formed now or earlier; None if it is not one."""
    window = timedelta(days=rules.number("group.window_days", case.reported_on))
    minimum = rules.number("group.min_workers", case.reported_on)
    same_claim = [p for p in history if p.category == case.category]
    near = [p for p in same_claim if abs(p.reported_on - case.reported_on) <= window]
    existing = sorted({p.group_id for p in near if p.group_id is not None}, key=str)
    if existing:
        group_id = existing[0]
        members = [p for p in same_claim if p.group_id == group_id]
        joining = [p for p in near if p.group_id is None]
    else:
        members = []
        joining = near
    linked = [*members, *joining]
    workers = frozenset().union(case.worker_refs, *(p.worker_refs for p in linked))
    if not existing and len(workers) < minimum:
        return None
    ordered: list[PriorCase | NewCase] = sorted(
        [*linked, case], key=lambda c: (c.reported_on, c.case_number)
    )
    if not existing:
        first = ordered[0]
        group_id = uuid.uuid5(_NAMESPACE, f"group|{key}|{case.category}|{first.case_id}")
    return GroupOutcome(
        group_id=group_id,
        group_number=f"QT-{ordered[0].case_number}",
        is_new=not existing,
        member_ids=[c.case_id for c in ordered],
        member_numbers=[c.case_number for c in ordered],
        joining=sorted(joining, key=lambda c: (c.reported_on, c.case_number)),
        worker_count=len(workers),
        case_count=len(ordered),
    )


@dataclass(frozen=True)
class RepeatEmployer:
    case_ids: list[uuid.UUID]
    window_days: int


def repeat_employer(
    case: NewCase,
    history: list[PriorCase],
    flagged_on: date | None,
    rules: RuleBook,
) -> RepeatEmployer | None:
    """The cases that make the employer a repeat employer now, if it is not flagged already."""
    days_in_window = rules.number("repeat_employer.window_days", case.reported_on)
    minimum = rules.number("repeat_employer.min_cases", case.reported_on)
    span = timedelta(days=days_in_window - 1)
    if flagged_on is not None and case.reported_on - flagged_on <= span:
        return None
    dated = sorted(
        [(p.reported_on, p.case_id) for p in history] + [(case.reported_on, case.case_id)]
    )
    days = [day for day, _ in dated]
    # Windows [start, start + span] that contain the new case's date, earliest first.
    for first in range(bisect_left(days, case.reported_on - span), len(days)):
        start = days[first]
        if start > case.reported_on:
            break
        if first > 0 and days[first - 1] == start:
            continue  # the window of this start day was counted already
        end = bisect_right(days, start + span)
        if end - first >= minimum:
            return RepeatEmployer([cid for _, cid in dated[first:end]], days_in_window)
    return None
