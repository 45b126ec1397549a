"""PostgreSQL: each service's own database, owned by the service's own role.

Two roles meet here. The *provisioning* role (``weiquan``: CREATEDB CREATEROLE) is used by
deploy scripts and the test harness only: :func:`provision_service_database` makes, for
each service, a login role ``<namespace>_<service>`` and a database of the same name that
role owns and only it may connect to. A running service logs in as its own role, migrates
its own database and can reach no other: it never creates databases, and never holds the
provisioning role's password.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import sys
from pathlib import Path
from urllib.parse import quote

import asyncpg
import orjson
from pydantic import SecretStr
from yoyo import get_backend, read_migrations

from weiquan_shared.retry import wait_for_dependency
from weiquan_shared.settings import SERVICE_PORTS, Settings, service_password_variable

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


class MissingServicePassword(RuntimeError):
    """A service was started without the password of its own role."""


class DatabaseNotProvisioned(RuntimeError):
    """The service's role or database is missing, or the password does not match."""


async def _check_own_database(settings: Settings) -> None:
    """Log in to the service's database as its role; say who must fix it if that fails."""
    try:
        conn = await _connect(settings, settings.database)
    except (
        asyncpg.InvalidCatalogNameError,
        asyncpg.InvalidPasswordError,
        asyncpg.InvalidAuthorizationSpecificationError,
        asyncpg.InsufficientPrivilegeError,
    ) as exc:
        raise DatabaseNotProvisioned(
            f"role {settings.pg_user} cannot open database {settings.database} "
            f"({type(exc).__name__}: {exc}). A service does not create its database: the "
            "provisioning role does, before the service starts (`python -m weiquan_shared.db "
            f"provision {settings.service_name}`, run by `make up`, by docker compose's "
            "`provision` job and by the test harness), with the password the service has "
            f"in {service_password_variable(settings.service_name)}"
        ) from exc
    await conn.close()


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
    """Migrate and open the service's database: the one call a service makes.

    The database must have been provisioned (:func:`provision_service_database`); until it
    is, the service says so in its log and keeps retrying, as for any other dependency.
    """
    if not settings.pg_password.get_secret_value():
        variable = service_password_variable(settings.service_name)
        raise MissingServicePassword(
            f"{variable} is not set: {settings.service_name} logs in to PostgreSQL as its own "
            f"role {settings.pg_user} with this password (deploy/local/install.sh generates "
            "it into .run/secrets.env; Docker: deploy/docker/make_secrets.py)"
        )
    await wait_for_dependency(
        "PostgreSQL",
        _target(settings),
        lambda: _check_own_database(settings),
        settings.startup_timeout_s,
    )
    await asyncio.to_thread(migrate, settings, service_migrations)
    return await create_pool(settings)


# ---------------------------------------------------------------- provisioning


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_sha_256_verifier(password: str, iterations: int = 4096) -> str:
    """The verifier PostgreSQL stores for a password (RFC 5802/7677, as ``psql \\password``).

    Sent instead of the password, so the password itself never appears in a statement,
    where a server's statement or error log could keep it.
    """
    if not (password.isascii() and password.isprintable()):
        # SASLprep is the identity only for printable ASCII; generated passwords are hex.
        raise ValueError("a service password must be printable ASCII")
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def provision_service_database(admin: Settings, service: Settings) -> None:
    """Create or bring up to date a service's role and database, as the provisioning role.

    Idempotent: creates the login role ``service.database_role`` (or resets its password to
    ``service.pg_password``) and the database ``service.database`` owned by it, which
    PUBLIC may not connect to. A database left by an older deployment, owned by the
    provisioning role, is handed over to the service's role with everything in it.
    """
    role, database = service.database_role, service.database
    verifier = scram_sha_256_verifier(service.pg_password.get_secret_value())
    conn = await _connect(admin, "postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            with contextlib.suppress(asyncpg.DuplicateObjectError):  # a concurrent provisioner
                await conn.execute(f"CREATE ROLE {_ident(role)} LOGIN")
        await conn.execute(
            f"ALTER ROLE {_ident(role)} WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD '{verifier}'"
        )
        # Creating a database for another owner, handing one over and dropping it in tests
        # all need membership in the owner role, with its privileges (USAGE; PostgreSQL 16
        # gives a role's creator a membership without them). Service roles are members of
        # nothing.
        if not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'USAGE')", role):
            await conn.execute(f"GRANT {_ident(role)} TO CURRENT_USER")
        owner = await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", database
        )
        if owner is None:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {_ident(database)} OWNER {_ident(role)}")
        elif owner != role:
            await conn.execute(f"ALTER DATABASE {_ident(database)} OWNER TO {_ident(role)}")
        await conn.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC")
        await conn.execute(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(role)}")
    finally:
        await conn.close()
    if owner is not None and owner != role:
        await _hand_over_objects(admin, database, role)


# What the provisioning role may own in a database it created for a service before roles
# were per service: tables and the like, sequences not owned by a column, routines, types,
# schemas. Extension members stay the extension's.
_OWN_OBJECTS = """
SELECT 'SCHEMA', quote_ident(n.nspname) FROM pg_namespace n
 WHERE n.nspowner = me.oid AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                      WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
       c.oid::regclass::text
  FROM pg_class c
 WHERE c.relowner = me.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
   AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
UNION ALL
SELECT 'ROUTINE', p.oid::regprocedure::text FROM pg_proc p
 WHERE p.proowner = me.oid
   AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'TYPE', t.oid::regtype::text FROM pg_type t
 WHERE t.typowner = me.oid AND t.typtype IN ('e', 'd', 'r')
   AND t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
"""


async def _hand_over_objects(admin: Settings, database: str, role: str) -> None:
    conn = await _connect(admin, database)
    try:
        async with conn.transaction():
            rows = await conn.fetch(
                f"WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user) "
                f"SELECT * FROM me, LATERAL ({_OWN_OBJECTS}) AS owned(kind, name)"
            )
            for row in rows:
                await conn.execute(f"ALTER {row['kind']} {row['name']} OWNER TO {_ident(role)}")
    finally:
        await conn.close()


def main() -> None:
    """``python -m weiquan_shared.db provision [service ...]`` (default: every service).

    Logs in with ``WEIQUAN_PG_USER``/``WEIQUAN_PG_PASSWORD`` (the provisioning role) and
    gives each service the password in its ``WEIQUAN_PG_PASSWORD_<SERVICE>``.
    """
    args = sys.argv[1:]
    if not args or args[0] != "provision":
        sys.exit("usage: python -m weiquan_shared.db provision [service ...]")
    admin = Settings()
    for name in args[1:] or list(SERVICE_PORTS):
        variable = service_password_variable(name)
        password = os.environ.get(variable, "")
        if not password:
            sys.exit(f"provision: {variable} is not set (the password of {name}'s own role)")
        service = admin.model_copy(
            update={"service_name": name, "pg_password": SecretStr(password)}
        )
        asyncio.run(provision_service_database(admin, service))
        print(f"provision: role and database {service.database} ready")


if __name__ == "__main__":
    main()
