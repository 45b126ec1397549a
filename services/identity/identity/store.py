"""PostgreSQL access for identity: users, sign-in throttle rows, refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from identity.domain import Throttle, User
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.pii import PiiCipher


def _user(row: asyncpg.Record) -> User:
    return User(
        id=str(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        organisation=Organisation(row["organisation"]),
        districts=tuple(row["districts"]),
        disabled=row["disabled"],
    )


async def user_with_hash(conn: asyncpg.Connection, username: str) -> tuple[User | None, str | None]:
    row = await conn.fetchrow("SELECT * FROM users WHERE username = $1", username)
    if row is None:
        return None, None
    return _user(row), row["password_hash"]


async def user_by_id(conn: asyncpg.Connection, user_id: str) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", uuid.UUID(user_id))
    return _user(row) if row else None


async def upsert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    role: Role,
    organisation: Organisation,
    districts: Sequence[str],
    password_hash: str,
) -> str:
    user_id = await conn.fetchval(
        """
        INSERT INTO users (id, username, display_name, role, organisation, districts,
                           password_hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (username) DO UPDATE
           SET display_name = EXCLUDED.display_name, role = EXCLUDED.role,
               organisation = EXCLUDED.organisation, districts = EXCLUDED.districts,
               password_hash = EXCLUDED.password_hash, disabled = false, updated_at = now()
        RETURNING id
        """,
        uuid.uuid4(),
        username,
        display_name,
        role.value,
        organisation.value,
        list(districts),
        password_hash,
    )
    return str(user_id)


async def set_password_hash(conn: asyncpg.Connection, user_id: str, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        uuid.UUID(user_id),
        password_hash,
    )


async def throttle(conn: asyncpg.Connection, username: str, *, lock: bool = False) -> Throttle:
    """The username's failure count; with ``lock`` the row is locked for this transaction."""
    if lock:
        await conn.execute(
            """INSERT INTO sign_in_throttle (username, failed_attempts, last_failure_at)
               VALUES ($1, 0, now()) ON CONFLICT (username) DO NOTHING""",
            username,
        )
    row = await conn.fetchrow(
        "SELECT failed_attempts, locked_until FROM sign_in_throttle WHERE username = $1"
        + (" FOR UPDATE" if lock else ""),
        username,
    )
    return Throttle(row["failed_attempts"], row["locked_until"]) if row else Throttle()


async def save_throttle(
    conn: asyncpg.Connection, username: str, state: Throttle, now: datetime
) -> None:
    await conn.execute(
        """UPDATE sign_in_throttle SET failed_attempts = $2, locked_until = $3,
                  last_failure_at = $4 WHERE username = $1""",
        username,
        state.failed_attempts,
        state.locked_until,
        now,
    )


async def clear_throttle(conn: asyncpg.Connection, username: str) -> None:
    await conn.execute("DELETE FROM sign_in_throttle WHERE username = $1", username)


async def insert_refresh_token(
    conn: asyncpg.Connection,
    token_hash: bytes,
    *,
    family_id: uuid.UUID,
    user_id: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
           VALUES ($1, $2, $3, $4)""",
        token_hash,
        family_id,
        uuid.UUID(user_id),
        expires_at,
    )


async def refresh_token_for_update(
    conn: asyncpg.Connection, token_hash: bytes
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", token_hash
    )


async def mark_refresh_token_used(conn: asyncpg.Connection, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", token_hash
    )


async def revoke_family(conn: asyncpg.Connection, family_id: uuid.UUID) -> int:
    result = await conn.execute(
        """UPDATE refresh_tokens SET revoked_at = now()
           WHERE family_id = $1 AND revoked_at IS NULL""",
        family_id,
    )
    return int(result.split()[-1])


async def staff_sharing_districts(
    conn: asyncpg.Connection, districts: Sequence[str], roles: Sequence[str]
) -> list[dict[str, str]]:
    """Active users with one of ``roles`` working in at least one of ``districts``."""
    rows = await conn.fetch(
        """SELECT id, display_name, role FROM users
           WHERE NOT disabled AND districts && $1::text[] AND role = ANY($2::text[])
           ORDER BY role, display_name, id""",
        list(districts),
        list(roles),
    )
    return [{"subject": str(r["id"]), "name": r["display_name"], "role": r["role"]} for r in rows]


async def set_work_contact(
    conn: asyncpg.Connection,
    user_id: str,
    *,
    email: str | None,
    mobile: str | None,
    cipher: PiiCipher,
) -> None:
    """A user's work email and mobile, encrypted (None: none on record)."""
    await conn.execute(
        "UPDATE users SET work_email_enc = $2, work_mobile_enc = $3, updated_at = now() "
        "WHERE id = $1",
        uuid.UUID(user_id),
        cipher.encrypt(email, f"users.work_email:{user_id}") if email else None,
        cipher.encrypt(mobile, f"users.work_mobile:{user_id}") if mobile else None,
    )


@dataclass(frozen=True)
class WorkContact:
    subject: str
    name: str
    role: str
    districts: tuple[str, ...]
    email: str | None
    mobile: str | None


async def work_contact(
    conn: asyncpg.Connection, subject: str, cipher: PiiCipher
) -> WorkContact | None:
    """An active user's work contacts, decrypted; None for no such active user."""
    try:
        user_id = uuid.UUID(subject)
    except ValueError:
        return None
    row = await conn.fetchrow(
        "SELECT id, display_name, role, districts, work_email_enc, work_mobile_enc "
        "FROM users WHERE id = $1 AND NOT disabled",
        user_id,
    )
    if row is None:
        return None
    email, mobile = row["work_email_enc"], row["work_mobile_enc"]
    return WorkContact(
        subject=str(row["id"]),
        name=row["display_name"],
        role=row["role"],
        districts=tuple(row["districts"]),
        email=cipher.decrypt(email, f"users.work_email:{row['id']}") if email else None,
        mobile=cipher.decrypt(mobile, f"users.work_mobile:{row['id']}") if mobile else None,
    )
