"""Composition root for identity: signing keys, password hashing, lockout policy, routes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from identity.accounts import Accounts, TokenSettings
from identity.api import build_routers
from identity.domain import LockoutPolicy, Passwords
from identity.keys import SigningKeys
from identity.service_clients import ServiceClients
from identity.staff_contacts import build_staff_contact_router
from weiquan_shared.auth import AuthSettings, TokenVerifier
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.service_client import SERVICE_CLIENTS
from weiquan_shared.settings import PiiSettings, Settings


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_IDENTITY_", extra="ignore")

    # The `iss` of the tokens issued here; also where clients find the discovery document.
    # Empty: http://127.0.0.1:<this service's port>.
    issuer: str = ""
    # Private JWK set (ES256). Generated (mode 600) when missing; never committed.
    signing_keys_file: Path = Path(".run/identity-signing-keys.json")
    access_token_lifetime_s: int = 900
    # A working day: an operator signs in once per shift.
    refresh_token_lifetime_s: int = 8 * 3600
    max_failures: int = 5
    lockout_minutes: int = 15
    failure_delay_s: float = 0.5
    max_failure_delay_s: float = 8.0
    # Services that may get a token of their own (client-credentials grant) with the
    # secret in WEIQUAN_SERVICE_SECRET_<NAME>; see identity.service_clients.
    service_clients: list[str] = list(SERVICE_CLIENTS)
    service_token_lifetime_s: int = 300


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("identity")
    own = IdentitySettings()
    auth = AuthSettings()
    runtime = Runtime(settings)
    issuer = (own.issuer or f"http://127.0.0.1:{settings.port}").rstrip("/")
    keys = SigningKeys.load_or_create(own.signing_keys_file)
    accounts = Accounts(
        runtime.pool,
        keys,
        Passwords(),
        TokenSettings(
            issuer=issuer,
            audience=auth.oidc_audience,
            access_lifetime=timedelta(seconds=own.access_token_lifetime_s),
            refresh_lifetime=timedelta(seconds=own.refresh_token_lifetime_s),
        ),
        LockoutPolicy(
            max_failures=own.max_failures,
            lock_for=timedelta(minutes=own.lockout_minutes),
            first_delay_s=own.failure_delay_s,
            max_delay_s=own.max_failure_delay_s,
        ),
    )
    clients = ServiceClients.from_environment(
        own.service_clients,
        issuer=issuer,
        audience=auth.oidc_audience,
        lifetime=timedelta(seconds=own.service_token_lifetime_s),
    )
    # Its own tokens are checked against the keys at hand; other issuers' as configured.
    verifier = TokenVerifier.from_settings(auth)
    verifier.trust_keys(issuer, keys.public_set())

    app = create_service_app(
        runtime,
        title="维权 · 身份认证服务 (identity)",
        description="工作人员账户、角色与工作范围；登录、访问令牌与刷新令牌；"
        "OpenID Connect 发现文档与 JWKS，供各服务离线核验令牌；"
        "工作人员的工作邮箱与手机（加密保存，仅供通知服务调取）。",
        migrations=Path(__file__).parent / "migrations",
        routers=[
            *build_routers(accounts, verifier, clients),
            build_staff_contact_router(runtime, PiiCipher.from_settings(PiiSettings())),
        ],
        token_verifier=verifier,
        # The audit records of staff-contact lookups go out through the outbox.
        publishes_events=True,
    )
    return app, settings
