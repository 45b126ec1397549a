"""Signing in, refreshing and revoking: the rules of domain.py applied to the store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import asyncpg
from joserfc import jwt

from identity import store
from identity.domain import (
    DISABLED,
    WRONG_CREDENTIALS,
    LockoutPolicy,
    Passwords,
    User,
    access_token_claims,
    new_refresh_token,
    normalise_username,
    refresh_token_hash,
)
from identity.keys import ALGORITHM, SigningKeys
from weiquan_shared.logging import get_logger
from weiquan_shared.navigation import CASE_WORKERS

log = get_logger(__name__)

REFRESH_REFUSED = "登录已过期或已退出，请重新登录"


class SignInRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int

    def oauth_response(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        keys: SigningKeys,
        passwords: Passwords,
        tokens: TokenSettings,
        policy: LockoutPolicy,
        *,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pool = pool
        self.keys = keys
        self.passwords = passwords
        self.tokens = tokens
        self.policy = policy
        self._clock = clock
        self._sleep = sleep

    async def staff(self, districts: Sequence[str]) -> list[dict[str, str]]:
        """Everyone who works cases in at least one of ``districts`` (the staff directory
        a case page picks a responsible person from)."""
        async with self._pool().acquire() as conn:
            return await store.staff_sharing_districts(
                conn, districts, [role.value for role in CASE_WORKERS]
            )

    async def sign_in(self, username: str, password: str) -> IssuedTokens:
        """Tokens for the right password; otherwise :class:`SignInRefused` with one message
        for an unknown user and a wrong password, answered after a growing delay."""
        name = normalise_username(username)
        now = self._clock()
        async with self._pool().acquire() as conn:
            if self.policy.is_locked(await store.throttle(conn, name), now):
                raise SignInRefused(self.policy.locked_message())
            user, stored_hash = await store.user_with_hash(conn, name)
        # ~0.1 s of CPU: off the event loop. An unknown user is checked against a decoy.
        correct = await asyncio.to_thread(self.passwords.verify, stored_hash, password)
        if not correct or user is None or stored_hash is None:
            await self._failed(name, now)
        assert user is not None and stored_hash is not None
        if user.disabled:
            raise SignInRefused(DISABLED)
        async with self._pool().acquire() as conn, conn.transaction():
            await store.clear_throttle(conn, name)
            if self.passwords.needs_rehash(stored_hash):
                new_hash = await asyncio.to_thread(self.passwords.hash, password)
                await store.set_password_hash(conn, user.id, new_hash)
            issued = await self._issue(conn, user, uuid.uuid4(), now)
        log.info("signed in", user_id=user.id, role=user.role.value)
        return issued

    async def _failed(self, name: str, now: datetime) -> NoReturn:
        async with self._pool().acquire() as conn, conn.transaction():
            state = self.policy.after_failure(await store.throttle(conn, name, lock=True), now)
            await store.save_throttle(conn, name, state, now)
        await self._sleep(self.policy.delay_s(state))
        if self.policy.is_locked(state, now):
            log.warning("sign-in locked after repeated failures", attempts=state.failed_attempts)
            raise SignInRefused(self.policy.locked_message())
        raise SignInRefused(WRONG_CREDENTIALS)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Single use with rotation; a used token presented again revokes its whole family
        (someone holds a stolen copy), and the next refresh of either holder fails."""
        token_hash = refresh_token_hash(refresh_token)
        now = self._clock()
        async with self._pool().acquire() as conn, conn.transaction():
            row = await store.refresh_token_for_update(conn, token_hash)
            if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
                raise SignInRefused(REFRESH_REFUSED)
            if row["used_at"] is not None:
                revoked = await store.revoke_family(conn, row["family_id"])
                user = None
            else:
                user = await store.user_by_id(conn, str(row["user_id"]))
                if user is not None and not user.disabled:
                    await store.mark_refresh_token_used(conn, token_hash)
                    return await self._issue(conn, user, row["family_id"], now)
                revoked = await store.revoke_family(conn, row["family_id"])
        # Outside the transaction: the revocation above is committed before refusing.
        log.warning(
            "refresh refused: family revoked",
            reason="reuse" if user is None else "user disabled",
            revoked=revoked,
        )
        raise SignInRefused(REFRESH_REFUSED)

    async def revoke(self, refresh_token: str) -> None:
        """Sign out an API client: its refresh token's family can no longer be used."""
        async with self._pool().acquire() as conn, conn.transaction():
            row = await store.refresh_token_for_update(conn, refresh_token_hash(refresh_token))
            if row is not None:
                await store.revoke_family(conn, row["family_id"])

    def access_token(self, user: User, now: datetime) -> str:
        claims = access_token_claims(
            user,
            issuer=self.tokens.issuer,
            audience=self.tokens.audience,
            now=now,
            lifetime=self.tokens.access_lifetime,
        )
        header = {"alg": ALGORITHM, "kid": self.keys.active.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, self.keys.active)

    async def _issue(
        self, conn: asyncpg.Connection, user: User, family_id: uuid.UUID, now: datetime
    ) -> IssuedTokens:
        refresh_token = new_refresh_token()
        await store.insert_refresh_token(
            conn,
            refresh_token_hash(refresh_token),
            family_id=family_id,
            user_id=user.id,
            expires_at=now + self.tokens.refresh_lifetime,
        )
        return IssuedTokens(
            user=user,
            access_token=self.access_token(user, now),
            expires_in=int(self.tokens.access_lifetime.total_seconds()),
            refresh_token=refresh_token,
            refresh_expires_in=int(self.tokens.refresh_lifetime.total_seconds()),
        )
