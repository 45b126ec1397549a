"""PostgreSQL: each service's own database, created and migrated by the service itself."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import quote

import asyncpg
import orjson
from yoyo import get_backend, read_migrations

from weiquan_shared.retry import wait_for_dependency
from weiquan_shared.settings import Settings

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"

# Errors worth retrying: the database is unreachable or restarting, or asked for a retry
# (serialization failure, deadlock). Not "this event is bad".
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
)


def _target(settings: Settings) -> str:
    return f"{settings.pg_host}:{settings.pg_port}"


async def _connect(settings: Settings, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password.get_secret_value() or None,
        database=database,
        timeout=5,
    )


async def ensure_database(settings: Settings) -> None:
    """Create the service's database if it does not exist (the role has CREATEDB)."""

    async def create() -> None:
        conn = await _connect(settings, "postgres")
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", settings.database
            )
            if not exists:
                # A second instance of the service may win the race: that is fine.
                with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                    await conn.execute(f'CREATE DATABASE "{settings.database}"')
        finally:
            await conn.close()

    await wait_for_dependency("PostgreSQL", _target(settings), create, settings.startup_timeout_s)


def migrate(settings: Settings, service_migrations: Path) -> int:
    """Apply the shared (outbox, inbox) and the service's own migrations; returns how many."""
    password = quote(settings.pg_password.get_secret_value(), safe="")
    uri = (
        f"postgresql+psycopg://{quote(settings.pg_user)}:{password}"
        f"@{settings.pg_host}:{settings.pg_port}/{settings.database}"
    )
    backend = get_backend(uri)
    migrations = read_migrations(str(SHARED_MIGRATIONS), str(service_migrations))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Return a connection to the pool without asyncpg's reset query (one round trip).

    asyncpg still rolls back an open transaction and drops listener callbacks first. The
    rest of its reset (RESET ALL, session advisory locks, cursors) has nothing to undo:
    settings here are ``SET LOCAL``, advisory locks transaction-scoped, and the one
    ``LISTEN`` (the outbox relay's) is undone by the relay before it lets go.
    """


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
    )


async def create_pool(settings: Settings) -> asyncpg.Pool:
    async def connect() -> asyncpg.Pool:
        return await asyncpg.create_pool(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value() or None,
            database=settings.database,
            min_size=1,
            max_size=settings.pg_pool_max,
            init=_init_connection,
            reset=_keep_session,
            timeout=5,
        )

    return await wait_for_dependency(
        "PostgreSQL", _target(settings), connect, settings.startup_timeout_s
    )


async def prepare_database(settings: Settings, service_migrations: Path) -> asyncpg.Pool:
    """Create, migrate and open the service's database: the one call a service makes."""
    await ensure_database(settings)
    await asyncio.to_thread(migrate, settings, service_migrations)
    return await create_pool(settings)
