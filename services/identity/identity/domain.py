"""Identity rules without I/O: passwords, lockout after failures, token claims, refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from weiquan_shared.auth import Organisation, Role

# One message for a wrong password and for a user who does not exist: the answer must not
# tell a guesser which usernames are real.
WRONG_CREDENTIALS = "用户名或密码错误"
LOCKED = "登录失败次数过多，账户已暂时锁定，请 {minutes} 分钟后再试"
DISABLED = "此账户已停用，请联系系统管理员"


def normalise_username(username: str) -> str:
    """Lower case, trimmed, and cut to a length no real username reaches, so a guesser's
    junk cannot fill the throttle table with megabyte-long keys."""
    return username.strip().lower()[:128]


class Passwords:
    """Argon2id hashes (argon2-cffi's defaults: RFC 9106's low-memory recommendation)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when the username is unknown, so that path costs what a real
        # check costs and answers no faster.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins for one username (known or not) and the lock they caused."""

    failed_attempts: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)
    first_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def is_locked(self, throttle: Throttle, now: datetime) -> bool:
        return throttle.locked_until is not None and throttle.locked_until > now

    def after_failure(self, throttle: Throttle, now: datetime) -> Throttle:
        """The state after one more failure; a lock that has run out starts a new count."""
        attempts = throttle.failed_attempts
        if throttle.locked_until is not None and throttle.locked_until <= now:
            attempts = 0
        attempts += 1
        locked_until = now + self.lock_for if attempts >= self.max_failures else None
        return Throttle(attempts, locked_until)

    def delay_s(self, throttle: Throttle) -> float:
        """How long to wait before answering a failure: doubling with each, up to a cap."""
        if throttle.failed_attempts <= 0:
            return 0.0
        return min(self.first_delay_s * 2 ** (throttle.failed_attempts - 1), self.max_delay_s)

    def locked_message(self) -> str:
        return LOCKED.format(minutes=max(1, int(self.lock_for.total_seconds() // 60)))


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: Role
    organisation: Organisation
    districts: tuple[str, ...]
    disabled: bool = False


def access_token_claims(
    user: User, *, issuer: str, audience: str, now: datetime, lifetime: timedelta
) -> dict[str, Any]:
    issued = int(now.timestamp())
    return {
        "iss": issuer,
        "sub": user.id,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": secrets.token_urlsafe(16),
        "preferred_username": user.username,
        "name": user.display_name,
        "weiquan_role": user.role.value,
        "weiquan_org": user.organisation.value,
        "weiquan_districts": list(user.districts),
    }


def new_refresh_token() -> str:
    """Opaque and random; only its hash is stored."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    # 256 random bits need no slow hash: nobody can guess their way back to the token.
    return hashlib.sha256(token.encode()).digest()


def safe_next(target: str | None, default: str = "/login") -> str:
    """Where to go after signing in: only a path on this site (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
