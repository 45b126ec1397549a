"""Notification end to end on real Kafka and PostgreSQL: a hotline call gets its case
number by SMS and, once triaged, where the case went; contacts come from intake at send
time under notification's own credentials; the delivery log shows it masked."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_intake_channels import (
    AES_KEY,
    APP_ID,
    TOKEN,
    FakeWeChatServer,
)
from tests.support.kafka import produce_raw
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    SIGNATURE,
    SMS_TEMPLATE_IDS,
    events,
    messages,
    notification_env,
    raw_events,
    sms_server,
    start_backends,
    wechat_server,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call, wechat_answers
from weiquan_shared.envelope import Actor, encode, new_event
from weiquan_shared.events import (
    CaseReported,
    CaseRetriaged,
    CaseTriaged,
    DecisionSnapshot,
    EmployerRef,
    TriageReason,
    WorkerRef,
)

pytestmark = pytest.mark.integration

ROUTED = {
    "mediation": "sms/case_routed_mediation",
    "legal_aid": "sms/case_routed_legal_aid",
    "referral": "sms/case_routed_referral",
}


def test_a_hotline_case_is_told_its_number_and_its_route_by_sms(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake", "triage")
    with running(sms_server()) as sms:
        deployment.start("notification", **notification_env(deployment, sms, None, secret))
        call = hotline_call(random.Random(15), story=0, district="440305")
        mobile = call["workers"][0]["mobile"]
        with httpx.Client(base_url=deployment["intake"].url, timeout=10) as client:
            response = client.post(
                "/api/v1/hotline-calls", json=call, headers=signed_in(Role.OPERATOR)
            )
        assert response.status_code == 201, response.text
        number = response.json()["case_number"]

        wait_until(lambda: len(events(deployment, "case.triaged")) == 1, what="triage")
        route = events(deployment, "case.triaged")[0]["payload"]["route"]
        expected = ["sms/case_accepted", ROUTED[route]]
        wait_until(lambda: len(sms.sent) == 2, what="two SMS")
        by_template = {t: pid for t, pid in SMS_TEMPLATE_IDS.items()}
        assert sorted(s.template_id for s in sms.sent) == sorted(by_template[t] for t in expected)
        assert {s.phone for s in sms.sent} == {f"+86{mobile}"}
        assert all(s.sign_name == SIGNATURE and s.params[0] == number for s in sms.sent)

        # The delivery log: what, when, to whom (masked), channel, status.
        wait_until(lambda: all(m["status"] == "sent" for m in messages(deployment)))
        with httpx.Client(base_url=deployment["notification"].url, timeout=10) as client:
            log = client.get(
                f"/api/v1/cases/{number}/deliveries", headers=signed_in(Role.TRIAGE_OFFICER)
            )
            assert log.status_code == 200, log.text
            entries = log.json()
            assert sorted(e["template_id"] for e in entries) == sorted(expected)
            for entry in entries:
                assert entry["status"] == "sent" and entry["status_name"] == "已发送"
                assert entry["channel_name"] == "短信" and entry["recipient"] == "职工1"
                assert entry["recipient_to"] == f"{mobile[:3]}****{mobile[-4:]}"
                assert number in entry["text"]
            assert mobile not in log.text
            # District scope: a case outside the caller's districts is not found; a lawyer
            # does not work cases here.
            other = client.get(
                f"/api/v1/cases/{number}/deliveries",
                headers=signed_in(Role.TRIAGE_OFFICER, districts=("440303",)),
            )
            assert other.status_code == 404 and "工作范围" in other.json()["detail"]
            assert (
                client.get(
                    f"/api/v1/cases/{number}/deliveries", headers=signed_in(Role.LAWYER)
                ).status_code
                == 403
            )

        # notification.sent for each, with no contact on Kafka.
        wait_until(lambda: len(events(deployment, "notification.sent")) == 2)
        sent = events(deployment, "notification.sent")
        assert {e["payload"]["template_id"] for e in sent} == set(expected)
        assert all(e["payload"]["case_number"] == number for e in sent)
        assert not any(
            mobile.encode() in raw for raw in raw_events(deployment, "notification.sent")
        )

        # Intake audited each lookup as the notification service, with its purpose.
        def lookups() -> list[dict[str, Any]]:
            return [
                e
                for e in events(deployment, "audit.recorded")
                if e["payload"]["action"] == "pii.looked_up"
            ]

        wait_until(lambda: len(lookups()) == 2, what="audited lookups")
        assert {e["actor"]["id"] for e in lookups()} == {"notification"}
        assert {e["payload"]["reason"] for e in lookups()} == set(expected)


def test_a_channel_without_settings_keeps_its_messages_waiting_and_says_so(
    deployment: Deployment, tmp_path: Path
) -> None:
    """A WeChat case with WeChat not configured: its WeChat message waits (pending), the
    channels report shows what is missing. Its SMS cannot find the case at intake (the
    event was put on Kafka directly): failed at once, with notification.failed."""
    secret = start_backends(deployment, tmp_path, "intake")
    with running(sms_server()) as sms:
        deployment.start("notification", **notification_env(deployment, sms, None, secret))
        case = CaseReported(
            case_id=uuid.uuid4(),
            case_number="440305-2026-990001",
            channel="wechat",
            channel_ref="wx-msg-1",
            reported_at=datetime.now(UTC),
            district_code="440305",
            employer=EmployerRef(name="深圳市某某物流有限公司", district_code="440305"),
            workers=[WorkerRef(worker_ref="c" * 64)],
            summary="公司拖欠两个月工资。",
        )
        envelope = new_event(
            case, subject=str(case.case_id), producer="intake", actor=Actor.system("intake")
        )
        asyncio.run(
            produce_raw(
                deployment.infra.kafka_bootstrap,
                deployment.settings().topic("case.reported"),
                [encode(envelope)],
                key=str(case.case_id).encode(),
            )
        )
        wait_until(lambda: len(events(deployment, "notification.failed")) == 1)
        failed = events(deployment, "notification.failed")[0]["payload"]
        assert failed["template_id"] == "sms/case_accepted"
        assert "ContactNotFound" in failed["reason"]
        rows = {m["channel"]: m for m in messages(deployment)}
        assert rows["wechat"]["status"] == "pending" and rows["wechat"]["attempts"] == 0
        assert rows["sms"]["status"] == "failed"
        with httpx.Client(base_url=deployment["notification"].url, timeout=10) as client:
            state = client.get("/api/v1/channels", headers=signed_in(Role.ADMIN))
        assert state.status_code == 200
        channels = {c["channel"]: c for c in state.json()}
        assert channels["sms"]["configured"] is True
        assert channels["wechat"]["configured"] is False
        assert channels["wechat"]["pending"] == 1
        assert "WEIQUAN_NOTIFICATION_WECHAT_APP_ID" in channels["wechat"]["missing_settings"]
        assert channels["email"]["configured"] is False
        assert "channel not configured" in deployment["notification"].log_text()
        assert sms.sent == []

    # Only notification's own credentials open intake's contacts; nobody else's.
    token_url = f"{deployment['identity'].url}/api/v1/token"
    refused = httpx.post(
        token_url, data={"grant_type": "client_credentials"}, auth=("notification", "wrong")
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    granted = httpx.post(
        token_url, data={"grant_type": "client_credentials"}, auth=("notification", secret)
    )
    assert granted.status_code == 200 and granted.json()["expires_in"] == 300
    contacts = f"{deployment['intake'].url}/api/v1/internal/cases/{case.case_number}/contacts"
    as_operator = httpx.get(
        contacts, params={"purpose": "sms/case_accepted"}, headers=signed_in(Role.OPERATOR)
    )
    assert as_operator.status_code == 403 and as_operator.json()["detail"]
    service_auth = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    unknown = httpx.get(contacts, params={"purpose": "sms/case_accepted"}, headers=service_auth)
    assert unknown.status_code == 404
    as_service_elsewhere = httpx.get(
        f"{deployment['intake'].url}/api/v1/cases/{case.case_number}", headers=service_auth
    )
    assert as_service_elsewhere.status_code == 401


def test_a_wechat_case_is_answered_on_wechat_while_the_sms_provider_hangs(
    deployment: Deployment, tmp_path: Path
) -> None:
    """The OpenID comes from intake (kept encrypted there, never on Kafka); a provider that
    holds its answers holds back only its own channel."""
    secret = start_backends(deployment, tmp_path)
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN=TOKEN,
        WEIQUAN_WECHAT_ENCODING_AES_KEY=AES_KEY,
        WEIQUAN_WECHAT_APP_ID=APP_ID,
    )
    with running(sms_server()) as sms, running(wechat_server()) as wechat:
        release = sms.hold_answers()
        deployment.start(
            "notification",
            **notification_env(
                deployment, sms, wechat, secret, WEIQUAN_NOTIFICATION_SMS_TIMEOUT_S="60"
            ),
        )
        openid = "oWkr" + secrets.token_urlsafe(20)
        worker = FakeWeChatServer(deployment["intake"].url, openid)
        replies = [worker.send(text) for text in wechat_answers(random.Random(8), story=0)]
        number = replies[-1].split("您的案件编号是 ")[1].split("，")[0]

        wait_until(lambda: len(wechat.sent) == 1, what="the WeChat message")
        [message] = wechat.sent
        assert message.openid == openid and message.data["keyword1"] == number
        assert sms.behaviour.received.is_set()  # the SMS is at the provider, unanswered
        rows = {m["channel"]: m for m in messages(deployment)}
        assert rows["wechat"]["status"] == "sent" and rows["sms"]["status"] == "pending"
        release.set()
        wait_until(lambda: messages(deployment, "channel = 'sms'")[0]["status"] == "sent")
        assert len(sms.sent) == 1
        for event_type in ("case.reported", "notification.sent", "audit.recorded"):
            assert not any(openid.encode() in raw for raw in raw_events(deployment, event_type))
        assert openid not in deployment["notification"].log_text()


def publish(deployment: Deployment, *payloads: Any) -> list[bytes]:
    raws = []
    for payload in payloads:
        envelope = new_event(
            payload,
            subject=str(payload.case_id),
            producer=payload.producer,
            actor=Actor.system(payload.producer),
        )
        raws.append(encode(envelope))
        asyncio.run(
            produce_raw(
                deployment.infra.kafka_bootstrap,
                deployment.settings().topic(payload.event_type),
                [raws[-1]],
                key=str(payload.case_id).encode(),
            )
        )
    return raws


def test_a_decision_before_its_case_waits_and_a_retriage_tells_only_a_new_route(
    deployment: Deployment,
) -> None:
    """No channel configured: the messages are recorded and wait, which is what is checked."""
    deployment.start("notification")
    case_id, number, now = uuid.uuid4(), "440305-2026-770001", datetime.now(UTC)
    triaged = CaseTriaged(
        case_id=case_id,
        case_number=number,
        category="wage_arrears",
        urgency="normal",
        route="mediation",
        route_detail="mediation.union",
        reasons=[TriageReason(rule="route.default", text="一般劳动争议，先行调解")],
        triaged_at=now,
    )
    [triaged_raw] = publish(deployment, triaged)

    def waiting() -> int:
        async def run() -> int:
            conn = await deployment.connect("notification")
            try:
                return int(await conn.fetchval("SELECT count(*) FROM waiting_events"))
            finally:
                await conn.close()

        return asyncio.run(run())

    wait_until(lambda: waiting() == 1, what="the decision waiting for its case")
    assert messages(deployment) == []
    publish(
        deployment,
        CaseReported(
            case_id=case_id,
            case_number=number,
            channel="hotline",
            channel_ref="12351-order",
            reported_at=now,
            district_code="440305",
            employer=EmployerRef(name="深圳市某某制造有限公司", district_code="440305"),
            workers=[WorkerRef(worker_ref="f" * 64), WorkerRef(worker_ref="0" * 64)],
            summary="拖欠工资。",
        ),
    )
    wait_until(lambda: len(messages(deployment)) == 4, what="accepted and routed, two workers")
    assert waiting() == 0
    got = sorted((m["template_id"], m["worker_position"]) for m in messages(deployment))
    assert got == [
        ("sms/case_accepted", 0),
        ("sms/case_accepted", 1),
        ("sms/case_routed_mediation", 0),
        ("sms/case_routed_mediation", 1),
    ]
    assert {m["status"] for m in messages(deployment)} == {"pending"}

    previous = DecisionSnapshot(
        category="wage_arrears", urgency="normal", route="mediation", route_detail="mediation.union"
    )
    same_route = CaseRetriaged(
        case_id=case_id,
        case_number=number,
        category="wage_arrears",
        urgency="urgent",
        route="mediation",
        route_detail="mediation.union",
        reasons=[TriageReason(rule="override", text="调整紧急程度")],
        previous=previous,
        retriaged_by="officer",
        officer_id="t-1",
        note="只调整紧急程度",
        retriaged_at=now,
        decision_seq=2,
    )
    new_route = same_route.model_copy(
        update={"route": "legal_aid", "route_detail": "legal_aid.union", "decision_seq": 3}
    )
    publish(deployment, same_route, new_route)
    wait_until(lambda: len(messages(deployment)) == 6, what="the new route's messages")
    routed = [m for m in messages(deployment) if m["event_type"] == "case.retriaged"]
    assert {m["template_id"] for m in routed} == {"sms/case_routed_legal_aid"}
    # The same decision again (a redelivery): nothing new.
    asyncio.run(
        produce_raw(
            deployment.infra.kafka_bootstrap,
            deployment.settings().topic("case.triaged"),
            [triaged_raw],
            key=str(case_id).encode(),
        )
    )
    time.sleep(3)
    assert len(messages(deployment)) == 6
