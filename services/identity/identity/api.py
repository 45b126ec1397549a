"""Identity's HTTP surface: OpenID Connect discovery and JWKS, the OAuth 2 token endpoint,
``/api/v1/me``, and the Chinese sign-in page with its session cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from identity.accounts import Accounts, SignInRefused
from identity.domain import safe_next
from identity.keys import ALGORITHM
from identity.scopes import scope_label
from identity.service_clients import ClientRefused, ServiceClients, basic_credentials
from weiquan_shared.access import allow, public
from weiquan_shared.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    AuthenticationError,
    IssuerUnavailable,
    Principal,
    TokenVerifier,
    csrf_token,
    csrf_token_matches,
    require,
    set_csrf_cookie,
)
from weiquan_shared.navigation import pages_for

PAGES = Path(__file__).parent / "pages"
# No script at all on the sign-in page; styles only from this service.
PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The portal: through the proxy it is the one address's root; identity serves it at its own.
PORTAL = "/"
CSRF_EXPIRED = "页面已过期，请重新打开登录页面后再试"


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _client_credentials(
    request: Request, form: Any, clients: ServiceClients, accounts: Accounts
) -> JSONResponse:
    """A service's own token (see identity.service_clients): Basic credentials, or
    client_id and client_secret in the form."""
    credentials = basic_credentials(request.headers.get("authorization", "")) or (
        _form_text(form, "client_id"),
        _form_text(form, "client_secret"),
    )
    try:
        client_id = clients.authenticate(*credentials)
    except ClientRefused as refused:
        return _oauth_error("invalid_client", str(refused), status=401)
    token = clients.access_token(accounts.keys, client_id, datetime.now(UTC))
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(clients.lifetime.total_seconds()),
        },
        headers=NO_STORE,
    )


def principal_view(principal: Principal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "name": principal.name,
        "role": principal.role.value,
        "role_name": principal.role.label,
        "organisation": principal.organisation.value if principal.organisation else None,
        "organisation_name": principal.organisation.label if principal.organisation else None,
        "districts": list(principal.districts),
        "issuer": principal.issuer,
    }


def build_routers(
    accounts: Accounts, verifier: TokenVerifier, clients: ServiceClients
) -> list[APIRouter]:
    """Signing in and what verifiers fetch (public), and who is signed in (any role)."""
    router = APIRouter(
        dependencies=[
            public(
                "signing in and the keys that verify tokens: a password, a refresh token or "
                "nothing secret; the page forms carry a CSRF token"
            )
        ]
    )
    signed_in = APIRouter(dependencies=[allow()])
    issuer = accounts.tokens.issuer

    @router.get(
        "/.well-known/openid-configuration", tags=["oidc"], summary="OpenID Connect 发现文档"
    )
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "token_endpoint": f"{issuer}/api/v1/token",
            "revocation_endpoint": f"{issuer}/api/v1/revoke",
            "grant_types_supported": ["password", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "jti",
                "name",
                "preferred_username",
                "weiquan_role",
                "weiquan_org",
                "weiquan_districts",
            ],
        }

    @router.get("/.well-known/jwks.json", tags=["oidc"], summary="签名公钥（JWKS）")
    async def jwks() -> dict[str, Any]:
        return accounts.keys.public_jwks()

    @router.post(
        "/api/v1/token",
        tags=["oidc"],
        summary="获取或刷新访问令牌（OAuth 2，表单编码）",
        description="grant_type=password（username、password）或 grant_type=refresh_token"
        "（refresh_token）。错误按 OAuth 2 返回 error 与中文 error_description。",
    )
    async def token(request: Request) -> JSONResponse:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return _oauth_error(
                "invalid_request", "请求须为表单编码（application/x-www-form-urlencoded）"
            )
        form = await request.form()
        grant_type = _form_text(form, "grant_type")
        try:
            if grant_type == "password":
                username, password = _form_text(form, "username"), _form_text(form, "password")
                if not username or not password:
                    return _oauth_error("invalid_request", "请填写用户名和密码")
                issued = await accounts.sign_in(username, password)
            elif grant_type == "refresh_token":
                refresh_token = _form_text(form, "refresh_token")
                if not refresh_token:
                    return _oauth_error("invalid_request", "缺少 refresh_token")
                issued = await accounts.refresh(refresh_token)
            elif grant_type == "client_credentials":
                return _client_credentials(request, form, clients, accounts)
            else:
                return _oauth_error(
                    "unsupported_grant_type",
                    "不支持的授权方式：grant_type 只能是 password、refresh_token 或 "
                    "client_credentials",
                )
        except SignInRefused as refused:
            return _oauth_error("invalid_grant", refused.message)
        return JSONResponse(issued.oauth_response(), headers=NO_STORE)

    @router.post("/api/v1/revoke", tags=["oidc"], summary="注销刷新令牌（RFC 7009）")
    async def revoke(request: Request) -> Response:
        form = await request.form()
        refresh_token = _form_text(form, "token")
        if not refresh_token:
            return _oauth_error("invalid_request", "缺少 token")
        await accounts.revoke(refresh_token)
        return Response(status_code=200, headers=NO_STORE)

    @signed_in.get("/api/v1/me", tags=["users"], summary="当前登录用户")
    async def me(principal: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
        return principal_view(principal)

    @signed_in.get("/api/v1/navigation", tags=["users"], summary="当前用户可用的页面（导航栏）")
    async def navigation(principal: Annotated[Principal, Depends(require())]) -> dict[str, Any]:
        return {
            "name": principal.name,
            "role_name": principal.role.label,
            "pages": [{"href": p.href, "title": p.title} for p in pages_for(principal.role)],
        }

    @router.get("/static/identity.css", include_in_schema=False)
    async def stylesheet() -> FileResponse:
        return FileResponse(PAGES / "identity.css", media_type="text/css")

    async def session_principal(request: Request) -> Principal | None:
        """Who the page's session cookie names, if anyone (an expired one names no one)."""
        session = request.cookies.get(SESSION_COOKIE)
        if not session:
            return None
        try:
            return await verifier.verify(session)
        except (AuthenticationError, IssuerUnavailable):
            return None

    @router.get("/", response_class=HTMLResponse, tags=["pages"], summary="工作台（导航）")
    async def portal(request: Request) -> Response:
        principal = await session_principal(request)
        if principal is None:
            login = f"{_root(request)}/login?{urlencode({'next': PORTAL})}"
            return RedirectResponse(login, status_code=303, headers=NO_STORE)
        return _portal_page(request, principal)

    @router.get("/login", response_class=HTMLResponse, tags=["pages"], summary="登录页面")
    async def login_page(request: Request, next: str = PORTAL) -> Response:
        return _page(
            request, next_path=safe_next(next, PORTAL), principal=await session_principal(request)
        )

    @router.post("/login", response_class=HTMLResponse, tags=["pages"], summary="登录")
    async def login(request: Request) -> Response:
        form = await request.form()
        next_path = safe_next(_form_text(form, "next"), PORTAL)
        username = _form_text(form, "username")
        if not await csrf_token_matches(request):
            return _page(request, next_path=next_path, error=CSRF_EXPIRED, status=403)
        try:
            issued = await accounts.sign_in(username, _form_text(form, "password"))
        except SignInRefused as refused:
            return _page(
                request, next_path=next_path, error=refused.message, username=username, status=401
            )
        response = RedirectResponse(next_path, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            issued.access_token,
            max_age=issued.expires_in,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout", tags=["pages"], summary="退出登录")
    async def logout(request: Request) -> Response:
        if not await csrf_token_matches(request):
            return _page(request, next_path=PORTAL, error=CSRF_EXPIRED, status=403)
        response = RedirectResponse(f"{_root(request)}/login", status_code=303)
        response.delete_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    return [router, signed_in]


def _root(request: Request) -> str:
    """The prefix the proxy serves identity under (empty when reached directly)."""
    return str(request.scope.get("root_path", ""))


def _csrf(request: Request) -> tuple[str, str]:
    """The page's CSRF token (kept from the cookie, else new) and its hidden field."""
    csrf = csrf_token(request)
    return csrf, f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf)}">'


