"""Reporting periods: every form a supervisor may type, and a Chinese answer for the rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import given
from hypothesis import strategies as st

from projection.api import build_routers
from projection.periods import ACCEPTED, Period
from tests.support.tokens import test_issuer
from weiquan_shared.auth import Role, install_token_verifier
from weiquan_shared.service import Runtime, create_service_app
from weiquan_shared.settings import Settings

MIGRATIONS = Path(__file__).parents[1] / "projection" / "migrations"


@pytest.mark.parametrize(
    ("text", "since", "until", "label"),
    [
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "2026年全年"),
        ("2026H2", date(2026, 7, 1), date(2027, 1, 1), "2026年下半年"),
        ("2026Q1", date(2026, 1, 1), date(2026, 4, 1), "2026年第一季度"),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "2026年12月"),
        ("2000", date(2000, 1, 1), date(2001, 1, 1), "2000年全年"),
        ("2099Q4", date(2099, 10, 1), date(2100, 1, 1), "2099年第四季度"),
    ],
)
def test_periods_are_parsed(text: str, since: date, until: date, label: str) -> None:
    assert Period.parse(text) == Period(since, until, label)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9999", "年份超出范围"),
        ("9999H2", "年份超出范围"),
        ("9999-12", "年份超出范围"),
        ("0000", "年份超出范围"),
        ("1999Q4", "年份超出范围"),
        ("2100", "年份超出范围"),
        ("2026-13", "月份应为 01 至 12"),
        ("2026-00", "月份应为 01 至 12"),
        ("26", "格式不正确"),
        ("2026H3", "格式不正确"),
    ],
)
def test_a_wrong_period_is_explained_in_chinese(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        Period.parse(text)
    assert ACCEPTED in str(raised.value)
    assert "2000 至 2099" in str(raised.value)


@given(
    st.from_regex(r"\A\d{4}(H[12]|Q[1-4]|-\d{2})?\Z", fullmatch=True),
)
def test_any_period_shaped_text_parses_or_says_what_is_accepted(text: str) -> None:
    try:
        period = Period.parse(text)
    except ValueError as exc:
        assert ACCEPTED in str(exc)
    else:
        assert period.since is not None and period.until is not None
        assert period.since < period.until


def _projection_app() -> tuple[httpx.AsyncClient, list[str]]:
    """Projection's API without its lifespan: a period is checked before any query runs, so
    the pool (which raises when asked for before start-up) is never reached."""
    runtime = Runtime(Settings(service_name="projection"))
    routers = build_routers(runtime)
    with_period = sorted(
        route.path
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        and any(p.name == "period" for p in route.dependant.query_params)
    )
    app = create_service_app(
        runtime, title="projection", description="", migrations=MIGRATIONS, routers=routers
    )
    issuer = test_issuer()
    install_token_verifier(app, issuer.verifier())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers=issuer.headers(Role.SUPERVISOR),
    )
    return client, with_period


async def test_every_api_answers_an_out_of_range_period_with_a_chinese_422() -> None:
    client, paths = _projection_app()
    assert "/api/v1/dashboard" in paths
    assert "/api/v1/report.xlsx" in paths
    async with client:
        for path in paths:
            response = await client.get(path, params={"period": "9999"})
            assert response.status_code == 422, (path, response.text)
            body = response.json()
            assert body["errors"][0]["field"] == "period"
            message = body["message"]
            assert "统计期间：“9999”的年份超出范围" in message, (path, message)
            assert ACCEPTED in message
            assert "out of range" not in response.text
