"""Notification: messages sent per second with the SMS provider answering in 50 ms, and the
email rate while the SMS provider hangs.

The real notification process on the stack's PostgreSQL and Kafka, with identity (its
service token, staff's work addresses) and intake (workers' contacts asked at send time).
Its events wait on Kafka first (cases registered at intake, assignments produced), then
notification starts and drains them: a rate is counted from the first to the last message
the provider's test server accepted.

1. SMS: one ``sms/case_accepted`` per hotline case, the Tencent test server answering each
   ``SendSms`` after 50 ms. The reference, measured in the same run against the same server:
   the same channel code (``TencentSms.send``: the Tencent SDK, signed requests, a thread per
   call) driven directly, with as many concurrent calls as the service has SMS workers. The
   ratio is what claiming, asking intake, recording and the event cost on top of the
   provider's 50 ms.
2. A hanging SMS provider (it takes every request and never answers) must not hold back
   email. Each ``mediation.assigned`` names a mediator account seeded at identity with a
   work email (rule ``mediator.assigned.email``): one email each, its address asked of
   identity with notification's service token, sent through the real sender to the aiosmtpd
   process (a Maildir; a message's acceptance time is in its file name). Email alone (the
   SMS channel not configured) is the reference; then the same volume with the SMS channel
   configured, its provider hanging, and hotline cases' SMS pending behind the held ones.
   The per-recipient rate limit (5 an hour by default) is raised for the run
   (``WEIQUAN_NOTIFICATION_RATE_MESSAGES``): four mediators receive every assignment, which
   would otherwise cap the email at 20.
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from notification.channels.base import Delivery
from notification.channels.sms import SmsSettings, TencentSms
from tests.bench.__main__ import Bench
from tests.integration.test_notification_staff import add_staff
from tests.support.kafka import publish_events
from tests.support.notification_providers import (
    SmtpServer,
    TencentSmsServer,
    running,
    smtp_server,
)
from tests.support.notification_stack import (
    SIGNATURE,
    SMS_APP,
    SMS_TEMPLATE_IDS,
    messages,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, new_event
from weiquan_shared.events.mediation import MediationAssigned

SMS_CASES = 400
EMAILS = 200  # per measurement (alone, then while SMS hangs)
SMS_PENDING_CASES = 40  # hotline cases whose SMS wait behind the hanging provider
PROVIDER_DELAY_S = 0.05
WORKERS_PER_CHANNEL = 2  # the service's default (WEIQUAN_NOTIFICATION_WORKERS_PER_CHANNEL)
TARGET_SMS_RATIO = 0.6
TARGET_EMAIL_RATIO = 0.8
SENDER = "weiquan@szftu.org.cn"
MAILDIR_NAME = re.compile(r"(?P<seconds>\d+)\.M(?P<micros>\d+)P")
MEDIATORS = [  # (username, name, work email, mobile)
    ("bench.zhang", "张敏", "zhang.min@nsftu.org.cn", "13923450104"),
    ("bench.liu", "刘洋", "liu.yang@nsftu.org.cn", "13923450105"),
    ("bench.chen", "陈静", "chen.jing@nsftu.org.cn", "13923450106"),
    ("bench.wang", "王磊", "wang.lei@nsftu.org.cn", "13923450108"),
]


class Stamped(list[Any]):
    """A provider server's list of accepted messages, noting when each was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, item: Any) -> None:
        self.at.append(time.monotonic())
        super().append(item)


