"""The operator page (12351 hotline) and the walk-in desk page, in Chinese.

Plain HTML rendered here, with one small script (``pages/intake.js``) that posts the form
as JSON to the API and puts each Chinese validation message next to its field: no
JavaScript build step, nothing to install. Keyboard first: the first field has autofocus,
the tab order is the reading order, Enter submits (Ctrl+Enter from a multi-line field).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from intake.api_casefile import CASE_WORKERS
from intake.domain import (
    CONSENT_WORDINGS,
    CURRENT_CONSENT_VERSION,
    CURRENT_SHARING_CONSENT_VERSION,
    HOUSEHOLD_TYPES,
    SHARING_CONSENT_WORDINGS,
)
from intake.domain_wechat import DISTRICTS
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Role, page_with_csrf
from weiquan_shared.labels import (
    CATEGORIES,
    CONSENT_SCOPES,
    MOBILE_SEARCH_REASONS,
    REVEAL_REASONS,
)

HERE = Path(__file__).parent / "pages"

TOPICS = CATEGORIES


def _options(choices: dict[str, str], blank: str | None = None) -> str:
    head = f'<option value="">{escape(blank)}</option>' if blank is not None else ""
    return head + "".join(
        f'<option value="{escape(k)}">{escape(v)}</option>' for k, v in choices.items()
    )


def field(
    name: str,
    label: str,
    kind: str = "text",
    *,
    required: bool = False,
    autofocus: bool = False,
    hint: str = "",
    options: dict[str, str] | None = None,
    extra: str = "",
) -> str:
    """One labelled input with its error slot (``data-error-for`` = the API's field path)."""
    ident = name.replace(".", "-")
    attrs = f'id="{ident}" name="{name}"'
    attrs += " required" if required else ""
    attrs += " autofocus" if autofocus else ""
    attrs += f" {extra}" if extra else ""
    mark = " *" if required else ""
    if kind == "checkbox":
        control = f'<label class="inline"><input type="checkbox" {attrs}> {escape(label)}</label>'
        return f'<div>{control}<span class="error" data-error-for="{name}"></span></div>'
    if kind == "textarea":
        control = f"<textarea {attrs}></textarea>"
    elif kind == "select":
        control = f"<select {attrs}>{_options(options or {}, '（请选择）')}</select>"
    else:
        control = f'<input type="{kind}" {attrs}>'
    hint_html = f'<span class="hint">{escape(hint)}</span>' if hint else ""
    return (
        f'<div><label for="{ident}">{escape(label)}{mark}</label>{control}{hint_html}'
        f'<span class="error" data-error-for="{name}"></span></div>'
    )


def worker_fields(index: int, *, autofocus: bool = False) -> str:
    p = f"workers.{index}"
    return (
        f'<fieldset class="worker" data-index="{index}"><legend>职工 {index + 1}</legend>'
        '<div class="row">'
        + field(f"{p}.name", "姓名", required=True, autofocus=autofocus)
        + field(f"{p}.mobile", "手机号", "tel", required=True, extra='inputmode="numeric"')
        + field(f"{p}.id_number", "身份证号")
        + field(f"{p}.household_type", "户籍类型", "select", options=HOUSEHOLD_TYPES)
        + field(f"{p}.occupation", "工种/岗位")
        + "</div>"
        + field(f"{p}.is_migrant_worker", "农民工", "checkbox")
        + field(f"{p}.is_platform_worker", "新就业形态劳动者（平台骑手、司机等）", "checkbox")
        + "</fieldset>"
    )


def _employer_and_dispute() -> str:
    districts = dict(DISTRICTS)
    wording = CONSENT_WORDINGS[CURRENT_CONSENT_VERSION]
    return (
        "<fieldset><legend>用人单位</legend><div class='row'>"
        + field("employer.name", "单位名称", required=True)
        + field("employer.credit_code", "统一社会信用代码", hint="知道时填写")
        + field("employer.district_code", "所在区", "select", required=True, options=districts)
        + field("employer.industry", "行业")
        + "</div>"
        + field("employer.address", "单位地址")
        + "<div class='row'>"
        + field("employer.contact.name", "单位联系人", hint="知道时填写")
        + field("employer.contact.mobile", "联系人手机号", "tel", extra='inputmode="numeric"')
        + field("employer.contact.email", "联系人电子邮箱", "email")
        + "</div>"
        + "</fieldset><fieldset><legend>争议事项（劳动争议调解仲裁法第十二条）</legend>"
        + field("description", "事情经过（理由）", "textarea", required=True)
        + field("demands", "诉求事项", "textarea", required=True)
        + "<div class='row'>"
        + field("claim_amount", "诉求金额（元）", "number", extra='min="0" step="0.01"')
        + field("knew_of_infringement_on", "知道权利受侵害的日期", "date")
        + field("employment_ended_on", "劳动关系终止日期", "date")
        + "</div></fieldset>"
        + f"<fieldset><legend>个人信息处理告知（{CURRENT_CONSENT_VERSION}）</legend>"
        + f'<p class="consent">{escape(wording)}</p>'
        + f'<input type="hidden" name="consent.wording_version" value="{CURRENT_CONSENT_VERSION}">'
        + field("consent.agreed", "已向职工宣读（出示）以上告知，职工同意", "checkbox")
        + "</fieldset>"
        + sharing_consent_fields()
    )


def sharing_consent_fields() -> str:
    """The separate consent (PIPL Art.23), one checkbox per organisation, none ticked: the
    worker chooses; nothing ticked means nothing is shared."""
    wording = SHARING_CONSENT_WORDINGS[CURRENT_SHARING_CONSENT_VERSION]
    boxes = "".join(
        f'<label class="inline"><input type="checkbox" name="sharing_consent" data-list '
        f'value="{escape(code)}" id="sharing_consent-{escape(code)}"> {escape(name)}</label>'
        for code, name in CONSENT_SCOPES.items()
    )
    return (
        "<fieldset><legend>单独同意：向其他机构提供案件材料"
        f"（个人信息保护法第二十三条，{CURRENT_SHARING_CONSENT_VERSION}，可不选）</legend>"
        f'<p class="consent">{escape(wording)}</p>'
        '<input type="hidden" name="sharing_consent_wording_version" '
        f'value="{CURRENT_SHARING_CONSENT_VERSION}">'
        f"<div>职工同意提供给：{boxes}</div>"
        '<span class="error" data-error-for="sharing_consent"></span>'
        "</fieldset>"
    )


def case_view() -> str:
    """A case by number, its workers masked; 显示 reveals one value once, with a reason."""
    return (
        '<h2>查看案件</h2><form id="case-view-form" novalidate><div class="row">'
        + field("case_number", "案件编号", required=True, hint="如 440305-2026-000123")
        + field(
            "reveal_reason", "显示个人信息的理由", "select", required=True, options=REVEAL_REASONS
        )
        + "</div>"
        + '<button type="submit">查看</button>'
        '<div class="result" role="status" aria-live="polite"></div>'
        '<table id="case-workers" hidden><thead><tr><th>职工</th><th>姓名</th><th>手机号</th>'
        "<th>身份证号</th></tr></thead><tbody></tbody></table></form>"
    )


def _page(title: str, body: str, page: str) -> str:
    """Every URL is relative to the page (``static/…``, ``api/v1/…``), so the page works
    at ``/operator`` on intake's own port and at ``/intake/operator`` behind the proxy. No
    inline script or style (the proxy's Content-Security-Policy allows neither):
    ``intake.js`` wires the page named by ``data-page``. The navigation is the one bar of
    every page (``site/nav.js``), which lists only what the person's role may open."""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><link rel="stylesheet" href="static/intake.css"></head>
<body data-page="{page}"><h1>{escape(title)}</h1>
{body}
<script src="static/intake.js"></script><script src="site/nav.js"></script></body></html>"""


def operator_page() -> str:
    case_form = (
        '<form id="case-form" novalidate>'
        "<fieldset><legend>来电</legend><div class='row'>"
        + field("call_id", "来电流水号", required=True, autofocus=True, hint="电话系统显示的编号")
        + field("called_at", "来电时间", "datetime-local", required=True, extra="data-now")
        + "</div></fieldset>"
        + worker_fields(0)
        + _employer_and_dispute()
        + '<button type="submit">登记案件（Enter）</button>'
        '<div class="result" role="status" aria-live="polite"></div></form>'
    )
    consultation_form = (
        '<h2>当场解答的咨询（不立案）</h2><form id="consultation-form" novalidate>'
        '<input type="hidden" name="channel" value="hotline"><div class="row">'
        + field("channel_ref", "来电流水号", required=True)
        + field("occurred_at", "咨询时间", "datetime-local", required=True, extra="data-now")
        + field("district_code", "所在区", "select", required=True, options=dict(DISTRICTS))
        + field("topic", "咨询类别", "select", required=True, options=TOPICS)
        + "</div>"
        + field("question", "咨询内容", "textarea", required=True)
        + field("answer", "答复要点", "textarea", required=True)
        + '<button type="submit">记录咨询</button>'
        '<div class="result" role="status" aria-live="polite"></div></form>'
    )
    search_form = (
        '<h2>按手机号查找案件</h2><form id="search-form" novalidate><div class="row">'
        + field("mobile", "手机号", "tel", required=True)
        + field("reason", "查询理由", "select", required=True, options=MOBILE_SEARCH_REASONS)
        + "</div>"
        + '<button type="submit">查找</button>'
        '<div class="result" role="status" aria-live="polite"></div></form>'
    )
    return _page(
        "12351 热线来电登记", case_form + consultation_form + search_form + case_view(), "operator"
    )


def walk_in_page() -> str:
    form = (
        '<form id="walk-in-form" novalidate>'
        '<input type="hidden" name="desk_submission_id" id="desk_submission_id">'
        "<fieldset><legend>来访</legend><div class='row'>"
        + field("centre", "服务中心", required=True, autofocus=True)
        + field("visited_at", "来访时间", "datetime-local", required=True, extra="data-now")
        + "</div>"
        + '<span class="error" data-error-for="desk_submission_id"></span>'
        + '<span class="error" data-error-for="workers"></span></fieldset>'
        + '<div id="workers">'
        + worker_fields(0)
        + "</div>"
        + '<button type="button" id="add-worker" accesskey="a">添加同一单位的工友（Alt+A）</button>'
        + _employer_and_dispute()
        + '<button type="submit">登记（Enter）</button>'
        '<div class="result" role="status" aria-live="polite"></div></form>'
    )
    template = (
        worker_fields(0)
        .replace("workers.0.", "workers.__I__.")
        .replace("workers-0-", "workers-__I__-")
    )
    # A further worker's fields, copied by intake.js ("添加同一单位的工友").
    template = f'<template id="worker-template">{template}</template>'
    return _page("职工服务中心来访登记", form + template + case_view(), "walk-in")


def search_page() -> str:
    """One box: a case number, a mobile as typed, a worker's name, an employer or its code."""
    form = (
        '<form id="find-form" novalidate><div class="row">'
        + field(
            "query",
            "查找内容",
            required=True,
            autofocus=True,
            hint="案件编号、手机号（可带空格、+86）、职工姓名、用人单位名称或统一社会信用代码",
        )
        + field("reason", "查询理由", "select", required=True, options=MOBILE_SEARCH_REASONS)
        + "</div>"
        + '<button type="submit">查找（Enter）</button>'
        '<div class="result" role="status" aria-live="polite"></div>'
        '<ol id="found"></ol></form>'
        '<p class="hint">按手机号、身份证号或姓名查找会记入审计，并有次数限制；'
        "结果中的姓名已脱敏，点击案件编号打开案件页。</p>"
    )
    return _page("查找案件", form, "search")


def build_pages_routers() -> list[APIRouter]:
    """The operator's page, the clerk's page (a browser without a session is sent to sign
    in) and their script and styles (public: code, no data)."""
    operators = APIRouter(include_in_schema=False, dependencies=[allow(Role.OPERATOR)])
    clerks = APIRouter(include_in_schema=False, dependencies=[allow(Role.WALK_IN_CLERK)])
    workers = APIRouter(include_in_schema=False, dependencies=[allow(*CASE_WORKERS)])
    assets = page_assets(
        "/static/{name}", {name: HERE / name for name in ("intake.js", "intake.css")}
    )
    operator_html = operator_page()
    walk_in_html = walk_in_page()
    search_html = search_page()

    @operators.get("/operator", response_class=HTMLResponse)
    async def operator(request: Request) -> Response:
        return page_with_csrf(request, operator_html)

    @clerks.get("/walk-in", response_class=HTMLResponse)
    async def walk_in(request: Request) -> Response:
        return page_with_csrf(request, walk_in_html)

    @workers.get("/search", response_class=HTMLResponse)
    async def search(request: Request) -> Response:
        return page_with_csrf(request, search_html)

    return [operators, clerks, workers, assets]
