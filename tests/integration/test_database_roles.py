"""Least privilege in PostgreSQL: each service logs in as its own role, owns its own
database and can reach no other; the provisioning role's password stays out of services."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

import asyncpg
import pytest

from tests.support.stack import ARTIFACTS, Deployment, ServiceProcess, free_port
from weiquan_shared.settings import Settings
from weiquan_shared.topics import ensure_topics

pytestmark = pytest.mark.integration


async def _login(settings: Settings, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password.get_secret_value(),
        database=database,
    )


def _environ(process: ServiceProcess) -> dict[str, str]:
    """The environment the running process really has (not what we meant to give it)."""
    assert process.process is not None
    raw = Path(f"/proc/{process.process.pid}/environ").read_bytes()
    pairs = (item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if item)
    return {key: value for key, value in pairs}


def test_each_service_owns_its_database_and_reaches_no_other(deployment: Deployment) -> None:
    deployment.start("intake", "triage")
    intake, triage = deployment.settings("intake"), deployment.settings("triage")
    assert intake.pg_user == f"{deployment.namespace}_intake" != triage.pg_user

    async def check() -> None:
        for own, other in ((intake, triage), (triage, intake)):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await _login(own, other.database)
            conn = await _login(own, own.database)
            try:
                for statement in ('CREATE DATABASE "x_stolen"', 'CREATE ROLE "x_stolen"'):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await conn.execute(statement)
                owners = await conn.fetch(
                    "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"
                )
                # The migrations ran as the service's role: it owns every table they made.
                assert len(owners) >= 4, owners
                assert {row["tableowner"] for row in owners} == {own.pg_user}
                assert (
                    await conn.fetchval(
                        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1",
                        own.database,
                    )
                    == own.pg_user
                )
            finally:
                await conn.close()

    asyncio.run(check())

    admin_password = deployment.infra.pg_password
    for name, own in (("intake", intake), ("triage", triage)):
        environ = _environ(deployment[name])
        held = " ".join(environ.values())
        assert admin_password not in held, f"{name} holds the provisioning role's password"
        for other in deployment.passwords.values():
            if other != own.pg_password.get_secret_value():
                assert other not in held, f"{name} holds another service's password"
        assert environ[f"WEIQUAN_PG_PASSWORD_{name.upper()}"] == own.pg_password.get_secret_value()


def test_a_service_does_not_create_its_database_and_says_who_must(deployment: Deployment) -> None:
    asyncio.run(ensure_topics(deployment.settings()))
    port = free_port()
    # A password the service has, but provisioning has not run yet: no role, no database.
    deployment.passwords["triage"] = secrets.token_hex(24)
    env = deployment.service_env("triage", WEIQUAN_HTTP_PORT=str(port))
    service = ServiceProcess(
        "triage", env, ARTIFACTS / "logs" / f"{deployment.namespace}-triage-unprovisioned.log", port
    )
    deployment.services["triage"] = service
    service.start()
    deadline = time.monotonic() + 30
    waiting: list[dict[str, str]] = []
    while time.monotonic() < deadline and len(waiting) < 2:
        time.sleep(0.5)
        lines = [json.loads(x) for x in service.log_text().splitlines() if x.startswith("{")]
        waiting = [x for x in lines if x.get("event") == "dependency unreachable, retrying"]
    assert len(waiting) >= 2, service.log_text()[-2000:]
    assert waiting[0]["component"] == "PostgreSQL"
    assert "python -m weiquan_shared.db provision triage" in waiting[0]["error"]
    assert service.process is not None and service.process.poll() is None  # still trying

    async def database_exists() -> bool:
        conn = await _login(deployment.admin_settings(), "postgres")
        try:
            return bool(
                await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", f"{deployment.namespace}_triage"
                )
            )
        finally:
            await conn.close()

    assert not asyncio.run(database_exists()), "the service created its own database"
    deployment.provision("triage")
    service.wait_ready()


def test_provisioning_hands_over_an_old_database_and_resets_the_password(
    deployment: Deployment,
) -> None:
    """A database made by the provisioning role itself (as every service's was before roles
    were per service) passes to the service's role with what is in it."""
    database = deployment.admin_settings("projection").database

    async def old_deployment() -> None:
        admin = deployment.admin_settings()
        conn = await _login(admin, "postgres")
        await conn.execute(f'CREATE DATABASE "{database}"')
        await conn.close()
        conn = await _login(admin, database)
        await conn.execute(
            "CREATE TABLE legacy (id bigserial PRIMARY KEY, note text);"
            "CREATE SEQUENCE legacy_numbers;"
            "CREATE VIEW legacy_notes AS SELECT note FROM legacy;"
            "CREATE FUNCTION legacy_count() RETURNS bigint LANGUAGE sql AS "
            "'SELECT count(*) FROM legacy';"
            "INSERT INTO legacy (note) VALUES ('kept');"
        )
        await conn.close()

    asyncio.run(old_deployment())
    deployment.provision("projection")
    first = deployment.settings("projection")
    deployment.passwords["projection"] = "a-new-password-" + first.pg_password.get_secret_value()
    deployment.provision("projection")
    second = deployment.settings("projection")

    async def check() -> None:
        with pytest.raises(asyncpg.InvalidPasswordError):
            await _login(first, database)
        conn = await _login(second, database)
        try:
            owners = await conn.fetch(
                "SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','S','v')"
            )
            assert {row["relname"] for row in owners} >= {
                "legacy",
                "legacy_id_seq",
                "legacy_numbers",
                "legacy_notes",
            }
            assert {row["owner"] for row in owners} == {second.pg_user}
            assert (
                await conn.fetchval(
                    "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'legacy_count'"
                )
                == second.pg_user
            )
            await conn.execute("INSERT INTO legacy (note) VALUES ('new')")
            assert await conn.fetchval("SELECT legacy_count()") == 2
        finally:
            await conn.close()

    asyncio.run(check())
    # The service migrates the handed-over database and serves.
    deployment.start("projection")
