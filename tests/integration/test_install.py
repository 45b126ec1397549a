"""deploy/local/install.sh brings what the browser tests and the reverse proxy need to a
fresh machine.

The script itself runs (as ``make test`` and CI run it), in a private run dir. Only the
package manager is replaced: ``apt-get`` by a recorder, and, to play a machine without
them, ``dpkg-query`` by one that reports chromium and the CJK fonts (or nginx) as not
installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

BROWSER_PACKAGES = ("chromium", "fonts-noto-cjk")
# What only the tests need: the CJK fonts are also mediation's (the 调解协议书 PDF).
TEST_ONLY_PACKAGES = ("chromium", "poppler-utils")

RECORDING_APT_GET = """#!/bin/sh
echo "$*" >>"{log}"
"""

DPKG_QUERY_WITHOUT = """#!/bin/sh
for arg in "$@"; do
    case "$arg" in {missing}) echo "unknown ok not-installed"; exit 1 ;; esac
done
exec {real} "$@"
"""
NGINX_PACKAGES = ("nginx-light", "nginx-core", "nginx-full", "nginx-extras", "nginx")


def _run_install(
    tmp_path: Path,
    *,
    browser_installed: bool,
    nginx_installed: bool = True,
    test_tools: bool = True,
) -> list[str]:
    """Runs install.sh; returns the apt-get command lines it ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt_log = tmp_path / "apt-get.log"
    apt_log.touch()
    (bin_dir / "apt-get").write_text(RECORDING_APT_GET.format(log=apt_log))
    missing = [
        *([] if browser_installed else BROWSER_PACKAGES),
        *([] if nginx_installed else NGINX_PACKAGES),
    ]
    if missing:
        real = subprocess.run(
            ["sh", "-c", "command -v dpkg-query"], capture_output=True, text=True, check=True
        ).stdout.strip()
        (bin_dir / "dpkg-query").write_text(
            DPKG_QUERY_WITHOUT.format(missing="|".join(missing), real=real)
        )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "WEIQUAN_RUN_DIR": str(tmp_path / "run"),
        "WEIQUAN_INSTALL_TEST_TOOLS": "1" if test_tools else "0",
    }
    for inherited in ("WEIQUAN_PG_DIR", "WEIQUAN_PG_DIR_CHOSEN"):
        env.pop(inherited, None)
    result = subprocess.run(
        ["bash", str(ROOT / "deploy/local/install.sh")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return apt_log.read_text().splitlines()


def test_install_adds_chromium_and_cjk_fonts_when_missing(tmp_path: Path) -> None:
    apt_calls = _run_install(tmp_path, browser_installed=False)
    installs = [call.split() for call in apt_calls if call.split()[:1] == ["install"]]
    assert any(set(BROWSER_PACKAGES) <= set(words) for words in installs), apt_calls
    assert apt_calls[0].split()[:1] == ["update"]


def test_make_up_installs_no_browser_test_tools(tmp_path: Path) -> None:
    """make up (install without the test tools) stays fast on a fresh machine: no browser,
    no PDF reader; the CJK fonts it does install are the agreement PDF's."""
    apt_calls = _run_install(tmp_path, browser_installed=False, test_tools=False)
    assert not [c for c in apt_calls if any(p in c.split() for p in TEST_ONLY_PACKAGES)]


def test_install_leaves_present_browser_packages_alone(tmp_path: Path) -> None:
    apt_calls = _run_install(tmp_path, browser_installed=True)
    assert not [c for c in apt_calls if any(p in c.split() for p in BROWSER_PACKAGES)]


def test_install_adds_nginx_when_missing(tmp_path: Path) -> None:
    apt_calls = _run_install(tmp_path, browser_installed=True, nginx_installed=False)
    installs = [call.split() for call in apt_calls if call.split()[:1] == ["install"]]
    # The light flavour where the release has one (Debian 12), else plain nginx.
    assert any({"nginx-light", "nginx"} & set(words) for words in installs), apt_calls


def test_install_leaves_a_present_nginx_alone(tmp_path: Path) -> None:
    apt_calls = _run_install(tmp_path, browser_installed=True)
    assert not [c for c in apt_calls if any(p in c.split() for p in NGINX_PACKAGES)]
