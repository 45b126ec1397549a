"""Configuration for every service, read from ``WEIQUAN_*`` environment variables."""

from __future__ import annotations

import json
import os
from functools import cached_property

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Each service's HTTP port on a developer machine (deploy/local, docker-compose.yml).
# The one list of services: the local stack's programs (deploy/local/services.py), the
# proxy's routes, the databases provisioned and the benchmark's footprint follow from it.
SERVICE_PORTS: dict[str, int] = {
    "intake": 8101,
    "triage": 8102,
    "mediation": 8103,
    "legal_aid": 8104,
    "notification": 8105,
    "projection": 8106,
    "identity": 8107,
    "audit": 8108,
}

# CPU priority (Unix niceness) by service. People wait on the front door (an operator on
# a call, a worker on WeChat); consumers have seconds of slack before a dashboard shows a
# case late. On a box the consumers can saturate, they yield to intake, not the reverse.
SERVICE_NICENESS: dict[str, int] = {
    "triage": 5,
    "projection": 10,
    "audit": 10,
    "mediation": 5,
    "notification": 5,
    "legal_aid": 5,
}


class Settings(BaseSettings):
    """Settings shared by all services.

    ``namespace`` prefixes every topic, consumer group and database, so a test run (or a
    second deployment) can share one Kafka and one PostgreSQL with a running stack
    without touching its data.
    """

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    service_name: str = "weiquan"
    namespace: str = Field(default="weiquan", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    log_level: str = "INFO"

    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: the service's default from SERVICE_PORTS
    # Slow or oversized clients (weiquan_shared.http_protocol): a request's headers must
    # arrive within http_header_timeout_s of its first byte (of the connection, for the
    # first request), its body within http_body_timeout_s of the headers, and the request
    # line and headers must fit in http_max_header_bytes; else 408 or 431 and the
    # connection is closed.
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    http_body_timeout_s: float = Field(default=30.0, gt=0)
    http_max_header_bytes: int = Field(default=32 * 1024, ge=1024)
    # The path prefix the reverse proxy serves this service under (`/intake`): the proxy
    # strips it, and the service puts it back in the links it makes (API docs, openapi.json,
    # redirects). Empty when reached directly.
    http_root_path: str = Field(default="", pattern=r"^(/[a-z][a-z0-9_-]*)?$")
    # Who may tell the service, through X-Forwarded-For/-Proto, the client's address and
    # scheme: the reverse proxy on this machine only.
    http_forwarded_allow_ips: str = "127.0.0.1"

    kafka_bootstrap: str = "127.0.0.1:19092"

    pg_host: str = "127.0.0.1"
    pg_port: int = 54320
    # Whoever this process logs in as. For deploy scripts and the test harness, the
    # provisioning role (`weiquan`, CREATEDB CREATEROLE). A running service always logs in
    # as its own role instead (``database_role``; see ``service_settings``).
    pg_user: str = "weiquan"
    pg_password: SecretStr = SecretStr("")
    pg_pool_max: int = 10

    # How long a service keeps retrying Kafka or PostgreSQL at start before giving up.
    startup_timeout_s: float = 300.0

    cpu_niceness: int | None = None  # None: the service's default from SERVICE_NICENESS

    @property
    def port(self) -> int:
        return self.http_port or SERVICE_PORTS.get(self.service_name, 8100)

    @property
    def niceness(self) -> int:
        if self.cpu_niceness is not None:
            return self.cpu_niceness
        return SERVICE_NICENESS.get(self.service_name, 0)

    @property
    def database(self) -> str:
        return f"{self.namespace}_{self.service_name}"

    @property
    def database_role(self) -> str:
        """The role that owns the service's database, and the only one a service logs in as."""
        return self.database

    @property
    def consumer_group(self) -> str:
        return f"{self.namespace}.{self.service_name}"

    def topic(self, name: str) -> str:
        """The namespaced Kafka topic for a logical topic name such as ``case.reported``."""
        return f"{self.namespace}.{name}"


def service_password_variable(service_name: str) -> str:
    """Where the password of a service's own role is kept: ``WEIQUAN_PG_PASSWORD_INTAKE``."""
    return f"WEIQUAN_PG_PASSWORD_{service_name.upper()}"


def service_settings(service_name: str) -> Settings:
    """A service's settings, logging in to PostgreSQL as its own role with its own password.

    ``WEIQUAN_PG_USER`` and ``WEIQUAN_PG_PASSWORD`` (the provisioning role's) are ignored:
    a service never uses them, so a service holding them by mistake still cannot use them.
    Without its own password the service refuses to open its database (``weiquan_shared.db``).
    """
    settings = Settings(service_name=service_name)
    password = os.environ.get(service_password_variable(service_name), "")
    return settings.model_copy(
        update={"pg_user": settings.database_role, "pg_password": SecretStr(password)}
    )


class PiiSettings(BaseSettings):
    """Keys for personal data. Never committed: ``make up`` writes them to ``.run/secrets.env``.

    ``pii_keys`` is a JSON object of key id → base64 AES-256 key; new values are encrypted
    with ``pii_active_key_id`` and old ones stay readable, which is how keys rotate.
    """

    model_config = SettingsConfigDict(env_prefix="WEIQUAN_", extra="ignore")

    pii_keys: SecretStr
    pii_active_key_id: str
    pii_index_key: SecretStr

    @cached_property
    def keys(self) -> dict[str, str]:
        parsed = json.loads(self.pii_keys.get_secret_value())
        if not isinstance(parsed, dict) or self.pii_active_key_id not in parsed:
            raise ValueError("WEIQUAN_PII_KEYS must be a JSON object holding the active key id")
        return {str(k): str(v) for k, v in parsed.items()}
