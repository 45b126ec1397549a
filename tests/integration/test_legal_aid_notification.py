"""A denied legal-aid application tells the worker why, in Chinese, by SMS: a hotline case
registered at intake (real, the mobile kept there), routed to legal aid, denied by the
officer's decision at legal_aid (real); notification consumes ``legal_aid.denied``, looks
the mobile up at intake and sends one SMS through the local Tencent Cloud server, its text
carrying the reason and how to object."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import httpx
import pytest

from notification.rules import render
from tests.support.legal_aid import DISTRICT, decide, queued_application, triage
from tests.support.notification_providers import running
from tests.support.notification_stack import (
    SIGNATURE,
    SMS_TEMPLATE_IDS,
    messages,
    notification_env,
    sms_server,
    start_backends,
)
from tests.support.stack import Deployment
from tests.support.tokens import signed_in
from tests.support.waiting import wait_until
from weiquan_shared import labels
from weiquan_shared.auth import Role
from weiquan_shared.demo import hotline_call

pytestmark = pytest.mark.integration


def test_a_denied_application_is_told_by_sms_with_its_reasons_in_chinese(
    deployment: Deployment, tmp_path: Path
) -> None:
    secret = start_backends(deployment, tmp_path, "intake", "legal_aid")
    with running(sms_server()) as sms:
        deployment.start("notification", **notification_env(deployment, sms, None, secret))
        call = hotline_call(random.Random(15), story=0, district=DISTRICT)
        mobile = call["workers"][0]["mobile"]
        # A local worker (not a migrant worker): the hardship test applies (Art. 42 exempts
        # migrant workers' wage claims), and a household this well off is denied.
        call["workers"][0]["is_migrant_worker"] = False
        registered = httpx.post(
            f"{deployment['intake'].url}/api/v1/hotline-calls",
            json=call,
            headers=signed_in(Role.OPERATOR),
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        number, case_id = registered.json()["case_number"], uuid.UUID(registered.json()["case_id"])
        triage(deployment, case_id, number, "legal_aid")

        base = deployment["legal_aid"].url + "/api/v1"
        officer = signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,))

        app = queued_application(base, officer, number, "the application in the officer's queue")
        api = f"{base}/applications/{app['application_number']}"
        decided = decide(api, officer, household_size=2, income="30000.00")
        assert decided.json()["reason_codes"] == ["income_above_standard"], decided.text

        denial = SMS_TEMPLATE_IDS["sms/legal_aid_denied"]
        wait_until(lambda: any(s.template_id == denial for s in sms.sent), what="the denial's SMS")
        [sent] = [s for s in sms.sent if s.template_id == denial]
        assert sent.phone == f"+86{mobile}" and sent.sign_name == SIGNATURE
        reason = labels.LEGAL_AID_DENIAL_REASONS["income_above_standard"]
        assert sent.params == [number, reason]
        # The text the provider sends (its approved template filled with the values).
        text = render("sms/legal_aid_denied", {"case_number": number, "reasons": reason})
        assert reason in text and "异议" in text and "区司法局" in text

        wait_until(
            lambda: (
                [
                    m["status"]
                    for m in messages(deployment, "template_id = $1", "sms/legal_aid_denied")
                ]
                == ["sent"]
            ),
            what="one sent row for the denial",
        )
        with httpx.Client(base_url=deployment["notification"].url, timeout=10) as client:
            log = client.get(
                f"/api/v1/cases/{number}/deliveries",
                headers=signed_in(Role.LEGAL_AID_OFFICER, districts=(DISTRICT,)),
            )
        assert log.status_code == 200, log.text
        [entry] = [e for e in log.json() if e["template_id"] == "sms/legal_aid_denied"]
        assert reason in entry["text"] and mobile not in log.text
        assert mobile not in deployment["notification"].log_text()
