"""Group disputes and repeat employers across cases and days (no I/O)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from triage.grouping import NewCase, PriorCase, employer_key, find_group, repeat_employer
from triage.rules import RuleBook
from weiquan_shared.events import EmployerRef

RULES = RuleBook.load()
DAY = date(2026, 11, 20)
KEY = "name:test|440305"


def prior(n: int, *, days_ago: int = 1, category="wage_arrears", group=None, workers=1):
    return PriorCase(
        uuid.uuid4(),
        f"440305-2026-{n:06d}",
        category,
        frozenset(f"w{n}-{i}" for i in range(workers)),
        DAY - timedelta(days=days_ago),
        group,
    )


def new(n: int = 99, workers: int = 1, category="wage_arrears") -> NewCase:
    return NewCase(
        uuid.uuid4(),
        f"440305-2026-{n:06d}",
        category,
        frozenset(f"w{n}-{i}" for i in range(workers)),
        DAY,
    )


def test_the_tenth_worker_forms_the_group_and_links_every_earlier_case() -> None:
    history = [prior(i, days_ago=i % 7) for i in range(9)]
    group = find_group(new(), history, KEY, RULES)
    assert group is not None and group.is_new
    assert group.worker_count == 10 and group.case_count == 10
    assert {p.case_id for p in group.joining} == {p.case_id for p in history}
    assert (
        group.group_number
        == f"QT-{min(history, key=lambda p: (p.reported_on, p.case_number)).case_number}"
    )


def test_nine_workers_are_not_a_group() -> None:
    assert find_group(new(), [prior(i) for i in range(8)], KEY, RULES) is None


def test_the_same_worker_twice_counts_once() -> None:
    history = [prior(i) for i in range(8)]
    duplicate = PriorCase(
        uuid.uuid4(), "440305-2026-000500", "wage_arrears", history[0].worker_refs, DAY
    )
    assert find_group(new(), [*history, duplicate], KEY, RULES) is None


def test_other_categories_and_old_cases_do_not_count() -> None:
    history = [prior(i) for i in range(5)]
    history += [prior(10 + i, category="overtime") for i in range(5)]
    history += [prior(20 + i, days_ago=40) for i in range(5)]
    assert find_group(new(), history, KEY, RULES) is None


def test_a_later_case_joins_the_existing_group() -> None:
    group_id = uuid.uuid4()
    history = [prior(i, group=group_id) for i in range(10)] + [prior(50)]
    group = find_group(new(), history, KEY, RULES)
    assert group is not None and not group.is_new
    assert group.group_id == group_id
    assert [p.case_number for p in group.joining] == ["440305-2026-000050"]
    assert group.case_count == 12


def test_group_id_is_the_same_whoever_computes_it() -> None:
    history = [prior(i) for i in range(9)]
    case = new()
    assert find_group(case, history, KEY, RULES) == find_group(
        case, list(reversed(history)), KEY, RULES
    )


def test_repeat_employer_needs_three_cases_within_ninety_days() -> None:
    assert repeat_employer(new(), [prior(1, days_ago=89), prior(2, days_ago=10)], None, RULES)
    assert (
        repeat_employer(new(), [prior(1, days_ago=90), prior(2, days_ago=10)], None, RULES) is None
    )
    assert repeat_employer(new(), [prior(1)], None, RULES) is None


def test_repeat_employer_is_flagged_once_per_window() -> None:
    history = [prior(1, days_ago=5), prior(2, days_ago=3)]
    assert repeat_employer(new(), history, DAY - timedelta(days=3), RULES) is None
    assert repeat_employer(new(), history, DAY - timedelta(days=120), RULES) is not None


def test_employer_identity() -> None:
    coded = EmployerRef(name="甲", credit_code="91350100m000100y43", district_code="440305")
    assert employer_key(coded) == "uscc:91350100M000100Y43"
    a = EmployerRef(name="深圳市 鹏程（建筑）劳务有限责任公司", district_code="440305")
    b = EmployerRef(name="深圳市鹏程(建筑)劳务有限公司", district_code="440305")
    assert employer_key(a) == employer_key(b)
    elsewhere = EmployerRef(name="深圳市鹏程(建筑)劳务有限公司", district_code="440306")
    assert employer_key(elsewhere) != employer_key(b)
