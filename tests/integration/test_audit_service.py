"""The audit service as a real process on the shared Kafka and PostgreSQL: records arrive
exactly once, the database refuses to change or remove them (whoever asks), retention
drops only whole expired months, and only administrators may search them."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from audit.domain import CHINA, partition_for
from tests.support.audit_service import (
    access_token,
    audit_event,
    publish,
    start_with_identity,
    stored,
    wait_for_records,
)
from tests.support.stack import Deployment
from weiquan_shared.db import prepare_database
from weiquan_shared.envelope import Actor
from weiquan_shared.outbox import OutboxRelay
from weiquan_shared.service import Runtime
from weiquan_shared.settings import Settings

pytestmark = pytest.mark.integration

SUPERVISOR = Actor.user("demo-supervisor-7f3a", "supervisor")
OPERATOR = Actor.user("demo-operator-11c2", "operator")
CASE_ID = uuid.uuid4()


def search(url: str, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{url}/api/v1/audit-records", params=params, headers=headers, timeout=10)


def test_records_arrive_once_and_only_administrators_search_them(
    deployment: Deployment, tmp_path: Path
) -> None:
    start_with_identity(deployment, tmp_path)
    url = deployment["audit"].url
    reveal = audit_event(
        SUPERVISOR,
        "pii.revealed",
        case_id=CASE_ID,
        case_number="440305-2026-000123",
        district_code="440305",
        reason="contact_worker",
        detail="mobile",
    )
    # Yesterday in China, so the date filters have two days to tell apart.
    yesterday = datetime.now(CHINA) - timedelta(days=1)
    search_by_mobile = audit_event(
        OPERATOR,
        "case.searched_by_mobile",
        reason="verify_identity",
        occurred_at=yesterday,
    )
    refused = audit_event(
        OPERATOR,
        "pii.revealed",
        outcome="denied",
        case_number="440306-2026-000009",
        district_code="440306",
        reason="case_handling",
    )
    reported = audit_event(
        OPERATOR,
        "case.reported",
        case_id=uuid.uuid4(),
        case_number="440305-2026-000124",
        district_code="440305",
        detail="event 0d8c",
    )
    # The reveal delivered twice (a redelivery), and its record republished under a new
    # event id (an outbox relay that sent it again after a crash builds no new event, but
    # a producer replaying old records might): stored once either way.
    republished = reveal.model_copy(update={"event_id": uuid.uuid4()})
    publish(deployment, [reveal, search_by_mobile, reveal, refused, reported, republished])
    wait_for_records(deployment, 4)
    time.sleep(2)  # anything still to come would be a duplicate
    rows = asyncio.run(stored(deployment, "SELECT * FROM audit_records ORDER BY occurred_at"))
    assert len(rows) == 4
    stored_reveal = next(
        r for r in rows if r["record_id"] == uuid.UUID(reveal.payload["record_id"])
    )
    assert (
        stored_reveal["actor_kind"],
        stored_reveal["actor_id"],
        stored_reveal["actor_role"],
    ) == (
        "user",
        "demo-supervisor-7f3a",
        "supervisor",
    )
    assert (stored_reveal["service"], stored_reveal["reason"], stored_reveal["case_id"]) == (
        "intake",
        "contact_worker",
        CASE_ID,
    )
    assert stored_reveal["event_id"] == reveal.event_id
    assert stored_reveal["correlation_id"] == reveal.correlation_id

    # Who may ask.
    anonymous = search(url, None)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "请先登录：缺少有效的登录凭证，或登录已过期"
    supervisor = search(url, access_token(deployment, "supervisor.li"))
    assert supervisor.status_code == 403
    assert supervisor.json()["message"] == "您的角色（督导/领导）无权进行此操作，需要：系统管理员"

    admin = access_token(deployment, "admin.wang")
    everything = search(url, admin).json()
    assert [r["action"] for r in everything["records"]] == [
        "case.reported",
        "pii.revealed",
        "pii.revealed",
        "case.searched_by_mobile",
    ]
    assert everything["next_cursor"] is None

    def found(**params: str) -> list[dict[str, Any]]:
        answer = search(url, admin, **params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["records"])

    [shown] = found(action="pii.revealed", role="supervisor")
    assert shown["record_id"] == reveal.payload["record_id"]
    assert (shown["action_name"], shown["actor_role_name"], shown["reason_name"]) == (
        "查看个人信息",
        "督导/领导",
        "联系职工",
    )
    assert (shown["case_number"], shown["district_name"], shown["outcome_name"]) == (
        "440305-2026-000123",
        "南山区",
        "成功",
    )
    assert [r["outcome"] for r in found(outcome="denied")] == ["denied"]
    assert {r["action"] for r in found(actor="demo-operator-11c2")} == {
        "case.searched_by_mobile",
        "pii.revealed",
        "case.reported",
    }
    assert [r["case_number"] for r in found(case_number="440305-2026-000124")] == [
        "440305-2026-000124"
    ]
    assert {r["district_code"] for r in found(district="440306")} == {"440306"}
    day_before = yesterday.date().isoformat()
    assert [r["action"] for r in found(**{"from": day_before, "to": day_before})] == [
        "case.searched_by_mobile"
    ]
    assert len(found(**{"from": datetime.now(CHINA).date().isoformat()})) == 3

    # Pages, newest first, without gaps or repeats.
    first = search(url, admin, limit="3").json()
    second = search(url, admin, limit="3", cursor=first["next_cursor"]).json()
    assert [r["record_id"] for r in first["records"] + second["records"]] == [
        r["record_id"] for r in everything["records"]
    ]
    assert second["next_cursor"] is None

    wrong = search(url, admin, role="boss", **{"from": "2026-02-30"})
    assert wrong.status_code == 422
    body = wrong.json()
    assert body["message"].startswith("查询条件有误，请按提示修改：角色：取值无效")
    assert {e["field"] for e in body["errors"]} == {"role", "from"}

    # The page: a browser not signed in goes to the sign-in page; other roles are told no.
    page = httpx.get(f"{url}/records", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == (f"{deployment['identity'].url}/login?next=%2Frecords")
    other_role = httpx.get(
        f"{url}/records", cookies={"weiquan_session": access_token(deployment, "supervisor.li")}
    )
    assert other_role.status_code == 403 and "无权" in other_role.text
    shell = httpx.get(f"{url}/records", cookies={"weiquan_session": admin})
    assert shell.status_code == 200 and '<script src="static/records.js"' in shell.text
    assert "<style" not in shell.text and "onclick" not in shell.text
    assert (
        httpx.get(f"{url}/static/records.js").headers["content-type"].startswith("text/javascript")
    )


async def _try(conn: asyncpg.Connection, sql: str) -> str:
    """Run ``sql`` in a transaction rolled back whatever happens; name what refused it."""
    try:
        async with conn.transaction():
            await conn.execute(sql)
    except asyncpg.InsufficientPrivilegeError:
        return "privilege"
    except asyncpg.RaiseError as exc:
        assert "append-only" in str(exc)
        return "trigger"
    return "allowed"


CHANGES = (
    "UPDATE {table} SET reason = 'changed'",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
)


async def _append_only(deployment: Deployment, partition: str) -> None:
    own = await deployment.connect("audit")
    admin_settings = deployment.admin_settings()
    provisioning = await asyncpg.connect(
        host=admin_settings.pg_host,
        port=admin_settings.pg_port,
        user=admin_settings.pg_user,
        password=admin_settings.pg_password.get_secret_value(),
        database=deployment.settings("audit").database,
    )
    try:
        for conn in (own, provisioning):
            for table in ("audit_records", partition):
                for change in CHANGES:
                    # The service's role (the owner) lacks the privileges; so does the
                    # provisioning role, though it may act as the owner.
                    assert await _try(conn, change.format(table=table)) == "privilege"
                    # The owner could grant them back to itself: the trigger still refuses.
                    granted = (
                        "GRANT UPDATE, DELETE, TRUNCATE ON audit_records, "
                        f"{partition} TO CURRENT_USER; {change.format(table=table)}"
                    )
                    assert await _try(conn, granted) == "trigger", (change, table)
            # Even a statement that matches no row.
            empty_delete = (
                "GRANT DELETE ON audit_records TO CURRENT_USER; "
                "DELETE FROM audit_records WHERE false"
            )
            assert await _try(conn, empty_delete) == "trigger"
        assert await own.fetchval("SELECT count(*) FROM audit_records") == 1
        assert await own.fetchval("SELECT reason FROM audit_records") == "contact_worker"
    finally:
        await own.close()
        await provisioning.close()


async def _reveal_through_intakes_outbox(settings: Settings, no_migrations: Path) -> None:
    """A supervisor's reveal recorded by a unit of work in intake's database and published
    by its outbox relay, as intake itself does it."""
    pool = await prepare_database(settings, no_migrations)
    runtime = Runtime(settings, _pool=pool)
    await runtime.start_producer()
    relay = asyncio.create_task(OutboxRelay(pool, runtime.producer, runtime.renew_producer).run())
    try:
        async with runtime.unit_of_work(SUPERVISOR) as uow:
            uow.audit("pii.revealed", case_id=CASE_ID, reason="contact_worker", detail="mobile")
        for _ in range(300):  # the relay deletes a row once Kafka has it
            if not await pool.fetchval("SELECT count(*) FROM outbox"):
                break
            await asyncio.sleep(0.1)
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await runtime.producer().stop()
        await pool.close()


def test_the_database_refuses_update_delete_and_truncate_of_audit_records(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.start("audit")
    asyncio.run(_reveal_through_intakes_outbox(deployment.settings("intake"), tmp_path))
    wait_for_records(deployment, 1)
    [row] = asyncio.run(stored(deployment, "SELECT service, actor_id, action FROM audit_records"))
    assert tuple(row) == ("intake", SUPERVISOR.id, "pii.revealed")
    partition = partition_for(datetime.now(UTC)).name
    asyncio.run(_append_only(deployment, partition))


def test_retention_drops_only_whole_expired_months(deployment: Deployment) -> None:
    deployment.start("audit")
    now = datetime.now(UTC)
    ancient, older, recent = (
        audit_event(OPERATOR, "case.reported", occurred_at=now - timedelta(days=days))
        for days in (400, 100, 0)
    )
    publish(deployment, [ancient, older, recent])
    wait_for_records(deployment, 3)

    # The union shortens its retention to 200 days: the month 400 days ago goes at start.
    deployment["audit"].stop()
    deployment.start("audit", WEIQUAN_AUDIT_RETENTION_DAYS="200")
    ancient_month = partition_for(now - timedelta(days=400)).name
    deadline = time.monotonic() + 30
    while True:
        names = {
            r["relname"]
            for r in asyncio.run(
                stored(
                    deployment,
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'audit_records'::regclass",
                )
            )
        }
        if ancient_month not in names or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert ancient_month not in names
    assert partition_for(now - timedelta(days=100)).name in names
    assert partition_for(now).name in names
    assert partition_for(now + timedelta(days=62)).name in names  # made ahead
    remaining = asyncio.run(stored(deployment, "SELECT record_id FROM audit_records"))
    assert {str(r["record_id"]) for r in remaining} == {
        older.payload["record_id"],
        recent.payload["record_id"],
    }

    # A replayed record already past retention is not stored; the next one is.
    replayed = audit_event(OPERATOR, "case.reported", occurred_at=now - timedelta(days=300))
    fresh = audit_event(OPERATOR, "case.reported")
    publish(deployment, [replayed, fresh])
    wait_for_records(deployment, 3)
    ids = {
        str(r["record_id"])
        for r in asyncio.run(stored(deployment, "SELECT record_id FROM audit_records"))
    }
    assert fresh.payload["record_id"] in ids and replayed.payload["record_id"] not in ids
