"""The identity service as a real process on the shared PostgreSQL: sign in, refresh with
rotation, lockout with a growing delay, and /api/v1/me through the shared verifier."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from identity import store
from identity.domain import Passwords
from tests.support.stack import ROOT, Deployment
from weiquan_shared.auth import Organisation, Role

pytestmark = pytest.mark.integration

PASSWORD = "调解-Secret-2026"
FAILURE_DELAY_S = 0.3


def identity_env(tmp_path: Path) -> dict[str, str]:
    return {
        "WEIQUAN_IDENTITY_SIGNING_KEYS_FILE": str(tmp_path / "signing-keys.json"),
        "WEIQUAN_IDENTITY_MAX_FAILURES": "3",
        "WEIQUAN_IDENTITY_LOCKOUT_MINUTES": "10",
        "WEIQUAN_IDENTITY_FAILURE_DELAY_S": str(FAILURE_DELAY_S),
        "WEIQUAN_IDENTITY_MAX_FAILURE_DELAY_S": "1",
    }


async def add_user(deployment: Deployment, username: str, role: Role, org: Organisation) -> None:
    conn = await deployment.connect("identity")
    try:
        await store.upsert_user(
            conn,
            username=username,
            display_name="李调解",
            role=role,
            organisation=org,
            districts=["440305"],
            password_hash=Passwords().hash(PASSWORD),
        )
    finally:
        await conn.close()


def token(url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/token", data=form, timeout=10)


@pytest.fixture
def identity(deployment: Deployment, tmp_path: Path) -> str:
    deployment.start("identity", **identity_env(tmp_path))
    asyncio.run(add_user(deployment, "li.m", Role.MEDIATOR, Organisation.PEOPLES_COURT))
    return deployment["identity"].url


def test_discovery_and_jwks_let_anyone_verify_the_tokens_offline(identity: str) -> None:
    discovery = httpx.get(f"{identity}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == identity
    assert discovery["token_endpoint"] == f"{identity}/api/v1/token"
    jwks = httpx.get(discovery["jwks_uri"]).json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])

    answer = token(identity, grant_type="password", username="Li.M", password=PASSWORD)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    verified = jwt.decode(body["access_token"], KeySet.import_key_set(jwks))
    assert verified.header["kid"] == jwks["keys"][0]["kid"]
    assert verified.header["alg"] == "ES256"
    claims = verified.claims
    assert claims["iss"] == identity and claims["aud"] == "weiquan"
    assert claims["weiquan_role"] == "mediator" and claims["weiquan_org"] == "peoples_court"
    assert claims["weiquan_districts"] == ["440305"]
    assert {"exp", "iat", "jti", "sub"} <= claims.keys()

    me = httpx.get(
        f"{identity}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() | {"subject": "-"} == {
        "subject": "-",
        "name": "李调解",
        "role": "mediator",
        "role_name": "调解员",
        "organisation": "peoples_court",
        "organisation_name": "人民法院",
        "districts": ["440305"],
        "issuer": identity,
    }

    anonymous = httpx.get(f"{identity}/api/v1/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    header, payload, signature = body["access_token"].split(".")
    forged_claims = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    tampered = f"{header}.{forged_claims}.{signature}"
    refused = httpx.get(f"{identity}/api/v1/me", headers={"Authorization": f"Bearer {tampered}"})
    assert refused.status_code == 401
    assert refused.json()["message"] == "请先登录：缺少有效的登录凭证，或登录已过期"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(identity: str) -> None:
    first = token(identity, grant_type="password", username="li.m", password=PASSWORD).json()
    second = token(identity, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200, second.text
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert second_body["access_token"] != first["access_token"]

    # The first refresh token again: someone kept a copy. Refused, and the family with it.
    reuse = token(identity, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json() == {
        "error": "invalid_grant",
        "error_description": "登录已过期或已退出，请重新登录",
    }
    after = token(identity, grant_type="refresh_token", refresh_token=second_body["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"

    # An API client signing out: its refresh token stops working.
    third = token(identity, grant_type="password", username="li.m", password=PASSWORD).json()
    revoked = httpx.post(f"{identity}/api/v1/revoke", data={"token": third["refresh_token"]})
    assert revoked.status_code == 200
    dead = token(identity, grant_type="refresh_token", refresh_token=third["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"


def test_oauth_errors_are_json_with_chinese_descriptions(identity: str) -> None:
    unsupported = token(identity, grant_type="authorization_code")
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    assert "grant_type 只能是 password、refresh_token" in unsupported.json()["error_description"]
    # Client credentials are for services with a secret; none is configured here.
    no_client = token(identity, grant_type="client_credentials", client_id="notification")
    assert no_client.status_code == 401
    assert no_client.json() == {"error": "invalid_client", "error_description": "服务凭证无效"}
    missing = token(identity, grant_type="password", username="li.m")
    assert missing.json() == {"error": "invalid_request", "error_description": "请填写用户名和密码"}
    as_json = httpx.post(f"{identity}/api/v1/token", json={"grant_type": "password"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


def test_lockout_with_a_growing_delay_that_does_not_reveal_which_users_exist(
    identity: str,
) -> None:
    def attempt(username: str, password: str) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = token(identity, grant_type="password", username=username, password=password)
        return answer, time.monotonic() - started

    answers = {}
    for username in ("li.m", "nobody.here"):
        first, first_s = attempt(username, "wrong")
        second, second_s = attempt(username, "wrong")
        third, _ = attempt(username, "wrong")
        assert first.json()["error_description"] == "用户名或密码错误"
        assert second.json() == first.json()
        assert first_s >= FAILURE_DELAY_S and second_s >= 2 * FAILURE_DELAY_S
        answers[username] = third.json()
        # Locked now: even the right password is refused, at once.
        locked, _ = attempt(username, PASSWORD)
        assert locked.json() == third.json()

    assert (
        answers["li.m"]
        == answers["nobody.here"]
        == {
            "error": "invalid_grant",
            "error_description": "登录失败次数过多，账户已暂时锁定，请 10 分钟后再试",
        }
    )


def test_demo_accounts_are_generated_once_and_sign_in(
    deployment: Deployment, identity: str, tmp_path: Path
) -> None:
    path = tmp_path / "demo-accounts.txt"
    command = [sys.executable, "-m", "identity", "demo-accounts", str(path)]
    subprocess.run(command, env=deployment.service_env("identity"), cwd=ROOT, check=True)
    first_text = path.read_text(encoding="utf-8")
    # A second run (make up again) keeps the passwords already handed out.
    subprocess.run(command, env=deployment.service_env("identity"), cwd=ROOT, check=True)
    assert path.read_text(encoding="utf-8") == first_text
    assert path.stat().st_mode & 0o777 == 0o600
    line = next(line for line in first_text.splitlines() if line.startswith("demo-supervisor "))
    username, password = line.split()[:2]
    signed_in = token(identity, grant_type="password", username=username, password=password)
    assert signed_in.status_code == 200
    me = httpx.get(
        f"{identity}/api/v1/me",
        headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
    ).json()
    assert me["role_name"] == "督导/领导" and len(me["districts"]) == 9
