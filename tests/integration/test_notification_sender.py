"""The sender with a controlled clock, in this process, on the real notification database,
real identity and intake processes and the local SMS provider: quiet hours defer and never
drop, retries back off and end in notification.failed, a recipient's rate defers, a
recipient's messages on a channel leave in the order they were recorded."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from pydantic import SecretStr

import notification
from notification import store
from notification.channels.sms import SmsSettings, TencentSms
from notification.contacts import IntakeContacts
from notification.rules import plan, rule_book
from notification.sender import ChannelSender, Timing
from notification.timing import QuietHours, RateLimit, RetryPolicy
from tests.support.notification_providers import TencentSmsServer, running
from tests.support.notification_stack import SIGNATURE, SMS_TEMPLATE_IDS, sms_server, start_backends
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.db import prepare_database
from weiquan_shared.demo import hotline_call
from weiquan_shared.service import Runtime
from weiquan_shared.service_client import ServiceTokenClient

pytestmark = pytest.mark.integration

CHINA = ZoneInfo("Asia/Shanghai")
MIGRATIONS = Path(notification.__file__).parent / "migrations"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def register_case(deployment: Deployment) -> tuple[str, str, uuid.UUID]:
    call = hotline_call(random.Random(77), story=0, district="440305")
    response = httpx.post(
        f"{deployment['intake'].url}/api/v1/hotline-calls",
        json=call,
        headers=signed_in(Role.OPERATOR),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["case_number"], call["workers"][0]["mobile"], uuid.UUID(body["case_id"])


async def with_sender(
    deployment: Deployment,
    secret: str,
    sms: TencentSmsServer,
    clock: Clock,
    timing: Timing,
    case: tuple[str, str, uuid.UUID],
    events: int,
    body: Callable[[ChannelSender, Any], Awaitable[None]],
) -> None:
    """Record ``events`` case.reported messages for the case (as the consumer does), then
    run ``body`` with a sender of the SMS channel and a connection to the database."""
    await deployment.provision_async("notification")
    settings = deployment._own_settings("notification")
    pool = await prepare_database(settings, MIGRATIONS)
    runtime = Runtime(settings)
    runtime._pool = pool
    number, _, case_id = case
    credentials = ServiceTokenClient(
        f"{deployment['identity'].url}/api/v1/token", "notification", secret
    )
    contacts = IntakeContacts(deployment["intake"].url, credentials)
    channel = TencentSms(
        SmsSettings(
            secret_id=sms.secret_id,
            secret_key=SecretStr(sms.secret_key),
            sdk_app_id=sms.sdk_app_id,
            signature=SIGNATURE,
            endpoint=sms.endpoint,
            scheme="http",
            template_ids=SMS_TEMPLATE_IDS,
        )
    )
    try:
        async with pool.acquire() as conn:
            await store.remember_cases(
                conn, [(case_id, number, "440305", "hotline", ["d" * 64], clock.now)]
            )
            [row] = (await store.known_cases(conn, [case_id])).values()
            for _ in range(events):
                payload = {"case_number": number}
                planned = plan(
                    rule_book(),
                    "case.reported",
                    payload,
                    case_channel="hotline",
                    workers=["d" * 64],
                )
                await store.insert_messages(
                    conn, [(uuid.uuid4(), "case.reported", row, m) for m in planned]
                )
            await body(ChannelSender(runtime, channel, contacts, timing, clock=clock), conn)
    finally:
        await contacts.aclose()
        await pool.close()


def timing(*, quiet_hours: QuietHours | None = None, rate: RateLimit | None = None) -> Timing:
    never = datetime.min.time()
    return Timing(
        quiet_hours or QuietHours(never, never, CHINA),
        RetryPolicy(3, timedelta(seconds=30), timedelta(minutes=10)),
        rate or RateLimit(5, timedelta(hours=1)),
    )


@pytest.fixture
def backends(deployment: Deployment, tmp_path: Path) -> tuple[str, tuple[str, str, uuid.UUID]]:
    secret = start_backends(deployment, tmp_path, "intake")
    return secret, register_case(deployment)


def test_an_sms_due_at_23_00_is_sent_at_the_morning_hour(
    deployment: Deployment, backends: tuple[str, tuple[str, str, uuid.UUID]]
) -> None:
    secret, case = backends
    # The next 23:00 in China (messages are due from their recording, "now").
    local = datetime.now(CHINA)
    night = local.replace(hour=23, minute=0, second=0, microsecond=0)
    night += timedelta(days=1) if night <= local else timedelta(0)
    morning = night + timedelta(hours=9)
    clock = Clock(night)
    quiet = timing(
        quiet_hours=QuietHours(datetime(1, 1, 1, 21).time(), datetime(1, 1, 1, 8).time(), CHINA)
    )

    async def body(sender: ChannelSender, conn: Any) -> None:
        assert await sender.step() is True  # claimed, and held until the morning
        row = await conn.fetchrow("SELECT * FROM messages")
        assert row["status"] == "pending" and row["due_at"] == morning
        assert row["attempts"] == 0
        clock.now = night + timedelta(hours=6)  # 05:00: still not due
        assert await sender.step() is False
        assert sms.sent == []
        clock.now = morning
        assert await sender.step() is True
        row = await conn.fetchrow("SELECT * FROM messages")
        assert row["status"] == "sent" and row["sent_at"] == morning
        assert [s.phone for s in sms.sent] == [f"+86{case[1]}"]

    with running(sms_server()) as sms:
        asyncio.run(with_sender(deployment, secret, sms, clock, quiet, case, 1, body))


def test_retries_back_off_then_the_message_fails_with_an_event(
    deployment: Deployment, backends: tuple[str, tuple[str, str, uuid.UUID]]
) -> None:
    secret, case = backends
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    clock = Clock(start)

    async def body(sender: ChannelSender, conn: Any) -> None:
        assert await sender.step() is True
        row = await conn.fetchrow("SELECT * FROM messages")
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["due_at"] == start + timedelta(seconds=30)
        assert "LimitExceeded.PhoneNumberDailyLimit" in row["last_error"]
        clock.now = start + timedelta(seconds=10)
        assert await sender.step() is False  # not due yet
        clock.now = start + timedelta(seconds=30)
        assert await sender.step() is True
        row = await conn.fetchrow("SELECT * FROM messages")
        assert row["attempts"] == 2 and row["due_at"] == clock.now + timedelta(seconds=60)
        clock.now += timedelta(seconds=60)
        assert await sender.step() is True
        row = await conn.fetchrow("SELECT * FROM messages")
        assert (row["status"], row["attempts"]) == ("failed", 3)
        assert row["recipient_masked"] == f"{case[1][:3]}****{case[1][-4:]}"
        [event] = await conn.fetch("SELECT body FROM outbox")
        failed = orjson.loads(event["body"])
        assert failed["event_type"] == "notification.failed"
        assert failed["payload"]["attempts"] == 3
        assert failed["payload"]["reason"].startswith("retries exhausted: LimitExceeded")
        assert case[1].encode() not in event["body"]
        assert await sender.step() is False  # a failed message is never claimed again

    with running(sms_server()) as sms:
        sms.failing_numbers[f"+86{case[1]}"] = "LimitExceeded.PhoneNumberDailyLimit"
        asyncio.run(with_sender(deployment, secret, sms, clock, timing(), case, 1, body))
        assert sms.sent == []


def test_a_recipient_gets_at_most_the_rate_and_the_rest_waits(
    deployment: Deployment, backends: tuple[str, tuple[str, str, uuid.UUID]]
) -> None:
    secret, case = backends
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    clock = Clock(start)

    async def body(sender: ChannelSender, conn: Any) -> None:
        assert await sender.step() is True
        assert await sender.step() is True  # the second: deferred by the rate
        rows = await conn.fetch("SELECT * FROM messages ORDER BY status DESC")
        assert [r["status"] for r in rows] == ["sent", "pending"]
        assert rows[1]["due_at"] == start + timedelta(hours=1)
        assert len(sms.sent) == 1
        clock.now = start + timedelta(hours=1)
        assert await sender.step() is True
        assert len(sms.sent) == 2

    with running(sms_server()) as sms:
        rate = timing(rate=RateLimit(1, timedelta(hours=1)))
        asyncio.run(with_sender(deployment, secret, sms, clock, rate, case, 2, body))


def test_a_recipients_messages_leave_in_the_order_they_were_recorded(
    deployment: Deployment, backends: tuple[str, tuple[str, str, uuid.UUID]]
) -> None:
    secret, case = backends
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    clock = Clock(start)

    async def body(sender: ChannelSender, conn: Any) -> None:
        first, second = await conn.fetch("SELECT id FROM messages ORDER BY seq")
        # The later one due first (as a decision recorded by a transaction that began
        # before the case's acceptance was recorded).
        await conn.execute(
            "UPDATE messages SET due_at = due_at - interval '1 second' WHERE id = $1",
            second["id"],
        )
        async with conn.transaction():  # the first in flight at another sender
            await conn.execute("SELECT FROM messages WHERE id = $1 FOR UPDATE", first["id"])
            assert await sender.step() is False  # the second waits for it
        assert sms.sent == []
        assert await sender.step() is True
        status = dict(await conn.fetch("SELECT id, status FROM messages"))
        assert (status[first["id"]], status[second["id"]]) == ("sent", "pending")
        assert await sender.step() is True
        status = dict(await conn.fetch("SELECT id, status FROM messages"))
        assert set(status.values()) == {"sent"} and len(sms.sent) == 2

    with running(sms_server()) as sms:
        asyncio.run(with_sender(deployment, secret, sms, clock, timing(), case, 2, body))