class TimedSmsServer(TencentSmsServer):
    """The Tencent test server noting when it accepted each message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stamped = Stamped()
        self.sent = self.stamped

    @property
    def accepted_at(self) -> list[float]:
        return self.stamped.at


def timed_sms_server() -> TimedSmsServer:
    plain = sms_server()
    return TimedSmsServer(
        secret_id=plain.secret_id,
        secret_key=plain.secret_key,
        sdk_app_id=plain.sdk_app_id,
        sign_name=plain.sign_name,
        templates=plain.templates,
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


def drain_rate(
    server: TimedSmsServer, expected: int, started: float, timeout_s: float
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


def publish_assignments(deployment: Deployment, mediators: list[str], count: int) -> None:
    """``count`` mediations assigned by the rules, each to one of ``mediators`` as lead
    (round robin), as mediation publishes them (key: the mediation)."""
    envelopes = []
    for n in range(count):
        mediation_id = uuid.uuid4()
        payload = MediationAssigned(
            mediation_id=mediation_id,
            mediation_number=f"TJ-440305-2026-{n + 1:06d}",
            district_code="440305",
            case_ids=[uuid.uuid4()],
            case_numbers=[f"440305-2026-{n + 1:06d}"],
            lead_organisation="union",
            organisations=["union"],
            five_party=False,
            rule_ids=["assign.union_default"],
            assigned_at=datetime.now(UTC),
            assigned_by="rules",
            lead_mediator_id=mediators[n % len(mediators)],
            lead_mediator_name=MEDIATORS[n % len(mediators)][1],
        )
        envelopes.append(
            new_event(
                payload,
                subject=str(mediation_id),
                producer="mediation",
                actor=Actor.system("mediation"),
            )
        )
    asyncio.run(publish_events(deployment.infra.kafka_bootstrap, deployment.namespace, envelopes))


def mail_accepted(smtp: SmtpServer) -> dict[str, float]:
    """Each message the SMTP server delivered, with when it accepted it (wall clock): the
    Maildir file name begins with the seconds and microseconds of its creation
    (``1764682291.M301330P17979Q2.host``)."""
    accepted = {}
    for folder in ("new", "cur"):
        for path in (smtp.maildir / folder).iterdir():
            created = MAILDIR_NAME.match(path.name)
            assert created is not None, path.name
            accepted[path.name] = int(created["seconds"]) + int(created["micros"]) / 1e6
    return accepted


def email_rate(smtp: SmtpServer, before: set[str], expected: int, timeout_s: float) -> float:
    """Emails/s from the first to the ``expected``-th delivered since ``before``."""
    deadline = time.monotonic() + timeout_s
    while True:
        fresh = {k: v for k, v in mail_accepted(smtp).items() if k not in before}
        if len(fresh) >= expected:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(fresh)} of {expected} emails delivered")
        time.sleep(0.1)
    times = sorted(fresh.values())[:expected]
    return (expected - 1) / (times[-1] - times[0])


def restart(deployment: Deployment, env: dict[str, str]) -> None:
    """notification started again with ``env`` in place of its SMS settings."""
    service = deployment["notification"]
    service.stop()
    kept = {k: v for k, v in service.env.items() if not k.startswith("WEIQUAN_NOTIFICATION_SMS_")}
    service.env = kept | env
    service.start()
    service.wait_ready(120)


def run(bench: Bench) -> None:
    deployment = Deployment(bench.infra)
    bench.deployments.append(deployment)
    with (
        tempfile.TemporaryDirectory() as scratch,
        running(timed_sms_server()) as sms,
        smtp_server(Path(scratch)) as smtp,
    ):
        secret = start_backends(deployment, Path(scratch))
        deployment.start("intake")
        intake = deployment["intake"].url
        mediators = [
            add_staff(deployment, username, name, Role.MEDIATOR, email, mobile)
            for username, name, email, mobile in MEDIATORS
        ]
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
            None,
            secret,
            WEIQUAN_NOTIFICATION_WORKERS_PER_CHANNEL=str(WORKERS_PER_CHANNEL),
            WEIQUAN_NOTIFICATION_IDENTITY_URL=deployment["identity"].url,
            WEIQUAN_NOTIFICATION_SMTP_HOST=smtp.host,
            WEIQUAN_NOTIFICATION_SMTP_PORT=str(smtp.port),
            WEIQUAN_NOTIFICATION_SMTP_SENDER=SENDER,
            # Every assignment goes to one of four mediators: not capped at 5 an hour each.
            WEIQUAN_NOTIFICATION_RATE_MESSAGES="100000",
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

        # 2a. Email alone: the SMS channel not configured.
        email_env = {k: v for k, v in env.items() if not k.startswith("WEIQUAN_NOTIFICATION_SMS_")}
        deployment["notification"].stop()
        publish_assignments(deployment, mediators, EMAILS)
        before = set(mail_accepted(smtp))
        restart(deployment, email_env)
        alone = email_rate(smtp, before, EMAILS, 120)
        bench.figure(
            "notification.email_alone_per_s",
            alone,
            f"emails/s ({EMAILS} assignments, SMTP to aiosmtpd, SMS not configured)",
        )

        # 2b. The same volume while the SMS provider takes every request and never answers,
        # hotline cases' SMS waiting behind the held ones.
        deployment["notification"].stop()
        release = sms.hold_answers()
        sms.behaviour.delay_s = 0.0
        held_before = len(sms.sent)
        register_hotline_cases(intake, SMS_PENDING_CASES, seed=3)
        publish_assignments(deployment, mediators, EMAILS)
        before = set(mail_accepted(smtp))
        restart(deployment, env | {"WEIQUAN_NOTIFICATION_SMS_TIMEOUT_S": "600"})
        hung = email_rate(smtp, before, EMAILS, 120)
        assert sms.behaviour.received.is_set(), "the SMS sender never reached the provider"
        held = len(sms.sent) - held_before
        pending = len(messages(deployment, "channel = 'sms' AND status = 'pending'"))
        bench.figure(
            "notification.email_while_sms_hangs_per_s",
            hung,
            f"emails/s ({held} SMS held by the provider, {pending} SMS unsent; "
            f"target ratio ≥ {TARGET_EMAIL_RATIO})",
            ratio=hung / alone,
        )
        deployment["notification"].kill()  # its SMS workers are still waiting on the provider
        release.set()
