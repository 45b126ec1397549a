"""The case page (案件详情) and the work queues page (我的工作): HTML shells in Chinese.

Each page's script (``static/case.js``, ``static/queues.js``, files for the proxy's CSP)
fills them from projection's API and, for what intake holds (the parties, masked; notes and
contacts), from intake's API through the one address. The forms a role may not use are
left out of the page (intake and triage refuse them anyway).
"""

from __future__ import annotations

from html import escape

from weiquan_shared import labels
from weiquan_shared.auth import Role

# The wording of the separate consent to share (intake's current version) read to the
# worker; the page offers the one last recorded on the case when there is one.
SHARING_WORDING = "2026-01"
MAY_VOID = frozenset({Role.SUPERVISOR})
MAY_RESOLVE_REVIEW = frozenset({Role.TRIAGE_OFFICER, Role.SUPERVISOR})
# Those intake lets read a worker's personal data (a reveal, with a reason).
MAY_REVEAL = frozenset({Role.OPERATOR, Role.WALK_IN_CLERK, Role.TRIAGE_OFFICER})


def _document(title: str, body: str, scripts: list[str], base: str) -> str:
    tags = "".join(f'<script src="{base}{src}"></script>' for src in scripts)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · 维权案件管理系统</title>"
        f'<link rel="stylesheet" href="{base}casefile/case.css"></head>'
        f"<body>{body}{tags}</body></html>"
    )


def _options(table: dict[str, str], blank: str | None = None) -> str:
    first = f'<option value="">{escape(blank)}</option>' if blank is not None else ""
    return first + "".join(
        f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in table.items()
    )


def _form(form_id: str, legend: str, fields: str, button: str) -> str:
    """A form whose errors are shown beside it (``.form-error``, announced)."""
    return (
        f'<form id="{form_id}" novalidate><fieldset><legend>{escape(legend)}</legend>{fields}'
        f'<button type="submit">{escape(button)}</button>'
        f'<p class="form-error" role="alert" id="{form_id}-error"></p>'
        f'<p class="form-ok" role="status" id="{form_id}-ok"></p></fieldset></form>'
    )


def _field(form_id: str, name: str, label: str, control: str) -> str:
    """A labelled control, with the slot for its own error message."""
    ident = f"{form_id}-{name}"
    return (
        f'<div class="field"><label for="{ident}">{escape(label)}</label>'
        + control.replace("<ID>", ident).replace("<NAME>", name)
        + f'<span class="field-error" id="{ident}-error"></span></div>'
    )


def _section(heading: str, title: str, content: str) -> str:
    if not content:
        return ""
    return (
        f'<section aria-labelledby="{heading}"><h2 id="{heading}">{escape(title)}</h2>'
        f"{content}</section>"
    )


