"""The real stack for tests: PostgreSQL and Kafka, and services as real processes.

Infrastructure comes from, in order: a stack already running (``make up``), Docker through
testcontainers when a Docker engine answers, or the local processes of ``deploy/local``
(started here and stopped at the end). Each test gets its own namespace, so its topics,
consumer groups, databases and roles never touch another test's or the running stack's.

``Infra`` holds the provisioning role's credentials: the harness provisions each service's
own role and database with them, and starts each service with its own role only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from tests.support.tokens import test_issuer
from weiquan_shared.auth import Role
from weiquan_shared.db import provision_service_database
from weiquan_shared.navigation import PREFIXES
from weiquan_shared.proxy import render as render_proxy
from weiquan_shared.settings import SERVICE_PORTS, Settings, service_password_variable
from weiquan_shared.topics import delete_namespace_topics, ensure_topics

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
LOCAL_PG = ("127.0.0.1", 54320)
LOCAL_KAFKA = ("127.0.0.1", 19092)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass
class Infra:
    kafka_bootstrap: str
    pg_host: str
    pg_port: int
    pg_user: str  # the provisioning role: never handed to a service process
    pg_password: str

    def service_env(self) -> dict[str, str]:
        """Where Kafka and PostgreSQL are, without the provisioning role's credentials."""
        return {
            "WEIQUAN_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "WEIQUAN_PG_HOST": self.pg_host,
            "WEIQUAN_PG_PORT": str(self.pg_port),
        }


def _docker_available() -> bool:
    if os.environ.get("WEIQUAN_TEST_DOCKER") == "0":
        return False
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def infrastructure() -> Iterator[Infra]:
    """PostgreSQL and Kafka for the whole test session."""
    secrets_file = ROOT / ".run" / "secrets.env"
    if port_open(*LOCAL_PG) and port_open(*LOCAL_KAFKA) and secrets_file.exists():
        yield _local_infra(secrets_file)
        return
    if _docker_available():
        with _docker_infra() as infra:
            yield infra
        return
    subprocess.run(["bash", str(ROOT / "deploy/local/stack.sh"), "infra-up"], check=True)
    try:
        yield _local_infra(secrets_file)
    finally:
        subprocess.run(["bash", str(ROOT / "deploy/local/stack.sh"), "down"], check=False)


def _local_infra(secrets_file: Path) -> Infra:
    password = _read_env_file(secrets_file)["WEIQUAN_PG_PASSWORD"]
    return Infra(f"{LOCAL_KAFKA[0]}:{LOCAL_KAFKA[1]}", *LOCAL_PG, "weiquan", password)


@contextlib.contextmanager
def _docker_infra() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    password = secrets.token_hex(12)
    with (
        PostgresContainer("postgres:15", username="weiquan", password=password) as pg,
        KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka,
    ):
        yield Infra(
            kafka.get_bootstrap_server(),
            pg.get_container_host_ip(),
            int(pg.get_exposed_port(5432)),
            "weiquan",
            password,
        )


def pii_env() -> dict[str, str]:
    """Fresh keys for personal data: tests never use a deployment's keys."""
    return {
        "WEIQUAN_PII_KEYS": json.dumps({"t1": base64.b64encode(os.urandom(32)).decode()}),
        "WEIQUAN_PII_ACTIVE_KEY_ID": "t1",
        "WEIQUAN_PII_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
    }


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.name], env=self.env, cwd=ROOT, stdout=log, stderr=log
        )

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}); see {self.log_path}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s; see {self.log_path}")

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


NGINX = "/usr/sbin/nginx"


