"""Identity's staff directory: the people a case page may name as responsible (承办人)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from identity import store
from identity.domain import Passwords
from tests.integration.test_identity_service import PASSWORD, identity_env, token
from tests.support.stack import Deployment
from weiquan_shared.auth import Organisation, Role

pytestmark = pytest.mark.integration

PEOPLE = [
    ("s-supervisor", "南山督导", Role.SUPERVISOR, ["440305", "440306"], False),
    ("s-operator", "南山接线", Role.OPERATOR, ["440305"], False),
    ("s-mediator", "南山调解", Role.MEDIATOR, ["440305"], False),
    ("s-baoan", "宝安接线", Role.OPERATOR, ["440306"], False),
    ("s-futian", "福田分流", Role.TRIAGE_OFFICER, ["440304"], False),
    ("s-lawyer", "南山律师", Role.LAWYER, ["440305"], False),
    ("s-left", "已离职", Role.OPERATOR, ["440305"], True),
]


async def add_people(deployment: Deployment) -> None:
    conn = await deployment.connect("identity")
    hashed = Passwords().hash(PASSWORD)
    try:
        for username, name, role, districts, disabled in PEOPLE:
            await store.upsert_user(
                conn,
                username=username,
                display_name=name,
                role=role,
                organisation=Organisation.UNION,
                districts=districts,
                password_hash=hashed,
            )
            if disabled:
                await conn.execute("UPDATE users SET disabled = true WHERE username = $1", username)
    finally:
        await conn.close()


def test_the_staff_directory_lists_case_workers_of_a_shared_district(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.start("identity", **identity_env(tmp_path))
    asyncio.run(add_people(deployment))
    url = deployment["identity"].url

    def staff_seen_by(username: str) -> list[dict[str, str]]:
        signed = token(url, grant_type="password", username=username, password=PASSWORD)
        access = signed.json()["access_token"]
        answer = httpx.get(f"{url}/api/v1/staff", headers={"Authorization": f"Bearer {access}"})
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    seen = staff_seen_by("s-operator")
    # Nanshan's case workers; not Futian's, not a lawyer, not someone who left.
    assert sorted(p["name"] for p in seen) == ["南山接线", "南山督导", "南山调解"]
    supervisor = next(p for p in seen if p["name"] == "南山督导")
    assert supervisor["role"] == "supervisor" and supervisor["role_name"] == "督导/领导"
    assert set(supervisor) == {"subject", "name", "role", "role_name"}
    # The subject is the one in that person's tokens (what case.assigned names).
    signed = token(url, grant_type="password", username="s-supervisor", password=PASSWORD)
    claims = httpx.get(
        f"{url}/api/v1/me", headers={"Authorization": f"Bearer {signed.json()['access_token']}"}
    ).json()
    assert claims["subject"] == supervisor["subject"]
    # Two districts: both districts' people.
    assert "宝安接线" in {p["name"] for p in staff_seen_by("s-supervisor")}
    assert httpx.get(f"{url}/api/v1/staff").status_code == 401
