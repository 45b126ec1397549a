"""Signing staff in for tests through the real identity service.

``start_identity`` runs identity in the test's namespace with the accounts asked for;
services started with ``trusting(identity)`` verify its tokens; ``signed_in`` is an HTTP
client sending one account's access token (``Authorization: Bearer``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from identity import store
from identity.domain import Passwords
from tests.support.stack import Deployment
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.labels import DISTRICTS

PASSWORD = "测试-Secret-2026"
CITY_SUPERVISOR = "city.supervisor"
# Account name → role and districts. The default: one supervisor of the whole city.
Accounts = Mapping[str, tuple[Role, Sequence[str]]]
CITY: Accounts = {CITY_SUPERVISOR: (Role.SUPERVISOR, list(DISTRICTS))}


async def add_accounts(deployment: Deployment, accounts: Accounts) -> None:
    conn = await deployment.connect("identity")
    try:
        hashed = Passwords().hash(PASSWORD)
        for username, (role, districts) in accounts.items():
            await store.upsert_user(
                conn,
                username=username,
                display_name="王主任",
                role=role,
                organisation=Organisation.UNION,
                districts=districts,
                password_hash=hashed,
            )
    finally:
        await conn.close()


def start_identity(deployment: Deployment, key_dir: Path, accounts: Accounts = CITY) -> str:
    """The identity service's URL (its tokens' issuer), with ``accounts`` created."""
    deployment.start(
        "identity", WEIQUAN_IDENTITY_SIGNING_KEYS_FILE=str(key_dir / "signing-keys.json")
    )
    asyncio.run(add_accounts(deployment, accounts))
    return deployment["identity"].url


def trusting(identity: str) -> dict[str, str]:
    """The environment that makes a service accept the identity service's tokens."""
    return {"WEIQUAN_OIDC_ISSUERS": json.dumps([identity])}


def access_token(identity: str, username: str = CITY_SUPERVISOR) -> str:
    answer = httpx.post(
        f"{identity}/api/v1/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def signed_in(
    identity: str, username: str = CITY_SUPERVISOR, *, base_url: str = ""
) -> httpx.Client:
    """A client calling as ``username`` (close it, or use it in a ``with``)."""
    token = access_token(identity, username)
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
