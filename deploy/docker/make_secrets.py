"""Writes the secrets docker-compose.yml reads, one file per holder, each mode 600.

    python3 deploy/docker/make_secrets.py          (from the repo root; standard library only)

Least privilege: a container gets only the files it needs.

    secrets.env           PII keys (and, added by hand, WeChat's): the services
    postgres.env          WEIQUAN_PG_PASSWORD, the provisioning role `weiquan`'s password:
                          PostgreSQL and the one-shot `provision` job only
    pg-<service>.env      WEIQUAN_PG_PASSWORD_<SERVICE>, the service's own role's password:
                          that service and the `provision` job only
    client-<service>.env  WEIQUAN_SERVICE_SECRET_<SERVICE>, a service's client secret at
                          identity (client credentials): that service and identity only
    notification.env      the key that signs survey links (and hashes the OpenIDs surveys
                          went to): notification only

Existing files are kept (their keys decrypt stored data); only missing ones are written. A
secrets.env from before per-service roles holds WEIQUAN_PG_PASSWORD: it is moved to
postgres.env (the data volume's role has that password), so the services no longer get it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from pathlib import Path

# Every service of weiquan_shared.settings.SERVICE_PORTS (tests/test_compose.py checks).
SERVICES = (
    "intake",
    "triage",
    "projection",
    "identity",
    "audit",
    "mediation",
    "notification",
    "legal_aid",
)
# Services with a client secret at identity (weiquan_shared.service_client.SERVICE_CLIENTS).
CLIENTS = ("notification", "mediation", "intake")
HERE = Path(__file__).resolve().parent


def _key32() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _write(path: Path, lines: list[str]) -> None:
    """Create ``path`` readable by its owner only, never readable by others even briefly."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("".join(f"{line}\n" for line in lines))
    print(f"make_secrets: wrote {path}")


def make_secrets(directory: Path) -> None:
    shared = directory / "secrets.env"
    admin = directory / "postgres.env"
    if shared.exists() and not admin.exists():
        lines = shared.read_text(encoding="utf-8").splitlines()
        old = [line for line in lines if line.startswith("WEIQUAN_PG_PASSWORD=")]
        if old:
            _write(admin, old[-1:])
            kept = [line for line in lines if not line.startswith("WEIQUAN_PG_PASSWORD=")]
            shared.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
            print(f"make_secrets: moved WEIQUAN_PG_PASSWORD from {shared} to {admin}")
    if not shared.exists():
        # Single quotes: the JSON has double quotes and must reach the services verbatim.
        _write(
            shared,
            [
                f"WEIQUAN_PII_KEYS='{json.dumps({'k1': _key32()})}'",
                "WEIQUAN_PII_ACTIVE_KEY_ID=k1",
                f"WEIQUAN_PII_INDEX_KEY={_key32()}",
            ],
        )
    if not admin.exists():
        _write(admin, [f"WEIQUAN_PG_PASSWORD={secrets.token_hex(24)}"])
    for name in SERVICES:
        own = directory / f"pg-{name}.env"
        if not own.exists():
            _write(own, [f"WEIQUAN_PG_PASSWORD_{name.upper()}={secrets.token_hex(24)}"])
    for name in CLIENTS:
        client = directory / f"client-{name}.env"
        if not client.exists():
            _write(client, [f"WEIQUAN_SERVICE_SECRET_{name.upper()}={secrets.token_hex(32)}"])
    notification = directory / "notification.env"
    if not notification.exists():
        _write(notification, [f"WEIQUAN_NOTIFICATION_SURVEY_KEY={secrets.token_hex(32)}"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="where to write (deploy/docker)")
    make_secrets(parser.parse_args().dir)
