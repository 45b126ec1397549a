"""The pages people open and who may open them: one list, the proxy's prefixes from it."""

from __future__ import annotations

from weiquan_shared.auth import Role
from weiquan_shared.navigation import PAGES, PREFIXES, pages_for, service_prefix
from weiquan_shared.proxy import local_upstreams, render
from weiquan_shared.settings import SERVICE_PORTS


def test_each_role_gets_its_own_pages_only() -> None:
    hrefs = {role: [page.href for page in pages_for(role)] for role in Role}
    queues, search, calculator = "/projection/queues", "/intake/search", "/mediation/calculator"
    assert hrefs[Role.OPERATOR] == [queues, "/intake/operator", search, calculator]
    assert hrefs[Role.WALK_IN_CLERK] == [queues, "/intake/walk-in", search, calculator]
    assert hrefs[Role.TRIAGE_OFFICER] == [queues, "/triage/override", search]
    supervisor = [queues, search, "/mediation/workbench", "/projection/dashboard"]
    assert hrefs[Role.SUPERVISOR] == supervisor
    assert hrefs[Role.MEDIATOR] == [queues, search, "/mediation/workbench", calculator]
    assert hrefs[Role.ADMIN] == [
        "/audit/records",
        "/intake/docs",
        "/triage/docs",
        "/projection/docs",
        "/identity/docs",
        "/audit/docs",
        "/mediation/docs",
        "/notification/docs",
        "/legal-aid/docs",
    ]
    # Their queues and finding a case for everyone working cases; legal aid brings the
    # officer's queue and the lawyers' own cases (a lawyer works no union case file).
    assert hrefs[Role.LEGAL_AID_OFFICER] == [queues, search, calculator, "/legal-aid/queue"]
    assert hrefs[Role.LAWYER] == ["/legal-aid/my-cases"]


def test_every_page_belongs_to_a_proxied_service_and_has_roles() -> None:
    for page in PAGES:
        assert page.service in PREFIXES and page.roles, page
        assert page.path.startswith("/") and page.title


def test_prefixes_come_from_the_service_ports() -> None:
    assert set(PREFIXES) == set(SERVICE_PORTS)
    assert service_prefix("legal_aid") == "/legal-aid"
    conf = render(local_upstreams(), listen="127.0.0.1:8100", pid_file="/tmp/x.pid")
    pass_to = "{{\n            proxy_pass http://127.0.0.1:{}/;"
    for service, port in SERVICE_PORTS.items():
        assert f"location {PREFIXES[service]}/ " + pass_to.format(port) in conf
    # The portal is identity's root.
    assert "location = / " + pass_to.format(SERVICE_PORTS["identity"]) in conf
