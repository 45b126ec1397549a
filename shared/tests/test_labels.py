"""One label table for the whole system: every code of the contracts has its Chinese name."""

from typing import get_args

import pytest

from weiquan_shared import demo, labels
from weiquan_shared.events import Category, Channel, ClockKind, Route, RouteDetail, Urgency
from weiquan_shared.events.casework import (
    ConsentScope,
    ContactMethod,
    ContactOutcome,
    VoidReason,
)
from weiquan_shared.events.legal_aid import (
    ApplicationSource,
    ClosureReason,
    DeclineReason,
    LegalAidMatter,
    StepKind,
)
from weiquan_shared.events.triage import ReviewResolution


@pytest.mark.parametrize(
    ("codes", "table"),
    [
        (Channel, labels.CHANNELS),
        (Category, labels.CATEGORIES),
        (Urgency, labels.URGENCIES),
        (Route, labels.ROUTES),
        (RouteDetail, labels.ROUTE_DETAILS),
        (ClockKind, labels.CLOCKS),
        (ContactMethod, labels.CONTACT_METHODS),
        (ContactOutcome, labels.CONTACT_OUTCOMES),
        (ConsentScope, labels.CONSENT_SCOPES),
        (VoidReason, labels.VOID_REASONS),
        (ReviewResolution, labels.REVIEW_RESOLUTIONS),
        (LegalAidMatter, labels.LEGAL_AID_MATTERS),
        (ApplicationSource, labels.LEGAL_AID_SOURCES),
        (StepKind, labels.LEGAL_AID_STEPS),
        (ClosureReason, labels.LEGAL_AID_CLOSURES),
        (DeclineReason, labels.LEGAL_AID_DECLINE_REASONS),
    ],
)
def test_every_code_of_the_events_has_exactly_one_chinese_name(codes, table) -> None:
    assert set(get_args(codes)) == set(table)


def test_every_route_is_a_status_worded_as_routing() -> None:
    for route in get_args(Route):
        assert labels.status_label(route).startswith("已分流")
    assert labels.status_label("accepted").startswith("已受理")


def test_no_court_appeal_wording_and_one_name_for_the_officer() -> None:
    words = str(labels.all_labels())
    assert "改判" not in words and "分诊" not in words
    assert labels.DECISION_KINDS["override"].startswith(labels.ROLES["triage_officer"])


def test_demo_data_draws_from_the_one_district_table() -> None:
    assert set(demo.DISTRICTS) == set(labels.DISTRICTS) and "440308" in labels.DISTRICTS


@pytest.mark.parametrize("code", ["000000", "999999", "440300"])
def test_a_district_outside_the_table_is_explained_in_chinese(code: str) -> None:
    problem = labels.district_problem(code)
    assert problem is not None and code in problem and "南山区（440305）" in problem
    assert labels.district_problem("440308") is None
