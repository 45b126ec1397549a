"""schemathesis over legal aid's OpenAPI document as the people who use it: a legal-aid
officer (every officer route) and a lawyer not linked to the panel. Nothing may answer 5xx,
whatever the input (dates outside the rules' effective range included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ARTIFACTS, Deployment
from tests.support.tokens import signed_in
from weiquan_shared.auth import Role

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("role", [Role.LEGAL_AID_OFFICER, Role.LAWYER], ids=lambda r: r.value)
def test_no_input_breaks_legal_aid(deployment: Deployment, role: Role) -> None:
    deployment.start("legal_aid")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    har = ARTIFACTS / f"schemathesis-legal_aid-{role.value}.har"
    har.unlink(missing_ok=True)
    token = signed_in(role, expires_in=1800)["Authorization"]
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{deployment['legal_aid'].url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--seed",
        "12351",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "-H",
        f"Authorization: {token}",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    entries = json.loads(har.read_text())["log"]["entries"]
    failures = [
        (e["request"]["method"], e["request"]["url"], e["response"]["status"])
        for e in entries
        if e["response"]["status"] >= 500
    ]
    assert entries, result.stdout + result.stderr
    assert failures == [], result.stdout[-3000:]
