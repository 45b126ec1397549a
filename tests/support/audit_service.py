"""The audit service in a test deployment: identity beside it for sign-in, users per role,
and audit.recorded events put on the real topic as other services' outboxes put them."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from identity import store as identity_store
from identity.domain import Passwords
from tests.support.kafka import produce_raw
from tests.support.stack import Deployment
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.envelope import Actor, Envelope, encode, new_event
from weiquan_shared.events import AuditRecorded

PASSWORD = "审计-Secret-2026"


async def _add_users(deployment: Deployment, users: dict[str, Role]) -> None:
    conn = await deployment.connect("identity")
    try:
        for username, role in users.items():
            await identity_store.upsert_user(
                conn,
                username=username,
                display_name=f"测试{role.label}",
                role=role,
                organisation=Organisation.UNION,
                districts=["440305"],
                password_hash=Passwords().hash(PASSWORD),
            )
    finally:
        await conn.close()


def start_with_identity(deployment: Deployment, tmp_path: Path, **audit_env: str) -> None:
    """identity (users ``admin.wang`` and ``supervisor.li``), then audit trusting it."""
    deployment.start(
        "identity",
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "signing-keys.json"),
    )
    identity = deployment["identity"].url
    asyncio.run(
        _add_users(deployment, {"admin.wang": Role.ADMIN, "supervisor.li": Role.SUPERVISOR})
    )
    deployment.start(
        "audit",
        WEIQUAN_OIDC_ISSUERS=f'["{identity}"]',
        WEIQUAN_SIGN_IN_URL=f"{identity}/login",
        **audit_env,
    )


def access_token(deployment: Deployment, username: str) -> str:
    answer = httpx.post(
        f"{deployment['identity'].url}/api/v1/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def audit_event(
    actor: Actor,
    action: str,
    *,
    service: str = "intake",
    occurred_at: datetime | None = None,
    **fields: Any,
) -> Envelope:
    """An audit.recorded envelope as a service's unit of work builds it."""
    record = AuditRecorded(
        record_id=uuid.uuid4(),
        service=service,
        action=action,
        occurred_at=occurred_at or datetime.now(UTC),
        **fields,
    )
    return new_event(record, subject=str(record.case_id or actor), producer=service, actor=actor)


def publish(deployment: Deployment, events: list[Envelope]) -> None:
    """Onto the namespace's audit.recorded topic, each keyed by its subject (in order)."""
    topic = deployment.settings().topic("audit.recorded")

    async def send() -> None:
        for event in events:
            await produce_raw(
                deployment.infra.kafka_bootstrap, topic, [encode(event)], event.subject.encode()
            )

    asyncio.run(send())


async def stored(deployment: Deployment, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of the audit database, read as the audit service's own role."""
    conn = await deployment.connect("audit")
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def wait_for_records(deployment: Deployment, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = asyncio.run(stored(deployment, "SELECT count(*) AS n FROM audit_records"))
        if rows[0]["n"] >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{rows[0]['n']} audit records stored, {count} expected")
        time.sleep(0.3)
