"""Which districts a caller reads (the rules; the SQL that applies them is tested on the
real stack in tests/integration/test_projection_scope.py)."""

from __future__ import annotations

import pytest

from projection import labels
from projection.scope import CITY, OutOfScope, Scope
from weiquan_shared.auth import Principal, Role


def caller(role: Role, *districts: str) -> Principal:
    return Principal("u-1", "王主任", role, None, districts, "https://idp.example.test")


def test_a_district_supervisor_reads_their_district_and_nothing_else() -> None:
    scope = Scope.of(caller(Role.SUPERVISOR, "440305"))
    assert scope.districts == ("440305",)
    assert scope.label == "南山区"
    assert scope.selectable() == {"440305": "南山区"}
    assert scope.narrowed_to(None) == scope
    assert scope.narrowed_to("440305") == scope
    with pytest.raises(OutOfScope):
        scope.narrowed_to("440306")
    assert scope.audit_text() == "440305"


def test_a_city_supervisor_reads_every_district_listed_and_a_report_says_the_whole_city() -> None:
    scope = Scope.of(caller(Role.SUPERVISOR, *reversed(labels.DISTRICTS)))
    assert scope.districts == tuple(sorted(labels.DISTRICTS))
    assert scope.label == CITY
    assert scope.selectable() == labels.DISTRICTS
    assert scope.narrowed_to("440306") == Scope(("440306",))
    assert scope.narrowed_to("440306").label == "宝安区"


def test_two_districts_are_named_and_a_supervisor_without_districts_reads_nothing() -> None:
    assert Scope.of(caller(Role.SUPERVISOR, "440306", "440305")).label == "南山区、宝安区"
    nothing = Scope.of(caller(Role.SUPERVISOR))
    assert nothing.districts == ()
    assert nothing.selectable() == {}
    with pytest.raises(OutOfScope):
        nothing.narrowed_to("440305")
    assert nothing.audit_text() == "none"


def test_an_administrator_reads_the_whole_city_whatever_the_token_lists() -> None:
    scope = Scope.of(caller(Role.ADMIN, "440305"))
    assert scope.districts is None
    assert scope.covers("440399")  # a code not (yet) in the city's table too
    assert scope.label == CITY
    assert scope.audit_text() == "all"
