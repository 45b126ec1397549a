"""Notification: messages sent per second with the SMS provider answering in 50 ms, and the
WeChat rate while the SMS provider hangs.

The real notification process on the stack's PostgreSQL and Kafka, with identity (its
service token) and intake (contacts asked at send time). Cases are registered at intake
first (so ``case.reported`` waits on Kafka and each contact lookup finds its case), then
notification starts and drains them: a rate is counted from the first to the last message
the provider's test server accepted.

1. SMS: one ``sms/case_accepted`` per hotline case, the Tencent test server answering each
   ``SendSms`` after 50 ms. The reference, measured in the same run against the same server:
   the same channel code (``TencentSms.send``: the Tencent SDK, signed requests, a thread per
   call) driven directly, with as many concurrent calls as the service has SMS workers. The
   ratio is what claiming, asking intake, recording and the event cost on top of the
   provider's 50 ms.
2. A hanging SMS provider (it takes every request and never answers) must not hold back
   another channel. No rule sends email yet and the sender has no source of an email
   address (intake's contacts carry mobiles and the OpenID only), so no email can go out
   through the service; the other channel measured is WeChat, by the same sender code:
   WeChat cases registered through intake's official-account callback, each making an SMS
   and a WeChat message. WeChat alone (SMS not configured: its messages wait) is the
   reference; then the same with the SMS channel configured and its provider hanging.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from notification.channels.base import Delivery
from notification.channels.sms import SmsSettings, TencentSms
from tests.bench.__main__ import Bench
from tests.integration.test_intake_channels import AES_KEY, APP_ID, TOKEN, FakeWeChatServer
from tests.support.notification_providers import TencentSmsServer, WeChatServer, running
from tests.support.notification_stack import (
    SIGNATURE,
    SMS_APP,
    SMS_TEMPLATE_IDS,
    WECHAT_TEMPLATE_IDS,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call, wechat_answers

SMS_CASES = 400
WECHAT_CASES = 80
PROVIDER_DELAY_S = 0.05
WORKERS_PER_CHANNEL = 2  # the service's default (WEIQUAN_NOTIFICATION_WORKERS_PER_CHANNEL)
TARGET_SMS_RATIO = 0.6
TARGET_WECHAT_RATIO = 0.8


class Stamped(list[Any]):
    """A provider server's list of accepted messages, noting when each was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, item: Any) -> None:
        self.at.append(time.monotonic())
        super().append(item)


class Timed:
    """A provider test server noting when it accepted each message."""

    stamped: Stamped

    def timed(self) -> Stamped:
        self.stamped = Stamped()
        return self.stamped

    @property
    def accepted_at(self) -> list[float]:
        return self.stamped.at


class TimedSmsServer(TencentSmsServer, Timed):
    def __init__(self, **kwargs: Any) -> None:
        TencentSmsServer.__init__(self, **kwargs)
        self.sent = self.timed()


class TimedWeChatServer(WeChatServer, Timed):
    def __init__(self, **kwargs: Any) -> None:
        WeChatServer.__init__(self, **kwargs)
        self.sent = self.timed()


def timed_sms_server() -> TimedSmsServer:
    plain = sms_server()
    return TimedSmsServer(
        secret_id=plain.secret_id,
        secret_key=plain.secret_key,
        sdk_app_id=plain.sdk_app_id,
        sign_name=plain.sign_name,
        templates=plain.templates,
    )


def timed_wechat_server() -> TimedWeChatServer:
    return TimedWeChatServer(
        app_id="wxnotification",
        app_secret="wechat-secret",
        templates=set(WECHAT_TEMPLATE_IDS.values()),
    )


def register_hotline_cases(intake_url: str, count: int, seed: int) -> None:
    rng = random.Random(seed)
    calls = [hotline_call(rng, workers=1) for _ in range(count)]
    with httpx.Client(base_url=intake_url, timeout=30, headers=signed_in(Role.OPERATOR)) as client:

        def post(call: dict[str, Any]) -> None:
            response = client.post("/api/v1/hotline-calls", json=call)
            assert response.status_code == 201, response.text

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post, calls))


def register_wechat_cases(intake_url: str, count: int, seed: int) -> None:
    """Each case made by a worker's conversation with the official account, as WeChat posts
    it to intake (signed and encrypted), nine messages a case."""

    def converse(n: int) -> None:
        worker = FakeWeChatServer(intake_url, "oWkr" + secrets.token_urlsafe(20))
        replies = [worker.send(text) for text in wechat_answers(random.Random(seed * 1000 + n))]
        assert "您的案件编号是" in replies[-1], replies[-1]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(converse, range(count)))


def drain_rate(
    server: Timed, expected: int, started: float, timeout_s: float
) -> tuple[float, float]:
    """(messages/s from the first acceptance to the last, seconds from start to the last)."""
    deadline = time.monotonic() + timeout_s
    while len(server.accepted_at) < expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(server.accepted_at)} of {expected} messages sent")
        time.sleep(0.1)
    times = sorted(server.accepted_at)[:expected]
    return (expected - 1) / (times[-1] - times[0]), times[-1] - started


