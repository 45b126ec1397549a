"""The Docker path (docker-compose.yml and deploy/docker/), checked without a Docker engine.

The compose file, the Dockerfile and the secrets example are read as text and YAML and
compared with what the code says: the services and ports of ``SERVICE_PORTS``, the
settings the services read, and the secrets ``PiiSettings`` needs. When a Compose CLI is
installed, ``config -q`` validates the file too; otherwise that one check is skipped.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from weiquan_shared.navigation import PREFIXES
from weiquan_shared.pii import PiiCipher
from weiquan_shared.proxy import docker_config
from weiquan_shared.service_client import SERVICE_CLIENTS
from weiquan_shared.settings import SERVICE_PORTS, PiiSettings, service_password_variable

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKER_DIR = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
DOCKERIGNORE = DOCKER_DIR / "Dockerfile.dockerignore"
SECRETS_EXAMPLE = DOCKER_DIR / "secrets.env.example"
MAKE_SECRETS = DOCKER_DIR / "make_secrets.py"
SECRETS_ENV = "deploy/docker/secrets.env"
# The provisioning role's password: PostgreSQL and the provision job, never a service.
ADMIN_ENV = "deploy/docker/postgres.env"


def own_pg_env(name: str) -> str:
    """The file with the password of service ``name``'s own PostgreSQL role."""
    return f"deploy/docker/pg-{name}.env"


# What deploy/docker/secrets.env holds (the services' shared secrets); the PII keys and
# every PostgreSQL password must never have a value in the compose file itself (nor
# PostgreSQL's own POSTGRES_PASSWORD).
SECRETS_FILE_VARS = {"WEIQUAN_PII_KEYS", "WEIQUAN_PII_INDEX_KEY", "WEIQUAN_PII_ACTIVE_KEY_ID"}
PG_PASSWORD_VARS = {"WEIQUAN_PG_PASSWORD"} | {
    service_password_variable(name) for name in SERVICE_PORTS
}
FORBIDDEN_LITERALS = {
    "WEIQUAN_PII_KEYS",
    "WEIQUAN_PII_INDEX_KEY",
    "POSTGRES_PASSWORD",
} | PG_PASSWORD_VARS
WECHAT_VARS = {"WEIQUAN_WECHAT_TOKEN", "WEIQUAN_WECHAT_ENCODING_AES_KEY", "WEIQUAN_WECHAT_APP_ID"}

# Shapes of real secrets: a base64-encoded 32-byte key (44 characters with its padding),
# and a long hex token such as secrets.token_hex(24).
BASE64_KEY = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=")
LONG_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")


# ---------------------------------------------------------------- helpers


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a YAML mapping"
    return data


def service(name: str) -> dict[str, Any]:
    services = compose().get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r}"
    spec = services[name]
    assert isinstance(spec, dict)
    return spec


def environment(spec: dict[str, Any]) -> dict[str, str]:
    """A service's ``environment``, in either the mapping or the list form."""
    env = spec.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def command(spec: dict[str, Any]) -> list[str]:
    cmd = spec.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(spec: dict[str, Any]) -> dict[str, str]:
    """Dependency → condition (the list form means ``service_started``)."""
    deps = spec.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (cond or {}).get("condition", "service_started") for name, cond in deps.items()}


def env_files(spec: dict[str, Any]) -> list[str]:
    files = spec.get("env_file") or []
    if isinstance(files, str):
        files = [files]
    return [f if isinstance(f, str) else f["path"] for f in files]


