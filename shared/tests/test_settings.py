"""A service's PostgreSQL login: always its own role, never the provisioning role's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from weiquan_shared.db import MissingServicePassword, prepare_database
from weiquan_shared.settings import service_settings


def test_a_service_logs_in_as_its_own_role_whatever_the_admin_variables_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEIQUAN_NAMESPACE", "demo")
    monkeypatch.setenv("WEIQUAN_PG_USER", "weiquan")
    monkeypatch.setenv("WEIQUAN_PG_PASSWORD", "the-provisioning-role")
    monkeypatch.setenv("WEIQUAN_PG_PASSWORD_TRIAGE", "triage-own")
    settings = service_settings("triage")
    assert settings.pg_user == "demo_triage" == settings.database
    assert settings.pg_password.get_secret_value() == "triage-own"


def test_a_service_without_its_own_password_refuses_to_open_its_database_and_says_which(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEIQUAN_PG_PASSWORD", "the-provisioning-role")
    monkeypatch.delenv("WEIQUAN_PG_PASSWORD_INTAKE", raising=False)
    settings = service_settings("intake")
    # Refused before any connection is tried: no PostgreSQL is needed to see it.
    with pytest.raises(MissingServicePassword, match="WEIQUAN_PG_PASSWORD_INTAKE is not set"):
        asyncio.run(prepare_database(settings, Path("unused")))