def _with_csrf_cookie(request: Request, response: HTMLResponse, csrf: str) -> HTMLResponse:
    set_csrf_cookie(request, response, csrf)
    return response


def _html(request: Request, title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · 维权案件管理系统</title>"
        f'<link rel="stylesheet" href="{escape(_root(request))}/static/identity.css">'
        f'<link rel="stylesheet" href="{escape(_root(request))}/site/nav.css">'
        f"</head><body>{body}</body></html>"
    )


def navigation_bar(principal: Principal) -> str:
    """The one navigation bar: the portal, then every page the person's role may use."""
    links = "".join(
        f'<a href="{escape(page.href)}" data-page="{escape(page.href)}">{escape(page.title)}</a>'
        for page in pages_for(principal.role)
    )
    home = f'<a href="{PORTAL}" class="home">工作台</a>'
    return f'<nav class="site" aria-label="主导航">{home}{links}</nav>'


def _portal_page(request: Request, principal: Principal) -> HTMLResponse:
    csrf, hidden = _csrf(request)
    organisation = principal.organisation.label if principal.organisation else "—"
    pages = pages_for(principal.role)
    hint = (
        "请从上方导航进入您的工作页面。"
        if pages
        else "您的角色暂无可用页面（相关服务尚未上线），如有疑问请联系系统管理员。"
    )
    body = (
        f"{navigation_bar(principal)}"
        '<main class="portal"><h1>维权案件管理系统</h1>'
        f'<p class="welcome">您好，<strong id="who">{escape(principal.name)}</strong></p>'
        "<dl>"
        f'<dt>角色</dt><dd id="role">{escape(principal.role.label)}</dd>'
        f'<dt>单位</dt><dd id="organisation">{escape(organisation)}</dd>'
        f'<dt>工作范围</dt><dd id="scope">{escape(scope_label(principal.districts))}</dd>'
        f'</dl><p class="hint">{hint}</p>'
        f'<form method="post" action="{escape(_root(request))}/logout">{hidden}'
        '<button type="submit" id="logout">退出登录</button></form></main>'
    )
    response = HTMLResponse(_html(request, "工作台", body), headers={**PAGE_SECURITY_HEADERS})
    return _with_csrf_cookie(request, response, csrf)


