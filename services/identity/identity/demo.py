"""Demo accounts for the local stack, one per role, with passwords generated on first run.

``python -m identity demo-accounts .run/demo-accounts.txt`` writes the file (mode 600) the
first time and, every time, (re)creates the accounts with the passwords it holds, so the
printed list always signs in. The file lives in ``.run/`` and is never committed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from identity import store
from identity.domain import Passwords
from identity.scopes import districts_of
from weiquan_shared.auth import Organisation, Role
from weiquan_shared.db import prepare_database
from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings, Settings, service_settings


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    organisation: Organisation
    scope: str
    # Work contacts (encrypted at rest): where notification writes to mediators and lawyers.
    email: str | None = None
    mobile: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount(
        "demo-operator",
        "演示接线员",
        Role.OPERATOR,
        Organisation.UNION,
        "440305",
        "li.na@nsftu.org.cn",
        "13923450101",
    ),
    DemoAccount(
        "demo-clerk",
        "演示窗口受理员",
        Role.WALK_IN_CLERK,
        Organisation.UNION,
        "440305",
        "chen.jing@nsftu.org.cn",
        "13923450102",
    ),
    DemoAccount(
        "demo-triage",
        "演示分流员",
        Role.TRIAGE_OFFICER,
        Organisation.UNION,
        "4403",
        "wang.lei@szftu.org.cn",
        "13923450103",
    ),
    DemoAccount(
        "demo-mediator",
        "演示工会调解员",
        Role.MEDIATOR,
        Organisation.UNION,
        "440305",
        "zhang.min@nsftu.org.cn",
        "13923450104",
    ),
    DemoAccount(
        "demo-court-mediator",
        "演示法院调解员",
        Role.MEDIATOR,
        Organisation.PEOPLES_COURT,
        "440305",
        "liu.yang@nsfy.gov.cn",
        "13923450105",
    ),
    DemoAccount(
        "demo-legal-aid",
        "演示法律援助专员",
        Role.LEGAL_AID_OFFICER,
        Organisation.UNION,
        "4403",
        "zhao.hui@szftu.org.cn",
        "13923450106",
    ),
    DemoAccount(
        "demo-lawyer",
        "演示律师",
        Role.LAWYER,
        Organisation.LAW_FIRM,
        "440305",
        "huang.wei@pengchenglaw.cn",
        "13923450107",
    ),
    DemoAccount(
        "demo-supervisor",
        "演示市总督导",
        Role.SUPERVISOR,
        Organisation.UNION,
        "4403",
        "sun.li@szftu.org.cn",
        "13923450108",
    ),
    DemoAccount(
        "demo-supervisor-440305",
        "演示南山区督导",
        Role.SUPERVISOR,
        Organisation.UNION,
        "440305",
        "zhou.qiang@nsftu.org.cn",
        "13923450109",
    ),
    DemoAccount(
        "demo-admin",
        "演示系统管理员",
        Role.ADMIN,
        Organisation.UNION,
        "4403",
        "wu.tao@szftu.org.cn",
        "13923450110",
    ),
)


def read_passwords(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    passwords = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 2 and not line.startswith("#"):
            passwords[fields[0]] = fields[1]
    return passwords


def render(passwords: dict[str, str]) -> str:
    lines = [
        "# 维权 demo accounts for the local stack (generated; never commit this file)",
        "# username                 password          role · organisation · scope",
    ]
    for account in DEMO_ACCOUNTS:
        lines.append(
            f"{account.username:<26} {passwords[account.username]:<17} "
            f"{account.role.label} · {account.organisation.label} · {account.scope}"
        )
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    tmp.replace(path)


async def seed(settings: Settings, path: Path) -> None:
    passwords = read_passwords(path)
    for account in DEMO_ACCOUNTS:
        passwords.setdefault(account.username, secrets.token_urlsafe(12))
    write_private(path, render(passwords))
    hasher = Passwords()
    cipher = PiiCipher.from_settings(PiiSettings())
    pool = await prepare_database(settings, Path(__file__).parent / "migrations")
    try:
        async with pool.acquire() as conn, conn.transaction():
            for account in DEMO_ACCOUNTS:
                password_hash = await asyncio.to_thread(hasher.hash, passwords[account.username])
                user_id = await store.upsert_user(
                    conn,
                    username=account.username,
                    display_name=account.display_name,
                    role=account.role,
                    organisation=account.organisation,
                    districts=districts_of(account.scope),
                    password_hash=password_hash,
                )
                await store.set_work_contact(
                    conn, user_id, email=account.email, mobile=account.mobile, cipher=cipher
                )
    finally:
        await pool.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m identity demo-accounts PATH")
    asyncio.run(seed(service_settings("identity"), Path(argv[0])))
