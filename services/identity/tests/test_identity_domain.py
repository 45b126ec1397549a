"""Identity's rules without a database: passwords, lockout, token claims, keys, scopes."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc import jwt

from identity.demo import DEMO_ACCOUNTS, read_passwords, render
from identity.domain import (
    LockoutPolicy,
    Passwords,
    Throttle,
    User,
    access_token_claims,
    normalise_username,
    refresh_token_hash,
    safe_next,
)
from identity.keys import SigningKeys
from identity.scopes import districts_of
from weiquan_shared.auth import Organisation, Role, TokenVerifier

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = User("5f0c1d3e-0000-4000-8000-000000000001", "li.m", "李调解", Role.MEDIATOR,
            Organisation.PEOPLES_COURT, ("440305",))  # fmt: skip


def test_passwords_are_argon2id_and_only_the_right_one_verifies() -> None:
    passwords = Passwords()
    stored = passwords.hash("正确的密码 2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "正确的密码 2026")
    assert not passwords.verify(stored, "正确的密码 2025")
    assert not passwords.verify("not-a-hash", "正确的密码 2026")
    assert not passwords.needs_rehash(stored)


def test_an_unknown_user_never_verifies_yet_pays_for_a_real_check() -> None:
    passwords = Passwords()
    assert not passwords.verify(None, "anything")
    assert passwords._decoy.startswith("$argon2id$")  # the same work as a real account


def test_lockout_after_the_configured_failures_then_a_fresh_count() -> None:
    policy = LockoutPolicy(max_failures=3, lock_for=timedelta(minutes=15))
    state = Throttle()
    for _ in range(2):
        state = policy.after_failure(state, NOW)
        assert not policy.is_locked(state, NOW)
    state = policy.after_failure(state, NOW)
    assert state == Throttle(3, NOW + timedelta(minutes=15))
    assert policy.is_locked(state, NOW + timedelta(minutes=14))
    assert not policy.is_locked(state, NOW + timedelta(minutes=15))

    # After the lock runs out, one more failure starts counting again from one.
    later = NOW + timedelta(minutes=16)
    assert policy.after_failure(state, later) == Throttle(1, None)
    assert policy.locked_message() == "登录失败次数过多，账户已暂时锁定，请 15 分钟后再试"


def test_the_delay_before_answering_a_failure_grows_and_is_capped() -> None:
    policy = LockoutPolicy(first_delay_s=0.5, max_delay_s=3.0)
    delays = [policy.delay_s(Throttle(n)) for n in range(6)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]


def test_access_token_claims() -> None:
    claims = access_token_claims(
        USER, issuer="http://id.test", audience="weiquan", now=NOW, lifetime=timedelta(minutes=15)
    )
    assert claims["iss"] == "http://id.test" and claims["aud"] == "weiquan"
    assert claims["sub"] == USER.id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["weiquan_role"] == "mediator"
    assert claims["weiquan_org"] == "peoples_court"
    assert claims["weiquan_districts"] == ["440305"]
    assert claims["name"] == "李调解"
    assert len(claims["jti"]) >= 16
    other = access_token_claims(
        USER, issuer="http://id.test", audience="weiquan", now=NOW, lifetime=timedelta(minutes=15)
    )
    assert other["jti"] != claims["jti"]


async def test_signed_claims_verify_with_the_published_keys_only() -> None:
    keys = SigningKeys.generate()
    claims = access_token_claims(
        USER,
        issuer="http://id.test",
        audience="weiquan",
        now=datetime.now(UTC),
        lifetime=timedelta(minutes=15),
    )
    token = jwt.encode({"alg": "ES256", "kid": keys.active.kid}, claims, keys.active)
    verifier = TokenVerifier(["http://id.test"], "weiquan")
    verifier.trust_keys("http://id.test", keys.public_set())
    principal = await verifier.verify(token)
    assert (principal.role, principal.districts) == (Role.MEDIATOR, ("440305",))
    assert all("d" not in key for key in keys.public_jwks()["keys"])


def test_the_signing_key_file_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "run" / "keys.json"
    first = SigningKeys.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = SigningKeys.load_or_create(path)
    assert again.active.kid == first.active.kid
    assert again.public_jwks() == first.public_jwks()


def test_usernames_next_paths_and_refresh_hashes() -> None:
    assert normalise_username("  Li.M ") == "li.m"
    assert safe_next("/dashboard?d=440305") == "/dashboard?d=440305"
    for hostile in ("https://evil.test/", "//evil.test", "/\\evil.test", "", None):
        assert safe_next(hostile) == "/login"
    assert refresh_token_hash("a") != refresh_token_hash("b")
    assert len(refresh_token_hash("a")) == 32


def test_scopes_are_a_district_or_every_district_of_a_city() -> None:
    assert districts_of("440305") == ("440305",)
    assert len(districts_of("4403")) == 9 and "440305" in districts_of("4403")
    with pytest.raises(ValueError, match="工作范围"):
        districts_of("44")


def test_demo_accounts_cover_every_role_and_their_file_round_trips(tmp_path: Path) -> None:
    assert {account.role for account in DEMO_ACCOUNTS} == set(Role)
    mediators = {a.organisation for a in DEMO_ACCOUNTS if a.role is Role.MEDIATOR}
    assert mediators == {Organisation.UNION, Organisation.PEOPLES_COURT}
    passwords = {account.username: f"pw-{i}" for i, account in enumerate(DEMO_ACCOUNTS)}
    text = render(passwords)
    assert "调解员 · 人民法院 · 440305" in text
    path = tmp_path / "demo-accounts.txt"
    assert read_passwords(path) == {}
    path.write_text(text, encoding="utf-8")
    assert read_passwords(path) == passwords


def test_a_scope_reads_as_a_whole_city_or_districts_by_name() -> None:
    from identity.scopes import districts_of, scope_label

    assert scope_label(districts_of("4403")) == "深圳市（全市）"
    assert scope_label(["440305"]) == "南山区"
    assert scope_label(["440305", "440304"]) == "南山区、福田区"
    assert scope_label([]) == "—"