def case_page(case_number: str, role: Role) -> str:
    note = _form(
        "note-form",
        "添加备注",
        _field(
            "note-form",
            "text",
            "备注内容",
            '<textarea id="<ID>" name="<NAME>" rows="3" maxlength="2000" required '
            'aria-describedby="<ID>-error"></textarea>',
        ),
        "保存备注",
    )
    contact = _form(
        "contact-form",
        "记录联系职工",
        _field(
            "contact-form",
            "method",
            "联系方式",
            f'<select id="<ID>" name="<NAME>" required>{_options(labels.CONTACT_METHODS)}</select>',
        )
        + _field(
            "contact-form",
            "outcome",
            "结果",
            f'<select id="<ID>" name="<NAME>" required>{_options(labels.CONTACT_OUTCOMES)}'
            "</select>",
        )
        + _field(
            "contact-form",
            "remark",
            "情况说明",
            '<textarea id="<ID>" name="<NAME>" rows="2" maxlength="2000"></textarea>',
        )
        + _field(
            "contact-form",
            "next_action_on",
            "下次跟进日期",
            '<input type="date" id="<ID>" name="<NAME>">',
        ),
        "保存联系记录",
    )
    assign = _form(
        "assign-form",
        "承办人",
        _field(
            "assign-form",
            "assignee",
            "由谁承办",
            '<select id="<ID>" name="<NAME>"><option value="">我（本人）承办</option></select>',
        )
        + _field(
            "assign-form",
            "reason",
            "原因（改派时填写）",
            '<input id="<ID>" name="<NAME>" maxlength="200">',
        ),
        "确定承办人",
    )
    scopes = "".join(
        f'<label class="check"><input type="checkbox" name="scopes" value="{escape(code)}">'
        f"{escape(name)}</label>"
        for code, name in labels.CONSENT_SCOPES.items()
    )
    consent = _form(
        "consent-form",
        "记录职工的共享同意（个人信息保护法第二十三条，单独同意）",
        f'<div class="field" role="group" aria-label="同意提供给">{scopes}'
        '<span class="field-error" id="consent-form-scopes-error"></span></div>'
        + _field(
            "consent-form",
            "wording_version",
            "告知文本版本",
            f'<input id="<ID>" name="<NAME>" maxlength="20" required value="{SHARING_WORDING}">',
        ),
        "保存同意",
    )
    employer_contact = _form(
        "employer-contact-form",
        "记录或更正用人单位联系人（手机号、电子邮箱至少填一项；用于调解通知和提示函）",
        _field(
            "employer-contact-form",
            "name",
            "联系人姓名",
            '<input id="<ID>" name="<NAME>" maxlength="50" autocomplete="off">',
        )
        + _field(
            "employer-contact-form",
            "mobile",
            "联系人手机号",
            '<input type="tel" id="<ID>" name="<NAME>" maxlength="40" inputmode="numeric" '
            'autocomplete="off">',
        )
        + _field(
            "employer-contact-form",
            "email",
            "联系人电子邮箱",
            '<input type="email" id="<ID>" name="<NAME>" maxlength="254" autocomplete="off">',
        ),
        "保存联系人",
    )
    void = (
        _form(
            "void-form",
            "作废案件（误登记、测试来电、重复登记）",
            _field(
                "void-form",
                "reason",
                "作废原因",
                f'<select id="<ID>" name="<NAME>" required>'
                f"{_options(labels.VOID_REASONS, '请选择')}</select>",
            )
            + _field(
                "void-form",
                "duplicate_of",
                "重复的案件编号（重复登记时填写）",
                '<input id="<ID>" name="<NAME>" maxlength="40" placeholder="440305-2026-000123">',
            ),
            "作废",
        )
        if role in MAY_VOID
        else ""
    )
    review = (
        _form(
            "review-form",
            "完成人工核实（待核实事项）",
            _field(
                "review-form",
                "resolution",
                "核实结果",
                f'<select id="<ID>" name="<NAME>" required>'
                f"{_options(labels.REVIEW_RESOLUTIONS, '请选择')}</select>",
            )
            + _field(
                "review-form",
                "knew_of_infringement_on",
                "知道或应当知道权利受侵害之日",
                '<input type="date" id="<ID>" name="<NAME>">',
            )
            + _field(
                "review-form",
                "note",
                "核实情况（勿填写个人信息）",
                '<input id="<ID>" name="<NAME>" maxlength="200">',
            ),
            "保存核实结果",
        )
        if role in MAY_RESOLVE_REVIEW
        else ""
    )
    reveal = (
        '<div class="field"><label for="reveal-reason">显示个人信息的理由</label>'
        f'<select id="reveal-reason">{_options(labels.REVEAL_REASONS, "请选择理由")}</select>'
        "</div>"
        if role in MAY_REVEAL
        else ""
    )
    number = escape(case_number)
    body = f"""<main id="case" data-case="{number}" data-role="{escape(role.value)}"
 data-may-reveal="{"yes" if role in MAY_REVEAL else "no"}">
<h1>案件详情 <span id="case-number">{number}</span>
 <span id="state" class="badge" aria-label="办理状态"></span></h1>
<p id="load-error" class="form-error" role="alert"></p>
<p id="voided" class="voided" role="status" hidden></p>
<div class="columns"><div class="column">
<section aria-labelledby="h-summary"><h2 id="h-summary">基本情况</h2>
<dl id="summary"></dl></section>
<section aria-labelledby="h-urgency"><h2 id="h-urgency">紧急程度</h2>
<p id="urgency"></p><ul id="urgency-reasons"></ul></section>
<section aria-labelledby="h-clocks"><h2 id="h-clocks">法定时限</h2>
<table id="clocks"><thead><tr><th scope="col">时限</th><th scope="col">届满日</th>
<th scope="col">状态</th><th scope="col">剩余天数</th><th scope="col">待核实事项</th></tr></thead>
<tbody></tbody></table></section>
<section aria-labelledby="h-parties"><h2 id="h-parties">当事职工（已脱敏）</h2>{reveal}
<table id="parties"><thead><tr><th scope="col">序号</th><th scope="col">姓名</th>
<th scope="col">手机号</th><th scope="col">身份证号</th></tr></thead><tbody></tbody></table>
<p id="parties-error" class="form-error" role="alert"></p></section>
<section aria-labelledby="h-employer-contact">
<h2 id="h-employer-contact">用人单位联系人（已脱敏）</h2><dl id="employer-contact"></dl>
<p id="employer-contact-error" class="form-error" role="alert"></p>{employer_contact}</section>
<section aria-labelledby="h-people"><h2 id="h-people">承办人与共享同意</h2>
<dl><dt>承办人</dt><dd id="responsible"></dd><dt>共享同意</dt><dd id="consent"></dd></dl>
{assign}{consent}</section>
{_section("h-review", "待核实", review)}{_section("h-void", "作废", void)}
</div><div class="column">
<section aria-labelledby="h-notes"><h2 id="h-notes">备注与联系记录</h2>
<ol id="notes" class="entries"></ol>
<p id="notes-error" class="form-error" role="alert"></p>{note}{contact}</section>
<section aria-labelledby="h-deliveries"><h2 id="h-deliveries">通知记录</h2>
<ol id="deliveries" class="entries"></ol>
<p id="deliveries-error" class="form-error" role="alert"></p></section>
<section aria-labelledby="h-timeline"><h2 id="h-timeline">时间线</h2>
<ol id="timeline" class="entries"></ol></section>
</div></div></main>"""
    return _document(f"案件 {case_number}", body, ["casefile/case.js", "site/nav.js"], "../")


def queues_page() -> str:
    tabs = "".join(
        f'<button type="button" role="tab" id="tab-{code}" data-queue="{code}" '
        f'aria-controls="panel" aria-selected="false" tabindex="-1">{escape(name)}'
        f' <span class="count" id="count-{code}">–</span></button>'
        for code, name in labels.QUEUES.items()
    )
    body = f"""<main id="queues"><h1>我的工作</h1>
<div role="tablist" aria-label="工作队列" id="tabs">{tabs}</div>
<section id="panel" role="tabpanel" tabindex="0" aria-live="polite">
<p id="queue-error" class="form-error" role="alert"></p>
<table id="items"><thead></thead><tbody></tbody></table></section></main>"""
    return _document("我的工作", body, ["casefile/queues.js", "site/nav.js"], "")
