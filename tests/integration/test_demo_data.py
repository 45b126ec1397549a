"""`make up`'s demo data is registered by the demo users, so the audit trail has content."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.kafka import read_topic
from tests.support.stack import ROOT, Deployment
from weiquan_shared.envelope import decode
from weiquan_shared.events import AuditRecorded

pytestmark = pytest.mark.integration


def test_demo_cases_searches_reveals_and_overrides_are_the_demo_users(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.start("identity", WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "keys.json"))
    identity = deployment["identity"].url
    accounts = tmp_path / "demo-accounts.txt"
    subprocess.run(
        [sys.executable, "-m", "identity", "demo-accounts", str(accounts)],
        env=deployment.service_env("identity"),
        cwd=ROOT,
        check=True,
    )
    deployment.start("intake", "triage", "mediation", WEIQUAN_OIDC_ISSUERS=json.dumps([identity]))
    loaded = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "local" / "demo_data.py")],
        env={
            **deployment.service_env("intake"),
            "WEIQUAN_RUN_DIR": str(tmp_path),
            "WEIQUAN_IDENTITY_URL": identity,
            "WEIQUAN_INTAKE_URL": deployment["intake"].url,
            "WEIQUAN_TRIAGE_URL": deployment["triage"].url,
            "WEIQUAN_MEDIATION_URL": deployment["mediation"].url,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    print(loaded.stdout)
    assert "87 cases registered" in loaded.stdout
    assert "6 mediation rooms added" in loaded.stdout
    booked = int(loaded.stdout.split(" mediation sessions booked")[0].rsplit(" ", 1)[-1])
    assert booked >= 6

    settings = deployment.settings()
    records = asyncio.run(read_topic(settings.kafka_bootstrap, settings.topic("audit.recorded")))
    audits = [decode(r.value) for r in records]
    actions = Counter(
        (payload.action, envelope.acted_by().role)
        for envelope, payload in audits
        if isinstance(payload, AuditRecorded)
    )
    assert actions[("case.reported", "operator")] >= 81
    assert actions[("case.reported", "walk_in_clerk")] == 6
    assert actions[("case.searched_by_mobile", "operator")] >= 1
    assert actions[("pii.revealed", "operator")] >= 1
    assert actions[("pii.revealed", "triage_officer")] >= 1
    assert actions[("mediation.session_scheduled", "supervisor")] == booked
    assert actions[("mediation.session_held", "supervisor")] >= 1
    # The case file has content: notes, call backs, consent, a voided test call.
    assert actions[("case.note_added", "operator")] >= 1
    assert actions[("case.contact_recorded", "operator")] >= 1
    assert actions[("case.consent_recorded", "operator")] >= 1
    assert actions[("case.voided", "supervisor")] == 1
    assert "1 test call voided" in loaded.stdout
    assert not [e for e, _ in audits if e.acted_by().kind == "user" and e.acted_by().role is None]