@dataclass
class Proxy:
    """The reverse proxy (nginx) of a test deployment: the one address, as under make up."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 15) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.process.returncode}); see {self.log_path}")
            if port_open("127.0.0.1", self.port):
                return
            time.sleep(0.1)
        raise TimeoutError(f"nginx not listening after {timeout_s}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Deployment:
    """One namespace's services on the shared infrastructure, each with its own role."""

    infra: Infra
    namespace: str = field(default_factory=lambda: "t" + uuid.uuid4().hex[:10])
    pii: dict[str, str] = field(default_factory=pii_env)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # Service → the password of its own role, made when the service is first provisioned.
    passwords: dict[str, str] = field(default_factory=dict)
    proxy: Proxy | None = None

    def admin_settings(self, service_name: str = "tests") -> Settings:
        """Settings logging in as the provisioning role (topics, provisioning, teardown)."""
        return Settings(
            service_name=service_name,
            namespace=self.namespace,
            kafka_bootstrap=self.infra.kafka_bootstrap,
            pg_host=self.infra.pg_host,
            pg_port=self.infra.pg_port,
            pg_user=self.infra.pg_user,
            pg_password=self.infra.pg_password,
        )

    def settings(self, service_name: str = "tests") -> Settings:
        """A service's settings as the service sees them: its own role, its database
        provisioned. Any other name (the default "tests") gets the provisioning role."""
        if service_name not in SERVICE_PORTS:
            return self.admin_settings(service_name)
        if service_name not in self.passwords:
            self.provision(service_name)
        return self._own_settings(service_name)

    def _own_settings(self, name: str) -> Settings:
        admin = self.admin_settings(name)
        return admin.model_copy(
            update={"pg_user": admin.database_role, "pg_password": SecretStr(self.passwords[name])}
        )

    def provision(self, *names: str) -> None:
        """Each service's own role and database, as ``make up`` makes them (idempotent)."""
        asyncio.run(self.provision_async(*names))

    async def provision_async(self, *names: str) -> None:
        for name in names:
            self.passwords.setdefault(name, secrets.token_hex(24))
            service = self.admin_settings(name).model_copy(
                update={"pg_password": SecretStr(self.passwords[name])}
            )
            await provision_service_database(self.admin_settings(), service)

    def service_env(self, name: str, **overrides: str) -> dict[str, str]:
        """The environment of service ``name``'s process: its own role's password, and no
        PostgreSQL password of anyone else (the provisioning role's included)."""
        if name not in self.passwords:
            self.provision(name)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("WEIQUAN_PG_")}
        return {
            **inherited,
            **self.infra.service_env(),
            **self.pii,
            "WEIQUAN_NAMESPACE": self.namespace,
            "WEIQUAN_LOG_LEVEL": "INFO",
            # Tokens of the tests' own issuer (tests.support.tokens) sign the callers in.
            "WEIQUAN_OIDC_ISSUERS": json.dumps([test_issuer().url]),
            service_password_variable(name): self.passwords[name],
            **overrides,
        }

    def start(self, *names: str, **env_overrides: str) -> None:
        self._start(names, env_overrides, proxied=False)

    def start_proxied(self, *names: str, **env_overrides: str) -> None:
        """Start services that know their prefix behind the proxy (root_path), as under
        ``make up``; then :meth:`start_proxy`."""
        self._start(names, env_overrides, proxied=True)

    def _start(self, names: tuple[str, ...], env_overrides: dict[str, str], proxied: bool) -> None:
        asyncio.run(ensure_topics(self.settings()))
        # One service may be given its port (restarted where the others already reach it).
        given = env_overrides.get("WEIQUAN_HTTP_PORT") if len(names) == 1 else None
        starting = {
            name: ServiceProcess(
                name,
                {},
                ARTIFACTS / "logs" / f"{self.namespace}-{name}.log",
                int(given) if given else free_port(),
            )
            for name in names
        }
        for name, service in starting.items():
            root_path = {"WEIQUAN_HTTP_ROOT_PATH": PREFIXES[name]} if proxied else {}
            env = {
                "WEIQUAN_HTTP_PORT": str(service.port),
                **root_path,
                **self._trusted_issuers({**self.services, **starting}),
                **env_overrides,
            }
            service.env = self.service_env(name, **env)
            service.start()
            self.services[name] = service
        for name in names:
            self.services[name].wait_ready()

    @staticmethod
    def _trusted_issuers(services: dict[str, ServiceProcess]) -> dict[str, str]:
        """Services trust the tests' own issuer and, as under ``make up``, the deployment's
        identity service when it has one."""
        issuers = [test_issuer().url]
        if "identity" in services:
            issuers.append(services["identity"].url)
        return {"WEIQUAN_OIDC_ISSUERS": json.dumps(issuers)}

    def auth(self, role: Role, **options: Any) -> dict[str, str]:
        """Headers signing a request in as a test user of ``role`` (city-wide by default)."""
        return test_issuer().headers(role, **options)

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    async def connect(self, service_name: str) -> asyncpg.Connection:
        """A connection to a service's database as the service's own role."""
        if service_name not in self.passwords:
            await self.provision_async(service_name)
        settings = self._own_settings(service_name)
        return await asyncpg.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value(),
            database=settings.database,
        )

    # ------------------------------------------------ the reverse proxy (one per deployment)

    def start_proxy(self, run_dir: Path) -> Proxy:
        """nginx with the stack's config, on a free port, in front of this deployment's
        services (those not started are left out)."""
        port = free_port()
        conf = run_dir / "nginx.conf"
        upstreams = {name: f"127.0.0.1:{service.port}" for name, service in self.services.items()}
        conf.write_text(
            render_proxy(upstreams, listen=f"127.0.0.1:{port}", pid_file=str(run_dir / "nginx.pid"))
        )
        log_path = ARTIFACTS / "logs" / f"{self.namespace}-proxy.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", str(run_dir), "-e", "stderr"],
                stdout=log,
                stderr=log,
            )
        self.proxy = Proxy(process, port, log_path)
        self.proxy.wait_ready()
        return self.proxy

    def teardown(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for service in self.services.values():
            service.stop()
        asyncio.run(self._drop())

    async def _drop(self) -> None:
        settings = self.admin_settings()
        with contextlib.suppress(Exception):
            await delete_namespace_topics(settings)
        conn = await asyncpg.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value(),
            database="postgres",
        )
        try:
            pattern = f"{self.namespace}\\_%"
            names = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", pattern
            )
            for row in names:
                await _drop_database(conn, row["datname"])
            # After the databases: a role cannot be dropped while it owns one.
            roles = await conn.fetch("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", pattern)
            for row in roles:
                await conn.execute(f'DROP ROLE "{row["rolname"]}"')
        finally:
            await conn.close()


