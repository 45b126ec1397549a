"""schemathesis over every service's OpenAPI document, without a token and as an operator.

Without a token no protected route may answer 2xx, and nothing may answer 5xx; with an
operator's token nothing may answer 5xx. Which routes are public is read from the routers'
own declarations (``weiquan_shared.access``). Every answer is read back from schemathesis'
HAR report and counted; the counts are printed.

Also runnable by hand against any running service (add ``-H "Authorization: Bearer …"``):

    .venv/bin/schemathesis run http://127.0.0.1:8101/openapi.json \
        --checks not_a_server_error --max-examples 60 --seed 12351
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute

from tests.support.stack import ARTIFACTS, Deployment, Infra, pii_env
from weiquan_shared.access import app_routes, declared_access
from weiquan_shared.auth import Role

pytestmark = pytest.mark.integration

SERVICES = ("intake", "triage", "projection", "identity")
MAX_EXAMPLES = int(os.environ.get("WEIQUAN_FUZZ_EXAMPLES", "8"))


def public_paths(service: str, tmp_path: Path) -> list[re.Pattern[str]]:
    """The routes of ``service`` declared public, as patterns of concrete paths."""
    os.environ.update(pii_env())
    os.environ["WEIQUAN_IDENTITY_SIGNING_KEYS_FILE"] = str(tmp_path / f"{service}-keys.json")
    app, _ = importlib.import_module(f"{service}.app").create_app()
    patterns = []
    for prefix, route, included_with in app_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        kinds = {kind for kind, _ in declared_access(route, included_with)}
        if kinds == {"public"} or (prefix + route.path) in ("/healthz", "/readyz"):
            template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(prefix + route.path))
            patterns.append(re.compile(f"^{template}$"))
    return patterns


@pytest.fixture(scope="module")
def running(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = Deployment(infra)
    keys = tmp_path_factory.mktemp("identity") / "keys.json"
    try:
        deployment.start(
            *SERVICES,
            WEIQUAN_WECHAT_TOKEN="fuzzToken",
            WEIQUAN_WECHAT_ENCODING_AES_KEY="a" * 43,
            WEIQUAN_WECHAT_APP_ID="wx0000000000000000",
            WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(keys),
            WEIQUAN_IDENTITY_FAILURE_DELAY_S="0.01",
            WEIQUAN_IDENTITY_MAX_FAILURE_DELAY_S="0.02",
        )
        yield deployment
    finally:
        deployment.teardown()


def fuzz(deployment: Deployment, service: str, label: str, headers: dict[str, str]) -> list[dict]:
    """Run schemathesis once; every (method, path, status) it saw, from its HAR report."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    har = ARTIFACTS / f"schemathesis-{service}-{label}.har"
    har.unlink(missing_ok=True)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{deployment[service].url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "12351",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "har",
        "--report-har-path",
        str(har),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    (ARTIFACTS / f"schemathesis-{service}-{label}.txt").write_text(result.stdout + result.stderr)
    entries = json.loads(har.read_text())["log"]["entries"]
    return [
        {
            "method": e["request"]["method"],
            "path": urlsplit(e["request"]["url"]).path,
            "status": e["response"]["status"],
        }
        for e in entries
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_fuzzing_without_a_token_gets_nothing_and_with_one_breaks_nothing(
    running: Deployment, service: str, tmp_path: Path
) -> None:
    public = public_paths(service, tmp_path)
    anonymous = fuzz(running, service, "anonymous", {})
    operator = fuzz(running, service, "operator", running.auth(Role.OPERATOR))

    def protected(entry: dict) -> bool:
        return not any(p.match(entry["path"]) for p in public)

    leaks = [e for e in anonymous if protected(e) and 200 <= e["status"] < 300]
    errors = [e for e in anonymous + operator if e["status"] >= 500]
    for label, entries in (("anonymous", anonymous), ("operator", operator)):
        statuses = Counter(str(e["status"]) for e in entries)
        on_protected = sum(1 for e in entries if protected(e))
        print(
            f"\nschemathesis {service} {label}: {len(entries)} requests "
            f"({on_protected} on protected routes), statuses {dict(sorted(statuses.items()))}"
        )
    assert len(anonymous) > 0 and len(operator) > 0
    assert sum(1 for e in anonymous if protected(e)) > 0
    assert leaks == []
    assert errors == []
