"""The local stack's run dir (secrets, Kafka's data, logs) is private to the user running it.

Real private stacks (deploy/local/stack.sh infra-up on their own ports and run dirs), never
the shared one: files are checked by mode and by reading them as another user, and
PostgreSQL, whose cluster now lives outside the run dir, must still serve.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.stack import (
    ROOT,
    PrivateStack,
    _read_env_file,
    free_port,
    private_stack,
    stack_variable,
)

pytestmark = pytest.mark.integration

STACK = ROOT / "deploy/local/stack.sh"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _as_nobody(*command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *command],
        capture_output=True,
        check=False,
        env={**os.environ, "PATH": f"{os.environ['PATH']}:/usr/sbin:/sbin"},
    )


def _databases(port: int, password: str, create: str | None = None) -> list[str]:
    """The cluster's databases (after creating ``create``, if given)."""

    async def fetch() -> list[str]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="weiquan", password=password, database="postgres"
        )
        try:
            if create:
                await conn.execute(f'CREATE DATABASE "{create}"')
            return [r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")]
        finally:
            await conn.close()

    return asyncio.run(fetch())


@pytest.fixture(scope="module")
def stack() -> Iterator[PrivateStack]:
    with private_stack(free_port(), free_port(), free_port()) as running:
        yield running


def test_run_dir_and_kafka_data_are_private(stack: PrivateStack) -> None:
    run_dir = stack.run_dir
    assert _mode(run_dir) == 0o700
    assert _mode(run_dir / "logs") == 0o700
    kafka = list((run_dir / "kafka").rglob("*"))
    assert any(p.name.endswith(".log") for p in kafka)  # the broker has written its data
    logs = list((run_dir / "logs").glob("*.log"))
    assert any(p.name == "kafka.log" for p in logs)
    readable_by_others = [str(p) for p in kafka + logs if _mode(p) & 0o077]
    assert readable_by_others == []
    meta = run_dir / "kafka" / "data" / "meta.properties"
    assert _as_nobody("cat", "/etc/passwd").returncode == 0  # another user can read others'
    assert _as_nobody("cat", str(meta)).returncode != 0
    assert _as_nobody("ls", str(run_dir)).returncode != 0


def test_postgresql_keeps_its_cluster_outside_the_run_dir_privately(stack: PrivateStack) -> None:
    pg_dir = Path(stack_variable(stack.env, "WEIQUAN_PG_DIR"))
    assert stack.run_dir != pg_dir and stack.run_dir not in pg_dir.parents
    pgdata = pg_dir / "pgdata"
    assert (pgdata / "PG_VERSION").is_file()
    assert _mode(pgdata) == 0o700
    assert pgdata.owner() == "postgres"
    assert _as_nobody("ls", str(pgdata)).returncode != 0
    assert "postgres" in _databases(stack.infra.pg_port, stack.infra.pg_password)


def test_a_cluster_made_inside_the_run_dir_moves_out_at_the_next_start() -> None:
    """Stacks made before the run dir became private keep their data: the first start
    after the change moves the cluster out, and only then closes the run dir."""
    run_dir = Path(f"/tmp/weiquan-private-{uuid.uuid4().hex[:8]}")
    pg_port = free_port()
    env = {
        **os.environ,
        "WEIQUAN_RUN_DIR": str(run_dir),
        "WEIQUAN_PG_PORT": str(pg_port),
        "WEIQUAN_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    env.pop("WEIQUAN_PG_DIR", None)
    env.pop("WEIQUAN_PG_DIR_CHOSEN", None)
    pg_home = stack_variable(env, "WEIQUAN_PG_HOME")
    try:
        # The old layout: the cluster in the run dir, which user postgres can pass through.
        old_layout = {**env, "WEIQUAN_PG_DIR": str(run_dir)}
        subprocess.run(["bash", str(STACK), "infra-up"], env=old_layout, check=True)
        password = _read_env_file(run_dir / "secrets.env")["WEIQUAN_PG_PASSWORD"]
        assert (run_dir / "pgdata" / "PG_VERSION").is_file()
        assert _mode(run_dir) == 0o711
        assert "kept_across_the_move" in _databases(pg_port, password, "kept_across_the_move")
        subprocess.run(["bash", str(STACK), "down"], env=old_layout, check=True)

        subprocess.run(["bash", str(STACK), "infra-up"], env=env, check=True)
        assert not (run_dir / "pgdata").exists()
        assert (Path(pg_home) / "pgdata" / "PG_VERSION").is_file()
        assert _mode(run_dir) == 0o700
        assert "kept_across_the_move" in _databases(pg_port, password)
    finally:
        subprocess.run(["bash", str(STACK), "down"], env=env, check=False)
        subprocess.run(["rm", "-rf", str(run_dir), pg_home], check=False)
