"""The pages people open, who may open them, and where each service sits behind the proxy.

One address serves everything (the reverse proxy, ``deploy/nginx``): each service under
its own path prefix, the portal at ``/``. The portal's navigation bar lists the pages of
:data:`PAGES` the signed-in person's role may use. A new service adds its port to
``settings.SERVICE_PORTS`` (which gives it a prefix here) and its pages to :data:`PAGES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from weiquan_shared.auth import Role
from weiquan_shared.settings import SERVICE_PORTS


def service_prefix(service: str) -> str:
    """The path prefix a service is served under through the proxy (``legal_aid`` ->
    ``/legal-aid``)."""
    return "/" + service.replace("_", "-")


# Service -> prefix, for every service with an HTTP port: what the proxy routes.
PREFIXES: dict[str, str] = {service: service_prefix(service) for service in SERVICE_PORTS}


@dataclass(frozen=True)
class Page:
    service: str
    path: str  # within the service
    title: str
    roles: frozenset[Role]

    @property
    def href(self) -> str:
        """Where the page is through the proxy."""
        return PREFIXES[self.service] + self.path


# Everyone on the union's side who works cases (intake's case file, projection's case page
# and work queues).
CASE_WORKERS = (
    Role.OPERATOR,
    Role.WALK_IN_CLERK,
    Role.TRIAGE_OFFICER,
    Role.MEDIATOR,
    Role.LEGAL_AID_OFFICER,
    Role.SUPERVISOR,
)


def _page(service: str, path: str, title: str, *roles: Role) -> Page:
    return Page(service, path, title, frozenset(roles))


# Everyone who works cases has a case page per case and their own queues (我的工作), first.
PAGES: tuple[Page, ...] = (
    _page("projection", "/queues", "我的工作", *CASE_WORKERS),
    _page("intake", "/operator", "12351 热线登记", Role.OPERATOR),
    _page("intake", "/walk-in", "来访窗口登记", Role.WALK_IN_CLERK),
    _page("triage", "/override", "调整分流", Role.TRIAGE_OFFICER),
    _page("intake", "/search", "查找案件", *CASE_WORKERS),
    _page("mediation", "/workbench", "调解工作台", Role.MEDIATOR, Role.SUPERVISOR),
    _page("projection", "/dashboard", "督导看板", Role.SUPERVISOR),
    _page("audit", "/records", "审计记录", Role.ADMIN),
    _page(
        "mediation",
        "/calculator",
        "权益计算器",
        Role.MEDIATOR,
        Role.OPERATOR,
        Role.WALK_IN_CLERK,
        Role.LEGAL_AID_OFFICER,
    ),
    _page("legal_aid", "/queue", "法律援助待办", Role.LEGAL_AID_OFFICER),
    _page("legal_aid", "/my-cases", "我承办的案件", Role.LAWYER),
    _page("intake", "/docs", "受理服务接口文档", Role.ADMIN),
    _page("triage", "/docs", "分流服务接口文档", Role.ADMIN),
    _page("projection", "/docs", "统计服务接口文档", Role.ADMIN),
    _page("identity", "/docs", "身份认证服务接口文档", Role.ADMIN),
    _page("audit", "/docs", "审计服务接口文档", Role.ADMIN),
    _page("mediation", "/docs", "调解服务接口文档", Role.ADMIN),
    _page("notification", "/docs", "通知服务接口文档", Role.ADMIN),
    _page("legal_aid", "/docs", "法律援助服务接口文档", Role.ADMIN),
)


def pages_for(role: Role) -> list[Page]:
    """The pages a role may open, in the navigation bar's order."""
    return [page for page in PAGES if role in page.roles]