def sdk_reference(sms: TimedSmsServer, count: int) -> float:
    """The same channel code called directly, WORKERS_PER_CHANNEL calls at a time."""
    channel = TencentSms(
        SmsSettings(
            secret_id=SMS_APP["secret_id"],
            secret_key=SecretStr(SMS_APP["secret_key"]),
            sdk_app_id=SMS_APP["sdk_app_id"],
            signature=SIGNATURE,
            endpoint=sms.endpoint,
            scheme="http",
            timeout_s=5,
            template_ids=SMS_TEMPLATE_IDS,
        )
    )
    rng = random.Random(11)
    deliveries = [
        Delivery(
            message_id=uuid.uuid4(),
            template_id="sms/case_accepted",
            address=f"139{rng.randrange(10**8):08d}",
            text="",
            params=[f"440305-2026-{n:06d}"],
        )
        for n in range(count)
    ]
    before = len(sms.accepted_at)

    async def drive() -> None:
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        for delivery in deliveries:
            queue.put_nowait(delivery)

        async def worker() -> None:
            while not queue.empty():
                await channel.send(queue.get_nowait())

        await asyncio.gather(*(worker() for _ in range(WORKERS_PER_CHANNEL)))

    asyncio.run(drive())
    times = sorted(sms.accepted_at[before:])
    assert len(times) == count, (len(times), len(sms.sent), sms.refused)
    return (count - 1) / (times[-1] - times[0])


def restart(deployment: Deployment, env: dict[str, str]) -> float:
    """notification stopped and started again with ``env`` in place of its channels'
    settings; returns when it was started (monotonic)."""
    service = deployment["notification"]
    service.stop()
    kept = {
        k: v
        for k, v in service.env.items()
        if not k.startswith(("WEIQUAN_NOTIFICATION_SMS_", "WEIQUAN_NOTIFICATION_WECHAT_"))
    }
    service.env = kept | env
    started = time.monotonic()
    service.start()
    service.wait_ready(120)
    return started


def run(bench: Bench) -> None:
    deployment = Deployment(bench.infra)
    bench.deployments.append(deployment)
    with (
        tempfile.TemporaryDirectory() as keys,
        running(timed_sms_server()) as sms,
        running(timed_wechat_server()) as wechat,
    ):
        secret = start_backends(deployment, Path(keys))
        deployment.start(
            "intake",
            WEIQUAN_WECHAT_TOKEN=TOKEN,
            WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
            WEIQUAN_WECHAT_APP_ID=APP_ID,
        )
        intake = deployment["intake"].url
        sms.behaviour.delay_s = PROVIDER_DELAY_S
        # Warm-up of the SDK path and the test server (its threads, the signing).
        sdk_reference(sms, 20)
        reference = sdk_reference(sms, SMS_CASES)
        bench.figure(
            "notification.reference.sdk_sms_per_s",
            reference,
            f"SMS/s (TencentSms.send direct, {WORKERS_PER_CHANNEL} at a time, provider 50 ms)",
        )
        sms.accepted_at.clear()

        # 1. SMS, provider answering in 50 ms.
        register_hotline_cases(intake, SMS_CASES, seed=1)
        env = notification_env(
            deployment,
            sms,
            wechat,
            secret,
            WEIQUAN_NOTIFICATION_WORKERS_PER_CHANNEL=str(WORKERS_PER_CHANNEL),
        )
        started = time.monotonic()
        deployment.start("notification", **env)
        rate, elapsed = drain_rate(sms, SMS_CASES, started, 300)
        bench.figure(
            "notification.sms_sent_per_s",
            rate,
            f"SMS/s (provider 50 ms; {SMS_CASES} cases; target ratio ≥ {TARGET_SMS_RATIO})",
            ratio=rate / reference,
        )
        bench.figure(
            "notification.sms_backlog_drained_s",
            elapsed,
            f"s from start to the {SMS_CASES}th SMS (consumer and sender)",
        )

        # 2a. WeChat alone: the SMS channel not configured (its messages wait).
        wechat_env = {k: v for k, v in env.items() if not k.startswith("WEIQUAN_NOTIFICATION_SMS_")}
        deployment["notification"].stop()
        register_wechat_cases(intake, WECHAT_CASES, seed=2)
        started = restart(deployment, wechat_env)
        alone, _ = drain_rate(wechat, WECHAT_CASES, started, 120)
        bench.figure("notification.wechat_alone_per_s", alone, f"WeChat/s ({WECHAT_CASES} cases)")

        # 2b. The same while the SMS provider takes every request and never answers.
        deployment["notification"].stop()
        wechat.accepted_at.clear()
        release = sms.hold_answers()
        sms.behaviour.delay_s = 0.0
        held_before = len(sms.sent)
        register_wechat_cases(intake, WECHAT_CASES, seed=3)
        started = restart(deployment, env | {"WEIQUAN_NOTIFICATION_SMS_TIMEOUT_S": "600"})
        hung, _ = drain_rate(wechat, WECHAT_CASES, started, 120)
        assert sms.behaviour.received.is_set(), "the SMS sender never reached the provider"
        held = len(sms.sent) - held_before
        bench.figure(
            "notification.wechat_while_sms_hangs_per_s",
            hung,
            f"WeChat/s ({held} SMS held unanswered; target ratio ≥ {TARGET_WECHAT_RATIO})",
            ratio=hung / alone,
        )
        deployment["notification"].kill()  # its SMS workers are still waiting on the provider
        release.set()
