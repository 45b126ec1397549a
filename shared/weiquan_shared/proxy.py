"""The reverse proxy's configuration: one address for every service.

``render`` fills ``nginx.conf.template`` with one location per service of
``navigation.PREFIXES`` (``/intake/`` -> intake, prefix stripped) and the portal at ``/``.
``python -m weiquan_shared.proxy OUT`` writes it for the local stack (ports from
``settings.SERVICE_PORTS``, overridable with ``--upstream NAME=HOST:PORT``); the test
harness renders one for each test deployment; ``--docker`` writes the Docker stack's
(``deploy/docker/nginx.conf``, committed; a test checks it is current).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from string import Template

from weiquan_shared.navigation import PREFIXES
from weiquan_shared.settings import SERVICE_PORTS

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
DEFAULT_LISTEN = "127.0.0.1:8100"
MAX_BODY = "1m"
PORTAL_SERVICE = "identity"


DOCKER_LISTEN = "8100"
DOCKER_PID_FILE = "/tmp/nginx.pid"


def local_upstreams(host: str = "127.0.0.1") -> dict[str, str]:
    return {service: f"{host}:{port}" for service, port in SERVICE_PORTS.items()}


def docker_config() -> str:
    """docker-compose.yml's proxy: each service by its compose name, on every interface."""
    upstreams = {service: f"{service}:{port}" for service, port in SERVICE_PORTS.items()}
    return render(upstreams, listen=DOCKER_LISTEN, pid_file=DOCKER_PID_FILE)


def render(
    upstreams: Mapping[str, str], *, listen: str, pid_file: str, max_body: str = MAX_BODY
) -> str:
    """The whole nginx configuration; ``upstreams`` maps each service to ``host:port``."""
    locations = "".join(
        f"        location {PREFIXES[service]}/ {{\n"
        f"            proxy_pass http://{upstreams[service]}/;\n"
        "        }\n"
        for service in PREFIXES
        if service in upstreams
    )
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        listen=listen,
        pid_file=pid_file,
        max_body=max_body,
        portal=upstreams[PORTAL_SERVICE],
        locations=locations,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the reverse proxy's nginx.conf.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--listen", default=os.environ.get("WEIQUAN_PROXY_LISTEN", DEFAULT_LISTEN))
    parser.add_argument("--pid-file", default=None)
    parser.add_argument("--docker", action="store_true", help="the Docker stack's config")
    parser.add_argument(
        "--upstream", action="append", default=[], metavar="NAME=HOST:PORT", help="override"
    )
    args = parser.parse_args(argv)
    if args.docker:
        args.out.write_text(docker_config())
        return
    upstreams = local_upstreams()
    for item in args.upstream:
        name, _, address = item.partition("=")
        upstreams[name] = address
    pid_file = args.pid_file or str(args.out.with_suffix(".pid"))
    args.out.write_text(render(upstreams, listen=args.listen, pid_file=pid_file))


if __name__ == "__main__":
    main()