def _page(
    request: Request,
    *,
    next_path: str,
    principal: Principal | None = None,
    error: str = "",
    username: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The sign-in form (or who is signed in), with a CSRF token bound to a cookie."""
    csrf, hidden = _csrf(request)
    root = escape(_root(request))
    if principal is not None:
        organisation = principal.organisation.label if principal.organisation else "—"
        body = (
            '<p class="ok" role="status">您已登录：'
            f'<strong id="who">{escape(principal.name)}</strong>'
            f"（{escape(principal.role.label)} · {escape(organisation)}）</p>"
            '<p class="hint">工作范围：'
            f'<span id="scope">{escape(scope_label(principal.districts))}</span></p>'
            f'<p><a href="{PORTAL}" id="portal">进入工作台</a></p>'
            f'<form method="post" action="{root}/logout">{hidden}'
            '<button type="submit" id="logout">退出登录</button></form>'
        )
    else:
        alert = f'<p class="error" role="alert" id="error">{escape(error)}</p>' if error else ""
        body = (
            f"{alert}"
            f'<form method="post" action="{root}/login" autocomplete="on">{hidden}'
            f'<input type="hidden" name="next" value="{escape(next_path)}">'
            '<label for="username">用户名</label>'
            f'<input id="username" name="username" value="{escape(username)}" required '
            f'{"" if username else "autofocus "}autocomplete="username" autocapitalize="none" '
            'spellcheck="false"><label for="password">密码</label>'
            '<input id="password" name="password" type="password" required '
            f'{"autofocus " if username else ""}autocomplete="current-password">'
            '<button type="submit" id="submit">登录</button></form>'
            '<p class="hint">连续输错密码将被暂时锁定。忘记密码请联系系统管理员。</p>'
        )
    html = _html(
        request,
        "登录",
        f'<main class="sign-in"><h1>维权案件管理系统</h1><h2>工作人员登录</h2>{body}</main>',
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_SECURITY_HEADERS)
    return _with_csrf_cookie(request, response, csrf)
