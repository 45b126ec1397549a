"""What `make up` prints at the end (deploy/local/welcome.sh): the one address first, then a
demo account per role; the services' own ports only afterwards, for operations."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from identity.demo import DEMO_ACCOUNTS, render
from weiquan_shared.auth import Role

ROOT = Path(__file__).resolve().parents[1]


def test_the_one_address_comes_first_then_an_account_per_role(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    passwords = {account.username: f"pw-{i}" for i, account in enumerate(DEMO_ACCOUNTS)}
    (run_dir / "demo-accounts.txt").write_text(render(passwords), encoding="utf-8")
    env = {**os.environ, "WEIQUAN_RUN_DIR": str(run_dir), "WEIQUAN_PROXY_LISTEN": "127.0.0.1:8100"}
    for inherited in ("WEIQUAN_PG_DIR", "WEIQUAN_PG_DIR_CHOSEN"):
        env.pop(inherited, None)
    shown = subprocess.run(
        ["bash", str(ROOT / "deploy/local/welcome.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    addresses = re.findall(r"https?://\S+", shown)
    assert addresses[0] == "http://127.0.0.1:8100/", shown
    accounts_start = shown.index("Demo accounts")
    accounts_end = shown.index("For operations")
    assert shown.index("http://127.0.0.1:8100/") < accounts_start
    # Nothing but the one address is offered to people before the accounts.
    assert re.findall(r"https?://\S+", shown[:accounts_start]) == ["http://127.0.0.1:8100/"]
    accounts = shown[accounts_start:accounts_end]
    for role in Role:
        account = next(a for a in DEMO_ACCOUNTS if a.role == role)
        assert f"{account.username} " in accounts and role.label in accounts, role
        assert passwords[account.username] in accounts