async def _drop_database(conn: asyncpg.Connection, name: str) -> None:
    """DROP … WITH (FORCE), retried: FORCE cannot end an autovacuum worker (it runs as the
    superuser, not as our role), so a drop that meets one waits for it to finish."""
    for attempt in range(20):
        try:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            if attempt == 19:
                raise
            await asyncio.sleep(0.5)


@dataclass
class PrivateStack:
    """A second PostgreSQL + Kafka of our own, for tests that stop and start them."""

    infra: Infra
    run_dir: Path
    env: dict[str, str]

    def control(self, action: str, program: str) -> None:
        """``supervisorctl <action> <program>`` on this stack (e.g. stop kafka)."""
        subprocess.run(
            [
                str(ROOT / ".venv/bin/supervisorctl"),
                "-c",
                str(ROOT / "deploy/local/supervisord.conf"),
                action,
                f"infra:{program}",
            ],
            env=self.env,
            check=True,
            capture_output=True,
        )


def stack_variable(env: dict[str, str], name: str) -> str:
    """A variable as deploy/local/env.sh sets it in ``env`` (e.g. where a stack's PostgreSQL
    data lives)."""
    return subprocess.run(
        ["bash", "-c", f'. "$1" && printf %s "${name}"', "-", str(ROOT / "deploy/local/env.sh")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@contextlib.contextmanager
def private_stack(pg_port: int, kafka_port: int, controller_port: int) -> Iterator[PrivateStack]:
    run_dir = Path(f"/tmp/weiquan-private-{uuid.uuid4().hex[:8]}")
    env = {
        **os.environ,
        "WEIQUAN_RUN_DIR": str(run_dir),
        "WEIQUAN_PG_PORT": str(pg_port),
        "WEIQUAN_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
        "KAFKA_CONTROLLER_PORT": str(controller_port),
    }
    env.pop("WEIQUAN_PG_DIR", None)
    env.pop("WEIQUAN_PG_DIR_CHOSEN", None)
    stack = ROOT / "deploy/local/stack.sh"
    pg_home = stack_variable(env, "WEIQUAN_PG_HOME")  # outside the run dir: removed too
    try:
        subprocess.run(["bash", str(stack), "infra-up"], env=env, check=True)
        password = _read_env_file(run_dir / "secrets.env")["WEIQUAN_PG_PASSWORD"]
        env = {**env, "WEIQUAN_ROOT": str(ROOT), "WEIQUAN_LOG_DIR": str(run_dir / "logs")}
        infra = Infra(f"127.0.0.1:{kafka_port}", "127.0.0.1", pg_port, "weiquan", password)
        yield PrivateStack(infra, run_dir, env)
    finally:
        subprocess.run(["bash", str(stack), "down"], env=env, check=False)
        subprocess.run(["rm", "-rf", str(run_dir), pg_home], check=False)
