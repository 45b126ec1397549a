"""A union's own identity provider, by configuration only: Keycloak signs a user in and a
Weiquan service accepts its token through the shared verifier.

Keycloak 26 (``keycloak-quarkus-dist`` from Maven Central, fetched by
``deploy/local/keycloak.sh fetch``, which ``make install`` runs) needs Java 21+; the test
skips, saying so, only where the machine has none. Keycloak runs in dev mode with an
in-memory database on a free loopback port, with the realms of ``keycloak/*.json``
imported: ``weiquan-union`` (trusted) and ``other-union`` (not trusted). One Keycloak
serves the whole test session and is stopped at its end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.stack import ARTIFACTS, ROOT, Deployment, free_port

pytestmark = pytest.mark.integration

REALMS = Path(__file__).parent / "keycloak"
KEYCLOAK_SH = ROOT / "deploy" / "local" / "keycloak.sh"
# Keycloak's first start builds its Quarkus application: minutes on 2 busy cores.
START_TIMEOUT_S = 900


@dataclass(frozen=True)
class Keycloak:
    url: str

    def issuer(self, realm: str) -> str:
        return f"{self.url}/realms/{realm}"

    def password_grant(self, realm: str, username: str, password: str) -> str:
        answer = httpx.post(
            f"{self.issuer(realm)}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "weiquan-cli",
                "username": username,
                "password": password,
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(KEYCLOAK_SH), *args], capture_output=True, text=True)


def _private_home(dist: Path, home: Path) -> Path:
    """Keycloak's home for this session: its own bin, conf and data/import (the realms),
    the distribution's jars shared through links."""
    home.mkdir(parents=True)
    for name in ("bin", "conf"):
        shutil.copytree(dist / name, home / name)
    for name in ("lib", "providers", "themes"):
        (home / name).symlink_to(dist / name)
    (home / "data" / "import").mkdir(parents=True)
    for realm in REALMS.glob("*.json"):
        shutil.copy(realm, home / "data" / "import" / realm.name)
    return home


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    java = _script("java-home")
    if java.returncode != 0:
        pytest.skip("no Java 21+ on this machine: Keycloak 26 needs one, so this test cannot run")
    fetched = _script("fetch")
    assert fetched.returncode == 0, fetched.stderr
    dist = Path(_script("home").stdout.strip())
    home = _private_home(dist, tmp_path_factory.mktemp("keycloak") / "home")
    port = free_port()
    log_path = ARTIFACTS / "logs" / f"keycloak-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KC_", "KEYCLOAK_", "JAVA_OPTS"))
    }
    env["JAVA_HOME"] = java.stdout.strip()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(home / "bin" / "kc.sh"),
                "start-dev",
                "--http-host=127.0.0.1",
                f"--http-port={port}",
                f"--http-management-port={free_port()}",
                "--db=dev-mem",
                "--import-realm",
            ],
            cwd=home,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group, stopped as one below
        )
    server = Keycloak(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        discovery = f"{server.issuer('weiquan-union')}/.well-known/openid-configuration"
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Keycloak exited ({process.returncode}); see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(discovery, timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"Keycloak not up after {START_TIMEOUT_S}s; see {log_path}")
            time.sleep(2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_keycloak_token_reaches_a_protected_api_by_configuration_alone(
    keycloak: Keycloak, deployment: Deployment, tmp_path: Path
) -> None:
    trusted = keycloak.issuer("weiquan-union")
    deployment.start(
        "identity",
        WEIQUAN_OIDC_ISSUERS=f'["{trusted}"]',
        WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(tmp_path / "signing-keys.json"),
    )
    me_url = f"{deployment['identity'].url}/api/v1/me"

    token = keycloak.password_grant("weiquan-union", "zhao.mediator", "union-test-password")
    me = httpx.get(me_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["issuer"] == trusted
    assert (body["role"], body["role_name"]) == ("mediator", "调解员")
    assert (body["organisation"], body["organisation_name"]) == ("union", "工会")
    assert body["districts"] == ["440305", "440306"]
    assert body["name"] == "调解员 赵"

    # The same Keycloak, a realm nobody configured: its token is refused.
    stranger = keycloak.password_grant("other-union", "qian.supervisor", "other-test-password")
    refused = httpx.get(me_url, headers={"Authorization": f"Bearer {stranger}"}, timeout=30)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.json()["message"] == "请先登录：缺少有效的登录凭证，或登录已过期"
