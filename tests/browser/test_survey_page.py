"""The satisfaction survey in a real headless browser, end to end.

A worker's case is registered at intake (real); its mediation closes with an agreement
(``mediation.closed`` on its topic, as mediation publishes it); notification sends the
worker the survey by SMS (the local Tencent SMS server). The link taken from that SMS is
opened in chromium: 5 chosen, a comment written, submitted, the Chinese thanks shown. A
supervisor signed in on identity's page watches the dashboard's satisfaction rate move
from 0% (one earlier unhappy answer) to 50%. Screenshots in tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.browser import chromium, requires_chromium
from tests.support.kafka import produce_raw
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    SMS_TEMPLATE_IDS,
    events,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import ARTIFACTS, Deployment
from tests.support.staff import CITY, CITY_SUPERVISOR, PASSWORD, add_accounts
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call
from weiquan_shared.envelope import Actor, EventPayload, encode, new_event
from weiquan_shared.events import SurveyAnswered
from weiquan_shared.events.mediation import MediationClosed

pytestmark = [pytest.mark.integration, requires_chromium]
T = TypeVar("T")


def off_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (which calls asyncio.run) in a thread of its own: Playwright's sync API
    keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def publish(deployment: Deployment, payload: EventPayload, producer: str, key: str) -> None:
    envelope = new_event(payload, subject=key, producer=producer, actor=Actor.system(producer))
    off_loop(
        lambda: asyncio.run(
            produce_raw(
                deployment.infra.kafka_bootstrap,
                deployment.settings().topic(payload.event_type),
                [encode(envelope)],
                key=key.encode(),
            )
        )
    )


def satisfaction_is(page: Any, text: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('#kpi-satisfaction').textContent === '{text}'",
        timeout=60_000,
    )


def test_a_worker_answers_the_survey_from_the_sms_link_and_the_dashboard_rate_moves(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake", "projection")
    asyncio.run(add_accounts(deployment, CITY))
    with running(sms_server()) as sms:
        deployment.start(
            "notification",
            **notification_env(
                deployment, sms, None, secret, WEIQUAN_NOTIFICATION_SURVEY_KEY=uuid.uuid4().hex * 2
            ),
        )
        call = hotline_call(random.Random(42), story=0, district="440305")
        registered = httpx.post(
            f"{deployment['intake'].url}/api/v1/hotline-calls",
            json=call,
            headers=signed_in(Role.OPERATOR),
            timeout=15,
        )
        assert registered.status_code == 201, registered.text
        number, case_id = registered.json()["case_number"], registered.json()["case_id"]

        # An earlier answer, unhappy: the rate reads 0% before the worker answers.
        publish(
            deployment,
            SurveyAnswered(
                survey_id=uuid.uuid4(),
                case_id=uuid.uuid4(),
                case_number="440305-2026-990001",
                district_code="440305",
                score=2,
                has_comment=False,
                answered_at=datetime.now(UTC),
                about="mediation",
            ),
            "notification",
            str(uuid.uuid4()),
        )

        with chromium() as browser:  # started after the services (its own event loop)
            supervisor = browser.new_page(
                base_url=deployment["projection"].url,
                locale="zh-CN",
                viewport={"width": 1400, "height": 1000},
            )
            supervisor.set_default_timeout(20_000)
            supervisor.goto(f"{deployment['identity'].url}/login")
            supervisor.fill("#username", CITY_SUPERVISOR)
            supervisor.fill("#password", PASSWORD)
            supervisor.click("#submit")
            supervisor.locator("#who").wait_for()
            supervisor.goto("/dashboard")
            supervisor.select_option("#period", "all")
            satisfaction_is(supervisor, "0%")
            assert "收回评价 1 份" in str(supervisor.text_content("#kpi-satisfaction-label"))

            mediation_id = uuid.uuid4()
            publish(
                deployment,
                MediationClosed(
                    mediation_id=mediation_id,
                    mediation_number="TJ-440305-2026-000042",
                    district_code="440305",
                    case_ids=[uuid.UUID(case_id)],
                    case_numbers=[number],
                    result="agreement",
                    worker_count=1,
                    opened_on=date.today(),
                    closed_at=datetime.now(UTC),
                ),
                "mediation",
                str(mediation_id),
            )
            survey_sms = SMS_TEMPLATE_IDS["sms/mediation_survey"]
            wait_until(
                lambda: any(s.template_id == survey_sms for s in sms.sent), what="the survey's SMS"
            )
            [message] = [s for s in sms.sent if s.template_id == survey_sms]
            assert message.phone == f"+86{call['workers'][0]['mobile']}"
            link = message.params[1]
            assert "/survey/" in link

            worker = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
            # The link points at the public proxy; the test opens it on notification directly.
            worker.goto(deployment["notification"].url + link[link.index("/survey/") :])
            assert worker.text_content("h1") == "工会维权服务满意度调查"
            assert number in str(worker.text_content("main"))
            worker.check("input[name=score][value='5']")
            worker.fill("textarea[name=comment]", "调解员很耐心，谢谢工会")
            worker.screenshot(path=str(ARTIFACTS / "survey-page.png"), full_page=True)
            worker.click("button[type=submit]")
            worker.wait_for_selector("text=提交成功")
            assert "感谢您的评价（5 分：很满意）" in str(worker.text_content("main"))
            worker.screenshot(path=str(ARTIFACTS / "survey-thanks.png"), full_page=True)

            wait_until(
                lambda: len(off_loop(lambda: events(deployment, "survey.answered"))) == 2,
                what="the answer on Kafka",
            )
            # The dashboard moves without a reload: two answers, one satisfied.
            satisfaction_is(supervisor, "50%")
            assert "收回评价 2 份" in str(supervisor.text_content("#kpi-satisfaction-label"))
            supervisor.screenshot(path=str(ARTIFACTS / "survey-dashboard.png"), full_page=True)