def published_ports(spec: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, from the short or the long syntax."""
    pairs: set[tuple[int, int]] = set()
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") is not None:
                pairs.add((int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/", 1)[0].split(":")
        if len(parts) >= 2:
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def named_volume_mounts(spec: dict[str, Any]) -> dict[str, str]:
    """Container path → named volume (declared under the top-level ``volumes``)."""
    declared = compose().get("volumes") or {}
    mounts: dict[str, str] = {}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":", 1)[0]
        if source in declared:
            mounts[target] = source
    return mounts


def healthcheck_test(spec: dict[str, Any]) -> str:
    check = spec.get("healthcheck") or {}
    assert not check.get("disable"), "healthcheck is disabled"
    test = check.get("test")
    assert test, "no healthcheck test"
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def all_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from all_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_strings(item)
    elif node is not None:
        yield str(node)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: continuations joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = pending + line
        pending = ""
        keyword, _, args = logical.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def copy_sources(args: str) -> list[str]:
    """The context paths of a COPY (none for COPY --from=<stage>)."""
    words = shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    if any(flag.startswith("--from") for flag in flags):
        return []
    rest = args
    for flag in flags:
        rest = rest.replace(flag, "", 1)
    rest = rest.strip()
    paths = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return paths[:-1]


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads them (comments skipped, surrounding quotes removed)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {line!r}"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def is_32_byte_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


# ---------------------------------------------------------------- the services


@pytest.mark.parametrize(("name", "port"), sorted(SERVICE_PORTS.items()))
def test_each_service_runs_from_the_image_on_its_port(name: str, port: int) -> None:
    spec = service(name)
    assert command(spec) == ["python", "-m", name]
    assert spec.get("build", {}).get("dockerfile") == "deploy/docker/Dockerfile"
    env = environment(spec)
    assert env.get("WEIQUAN_HTTP_PORT") == str(port)
    assert env.get("WEIQUAN_HTTP_HOST") == "0.0.0.0", "inside a container 127.0.0.1 is unreachable"
    # Reached through the proxy only: exposed inside the compose network, never published.
    assert published_ports(spec) == set(), f"{name} publishes a port besides the proxy's"
    assert str(port) in [str(p) for p in spec.get("expose") or []], f"{name} does not expose {port}"
    assert env.get("WEIQUAN_HTTP_ROOT_PATH") == PREFIXES[name]
    assert f":{port}/readyz" in healthcheck_test(spec)
    assert spec.get("restart") == "unless-stopped"


def test_the_proxy_is_the_one_published_address() -> None:
    spec = service("proxy")
    assert str(spec.get("image", "")).startswith("nginx:")
    published = {
        name: published_ports(other)
        for name, other in compose()["services"].items()
        if published_ports(other)
    }
    assert published == {"proxy": {(8100, 8100)}}
    assert all(str(p).startswith("127.0.0.1:") for p in spec["ports"]), "loopback only"
    assert "./deploy/docker/nginx.conf:/etc/nginx/weiquan.conf:ro" in spec["volumes"]
    assert command(spec) == ["nginx", "-c", "/etc/nginx/weiquan.conf", "-e", "stderr"]
    assert {name: "service_healthy" for name in SERVICE_PORTS} == depends_on(spec)
    assert ":8100/" in healthcheck_test(spec)


def test_the_proxy_config_is_generated_from_the_template() -> None:
    committed = (DOCKER_DIR / "nginx.conf").read_text(encoding="utf-8")
    assert committed == docker_config(), (
        "deploy/docker/nginx.conf is stale: python -m weiquan_shared.proxy "
        "deploy/docker/nginx.conf --docker"
    )
    for name, port in SERVICE_PORTS.items():
        location = f"location {PREFIXES[name]}/ {{\n            proxy_pass http://{name}:{port}/;"
        assert location in committed, name


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_each_service_starts_after_its_dependencies(name: str) -> None:
    deps = depends_on(service(name))
    assert deps.get("postgres") == "service_healthy"
    assert deps.get("kafka") == "service_healthy"
    assert deps.get("topics") == "service_completed_successfully"
    assert deps.get("provision") == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_each_service_reaches_postgres_and_kafka_in_the_network(name: str) -> None:
    env = environment(service(name))
    assert env.get("WEIQUAN_PG_HOST") == "postgres"
    assert env.get("WEIQUAN_PG_PORT") == "5432"
    advertised = environment(service("kafka"))["KAFKA_ADVERTISED_LISTENERS"]
    assert f"://{env.get('WEIQUAN_KAFKA_BOOTSTRAP')}" in advertised
    assert SECRETS_ENV in env_files(service(name)), "the service gets no secrets"


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_each_service_gets_its_own_role_password_and_never_the_admin_one(name: str) -> None:
    spec = service(name)
    # A service client's secret goes to that service and to identity, which checks it.
    clients = [
        f"deploy/docker/client-{client}.env"
        for client in SERVICE_CLIENTS
        if name in {client, "identity"}
    ]
    # Notification's own keys (survey links, the WeChat callback): notification only.
    own = ["deploy/docker/notification.env"] if name == "notification" else []
    assert sorted(env_files(spec)) == sorted([SECRETS_ENV, own_pg_env(name), *clients, *own])
    # A service logs in as its own role whatever WEIQUAN_PG_USER says; none is set.
    assert not {"WEIQUAN_PG_USER", "WEIQUAN_PG_PASSWORD"} & environment(spec).keys()
    assert str(spec.get("user", "10001")).split(":")[0] not in {"root", "0"}


def test_no_service_can_read_the_admin_or_another_services_password(tmp_path: Path) -> None:
    """With the files make_secrets.py writes: what each service's env_files hand it."""
    make_secrets(tmp_path)
    admin = parse_env_file((tmp_path / "postgres.env").read_text())["WEIQUAN_PG_PASSWORD"]
    own = {
        name: parse_env_file((tmp_path / f"pg-{name}.env").read_text())[
            service_password_variable(name)
        ]
        for name in SERVICE_PORTS
    }
    assert len({admin, *own.values()}) == len(own) + 1, "two roles share a password"
    for name in SERVICE_PORTS:
        received: dict[str, str] = {}
        for path in env_files(service(name)):
            received |= parse_env_file((tmp_path / Path(path).name).read_text())
        values = set(received.values())
        assert admin not in values, f"{name} gets the provisioning role's password"
        assert received[service_password_variable(name)] == own[name]
        assert not values & {v for other, v in own.items() if other != name}, name


def test_provision_job_makes_every_services_role_before_they_start() -> None:
    spec = service("provision")
    assert command(spec) == ["python", "-m", "weiquan_shared.db", "provision"]
    assert depends_on(spec).get("postgres") == "service_healthy"
    assert spec.get("restart", "no") == "no"
    env = environment(spec)
    assert env.get("WEIQUAN_PG_USER") == environment(service("postgres")).get("POSTGRES_USER")
    assert env.get("WEIQUAN_PG_HOST") == "postgres"
    assert sorted(env_files(spec)) == sorted([ADMIN_ENV, *map(own_pg_env, SERVICE_PORTS)])
    assert SECRETS_ENV not in env_files(spec), "provisioning needs no PII keys"


def test_make_secrets_knows_every_service() -> None:
    assert set(make_secrets_module().SERVICES) == set(SERVICE_PORTS)


def test_services_and_jobs_share_one_namespace() -> None:
    namespaces = {
        environment(service(name)).get("WEIQUAN_NAMESPACE")
        for name in [*SERVICE_PORTS, "topics", "provision"]
    }
    assert len(namespaces) == 1 and None not in namespaces, namespaces


def test_topics_job_runs_once_kafka_is_healthy() -> None:
    spec = service("topics")
    assert command(spec) == ["python", "-m", "weiquan_shared.topics", "create"]
    assert depends_on(spec).get("kafka") == "service_healthy"
    env = environment(spec)
    assert env.get("WEIQUAN_KAFKA_BOOTSTRAP") == environment(service("intake")).get(
        "WEIQUAN_KAFKA_BOOTSTRAP"
    )
    # A one-shot job: a restart policy would run it again after every exit.
    assert spec.get("restart", "no") == "no"


# ---------------------------------------------------------------- infrastructure


def test_kafka_is_one_kraft_node_without_topic_auto_creation() -> None:
    spec = service("kafka")
    assert str(spec.get("image", "")).startswith("apache/kafka:4.")
    env = environment(spec)
    assert env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false"
    assert env.get("KAFKA_PROCESS_ROLES") == "broker,controller"
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env.get(name) == "1", name
    assert "kafka-topics.sh --bootstrap-server localhost:9092 --list" in healthcheck_test(spec)
    assert not env_files(spec), "the broker must not get the application's secrets"
    assert env.get("KAFKA_LOG_DIRS") in named_volume_mounts(spec), "Kafka's data is not kept"


def test_postgres_is_15_with_the_weiquan_role_and_a_named_volume() -> None:
    spec = service("postgres")
    assert spec.get("image") == "postgres:15"
    assert environment(spec).get("POSTGRES_USER") == "weiquan"
    assert "pg_isready" in healthcheck_test(spec)
    assert env_files(spec) == [ADMIN_ENV], "PostgreSQL needs its own password, nothing else"
    assert "/var/lib/postgresql/data" in named_volume_mounts(spec), "PostgreSQL's data is not kept"


# ---------------------------------------------------------------- secrets


def test_compose_file_holds_no_secret_values() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")  # comments included
    assert not BASE64_KEY.search(text), "a base64 32-byte key is written in docker-compose.yml"
    assert not LONG_HEX.search(text), "a long hex token is written in docker-compose.yml"
    for name, spec in compose()["services"].items():
        literal = FORBIDDEN_LITERALS & environment(spec).keys()
        assert not literal, f"{name} sets {sorted(literal)} in the file: use the env_file"
    for value in all_strings(compose()):
        assert not BASE64_KEY.search(value) and not LONG_HEX.search(value), value


def test_compose_file_does_not_interpolate() -> None:
    # ${VAR} would pull values from the shell or a .env file and print them in
    # `docker compose config`; a literal dollar is written $$.
    for value in all_strings(compose()):
        assert "$" not in value.replace("$$", ""), f"docker-compose.yml interpolates: {value}"


def test_secrets_files_are_gitignored() -> None:
    lines = {
        line.strip() for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    }
    assert {SECRETS_ENV, ADMIN_ENV, "deploy/docker/pg-*.env"} <= lines


def test_secrets_example_has_every_variable_and_no_usable_key() -> None:
    text = SECRETS_EXAMPLE.read_text(encoding="utf-8")
    example = parse_env_file(text)
    assert set(example) == SECRETS_FILE_VARS
    assert not BASE64_KEY.search(text) and not LONG_HEX.search(text)
    assert not is_32_byte_key(example["WEIQUAN_PII_INDEX_KEY"])
    keys = json.loads(example["WEIQUAN_PII_KEYS"])
    assert example["WEIQUAN_PII_ACTIVE_KEY_ID"] in keys
    assert not any(is_32_byte_key(value) for value in keys.values())


def test_secrets_example_documents_the_optional_wechat_secrets() -> None:
    # Optional (intake's WeChat callback answers 503 without them), so commented out: the
    # documented generator and a Docker stack without a WeChat account need none of them.
    from intake.wechat import WeChatSettings

    text = SECRETS_EXAMPLE.read_text(encoding="utf-8")
    for name in WeChatSettings.model_fields:
        assert f"# WEIQUAN_{name.upper()}=PLACEHOLDER" in text, name
    assert not WECHAT_VARS & set(parse_env_file(text))


def make_secrets_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_secrets", MAKE_SECRETS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_secrets(directory: Path) -> None:
    subprocess.run(
        [sys.executable, str(MAKE_SECRETS), "--dir", str(directory)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def test_documented_generator_writes_working_secrets(tmp_path: Path) -> None:
    for documented in (COMPOSE_FILE, SECRETS_EXAMPLE):
        assert "python3 deploy/docker/make_secrets.py" in documented.read_text(encoding="utf-8")
    make_secrets(tmp_path)
    files = {p.name: p for p in tmp_path.iterdir()}
    assert set(files) == {Path(f).name for f in [SECRETS_ENV, ADMIN_ENV]} | {
        Path(own_pg_env(name)).name for name in SERVICE_PORTS
    } | {f"client-{name}.env" for name in SERVICE_CLIENTS} | {"notification.env"}
    for path in files.values():
        assert path.stat().st_mode & 0o777 == 0o600, path
    generated = parse_env_file(files["secrets.env"].read_text())
    assert set(generated) == SECRETS_FILE_VARS
    assert len(parse_env_file(files["postgres.env"].read_text())["WEIQUAN_PG_PASSWORD"]) >= 32
    settings = PiiSettings(
        pii_keys=generated["WEIQUAN_PII_KEYS"],
        pii_active_key_id=generated["WEIQUAN_PII_ACTIVE_KEY_ID"],
        pii_index_key=generated["WEIQUAN_PII_INDEX_KEY"],
    )
    cipher = PiiCipher.from_settings(settings)
    assert cipher.decrypt(cipher.encrypt("张三", "test:1"), "test:1") == "张三"
    # Run again: nothing is replaced (the keys decrypt stored data).
    before = {name: path.read_text() for name, path in files.items()}
    make_secrets(tmp_path)
    assert {name: path.read_text() for name, path in files.items()} == before


def test_generator_moves_an_old_admin_password_out_of_the_services_file(tmp_path: Path) -> None:
    old = "WEIQUAN_PG_PASSWORD=" + "a1" * 24
    (tmp_path / "secrets.env").write_text(f"{old}\nWEIQUAN_PII_ACTIVE_KEY_ID=k1\n")
    make_secrets(tmp_path)
    assert (tmp_path / "postgres.env").read_text() == f"{old}\n"
    assert "WEIQUAN_PG_PASSWORD" not in (tmp_path / "secrets.env").read_text()


# ---------------------------------------------------------------- the image


def test_dockerfile_installs_the_locked_dependencies_only() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    syncs = [args for args in runs if "uv sync" in args]
    assert syncs, "the Dockerfile never runs uv sync"
    for args in syncs:
        assert "--frozen" in args.split(), f"uv sync without --frozen: {args}"
        assert "--no-dev" in args.split(), f"uv sync with the dev group: {args}"
    install_sh = ROOT / "deploy" / "local" / "install.sh"
    if install_sh.exists():
        pinned = re.search(r"^UV_VERSION=(\S+)", install_sh.read_text(encoding="utf-8"), re.M)
        if pinned:
            assert any(f"uv=={pinned.group(1)}" in args for args in runs), (
                "uv differs from install.sh"
            )


def test_dockerfile_runs_python_311_slim_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    defaults = dict(v.split("=", 1) for k, v in instructions if k == "ARG" and "=" in v)
    bases = [value.split()[0] for keyword, value in instructions if keyword == "FROM"]
    resolved = {
        re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), base)
        for base in bases
    }
    assert resolved == {"python:3.11-slim"}, resolved
    users = [value for keyword, value in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    uid = users[-1].split(":")[0]
    # A fixed number, so a runtime can check it is not root without reading /etc/passwd.
    assert uid.isdigit() and int(uid) >= 1000, users[-1]


def test_dockerfile_copies_only_paths_that_exist() -> None:
    sources = [
        src
        for keyword, args in dockerfile_instructions()
        if keyword in {"COPY", "ADD"}
        for src in copy_sources(args)
    ]
    assert sources, "the Dockerfile copies nothing from the context"
    for src in sources:
        assert src not in {".", "./", "*"}, "the whole context is copied"
        assert (ROOT / src).exists(), f"COPY {src}: no such path in the repo"


def test_build_context_filter_allows_only_what_is_copied() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert patterns[0] == "*", "Dockerfile.dockerignore must start by excluding everything"
    allowed = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    for private in (".run", ".venv", ".git", "deploy"):
        assert not any(private == a or private.startswith(a + "/") for a in allowed), private
    for keyword, args in dockerfile_instructions():
        if keyword == "COPY":
            for src in copy_sources(args):
                top = src.rstrip("/")
                assert any(top == a or top.startswith(a + "/") for a in allowed), src


# ---------------------------------------------------------------- Compose itself


def compose_cli() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_config_is_valid(tmp_path: Path) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("no Compose CLI here (neither the `docker compose` plugin nor docker-compose)")
    # A copy, so the env_file can exist without writing secrets into the repo.
    (tmp_path / "deploy").mkdir()
    shutil.copytree(
        DOCKER_DIR,
        tmp_path / "deploy" / "docker",
        ignore=shutil.ignore_patterns("secrets.env", "postgres.env", "pg-*.env"),
    )
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    make_secrets(tmp_path / "deploy" / "docker")
    result = subprocess.run(
        [*cli, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
