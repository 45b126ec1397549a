"""The sender's workers when no message is due: they back off (up to four times poll_s)
instead of querying the database every poll_s, and a message recorded meanwhile still goes
out within that wait. Same set-up as test_notification_sender (real database, identity,
intake and the local SMS provider)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notification import store
from notification.rules import plan, rule_book
from notification.sender import IDLE_BACKOFF, ChannelSender
from tests.integration.test_notification_sender import (  # noqa: F401  (the fixture)
    Clock,
    backends,
    timing,
    with_sender,
)
from tests.support.notification_providers import running
from tests.support.notification_stack import sms_server
from tests.support.stack import Deployment

pytestmark = pytest.mark.integration


def test_an_idle_sender_backs_off_and_still_sends_promptly(
    deployment: Deployment,
    backends: tuple[str, tuple[str, str, uuid.UUID]],  # noqa: F811
) -> None:
    secret, case = backends
    # A minute ahead: a message recorded during the test is due at once.
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    poll_s = 0.1

    async def body(sender: ChannelSender, conn: Any) -> None:
        sender.poll_s = poll_s
        steps = 0
        step = sender.step

        async def counted() -> bool:
            nonlocal steps
            steps += 1
            return await step()

        sender.step = counted  # type: ignore[method-assign]
        worker = asyncio.create_task(sender.run())
        try:
            # Two workers polling every 0.1 s would look 40 times in 2 s.
            await asyncio.sleep(2)
            assert steps <= 20, f"{steps} polls in 2 s of idling"

            [row] = (await store.known_cases(conn, [case[2]])).values()
            planned = plan(
                rule_book(),
                "case.reported",
                {"case_number": case[0]},
                case_channel="hotline",
                workers=["d" * 64],
            )
            await store.insert_messages(
                conn, [(uuid.uuid4(), "case.reported", row, m) for m in planned]
            )
            recorded = time.monotonic()
            while not sms.sent:
                assert time.monotonic() - recorded < IDLE_BACKOFF * poll_s + 2.0, "not sent"
                await asyncio.sleep(0.02)
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    with running(sms_server()) as sms:
        asyncio.run(with_sender(deployment, secret, sms, clock, timing(), case, 0, body))
    assert [s.phone for s in sms.sent] == [f"+86{case[1]}"]
