"""Fuzz intake's API from its own OpenAPI document with schemathesis: no answer may be 5xx.

Also runnable by hand against any running intake:

    .venv/bin/schemathesis run http://127.0.0.1:8101/openapi.json \
        --checks not_a_server_error --max-examples 60 --seed 12351
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ARTIFACTS, Deployment

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("WEIQUAN_FUZZ_EXAMPLES", "40"))


def test_schemathesis_finds_no_server_error(deployment: Deployment) -> None:
    deployment.start(
        "intake",
        WEIQUAN_WECHAT_TOKEN="fuzzToken",
        WEIQUAN_WECHAT_ENCODING_AES_KEY="a" * 43,
        WEIQUAN_WECHAT_APP_ID="wx0000000000000000",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{deployment['intake'].url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "12351",
            "--request-timeout",
            "10",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    (ARTIFACTS / "schemathesis-intake.txt").write_text(result.stdout + result.stderr)
    counts = re.search(r"(\d+) generated, (\d+) passed(.*)", result.stdout)
    print("schemathesis:", counts.group(0) if counts else "no summary")
    assert result.returncode == 0, result.stdout[-4000:]
    assert counts and int(counts.group(1)) > 0 and "failed" not in counts.group(3)
