"""The half-year / year-end report: figures, a work-report paragraph, and the cases behind them.

The workbook's first sheet lists every figure with the sheet that holds the cases (or
consultations, clocks, employers) it counts: each number can be checked row by row.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from projection.domain import CHINA
from projection.periods import Period
from projection.store import BREAKDOWNS, PENDING_FIGURES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A text cell starting with one of these is a formula to a spreadsheet (Excel, LibreOffice,
# or the same text saved as CSV): OWASP's CSV-injection advice is to prefix it with a quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value: Any) -> Any:
    """``value`` as a cell may hold it: text is always text, never a formula.

    openpyxl writes a ``str`` beginning with ``=`` as a live formula, and names, industries
    and reasons come from what workers and staff typed (a WeChat message can carry
    ``=HYPERLINK(...)``), so every text cell of the workbook passes through here.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _append(sheet: Worksheet, row: Iterable[Any]) -> None:
    sheet.append([cell_value(value) for value in row])


@dataclass
class ReportData:
    period: Period
    scope: str  # the districts it covers, as a title says them: 全市, 南山区
    today: date
    figures: dict[str, Any]
    cases: list[dict[str, Any]]
    consultations: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    employers: list[dict[str, Any]]
    satisfaction: dict[str, Any] = field(default_factory=lambda: dict(NO_ANSWERS))
    answers: list[dict[str, Any]] = field(default_factory=list)
    # The mediations of the period (projection.mediation.mediations), with their cases.
    mediations: list[dict[str, Any]] = field(default_factory=list)


def _channel(figures: dict[str, Any], key: str, code: str) -> int:
    return next((c["cases"] for c in figures[key] if c["code"] == code), 0)


# A scope and period without any answer (the report's data when none were read).
NO_ANSWERS: dict[str, Any] = {"answers": 0, "satisfied": 0, "rate": None, "by_district": []}


def percent(rate: float | None) -> str:
    """A rate as a report writes it: 87.5%; — when nothing was answered."""
    return "—" if rate is None else f"{rate * 100:.1f}".removesuffix(".0") + "%"


def summary_paragraph(data: ReportData) -> str:
    """The figures as a union work report says them (工作总结的写法)."""
    f, totals, extra = data.figures, data.figures["totals"], data.figures["figures"]
    parts = [f"{data.period.label}，{data.scope}共受理劳动争议案件{totals['cases']}件，"]
    parts.append(f"涉及职工{totals['workers']}人")
    said = [
        text.format(n)
        for code, text in (
            ("hotline", "协助办理“12351”维权热线案件{}件"),
            ("wechat", "通过微信公众号受理{}件"),
            ("walk_in", "职工服务中心来访受理{}件"),
        )
        if (n := _channel(f, "by_channel", code))
    ]
    if said:
        parts.append("，其中" + "，".join(said))
    parts.append("。")
    if extra["consultations"]:
        parts.append(f"接待来访来电咨询并当场解答{extra['consultations']}次。")
    if totals["group_disputes"]:
        parts.append(
            f"排查受理群体性劳动争议{totals['group_disputes']}起，"
            f"涉及职工{extra['group_dispute_workers']}人。"
        )
    if extra["platform_cases"]:
        parts.append(
            f"受理外卖骑手、网约车司机等新就业形态劳动者案件{extra['platform_cases']}件，"
            f"涉及职工{extra['platform_workers']}人。"
        )
    top = [c for c in f["by_category"] if c["code"] != "untriaged"][:3]
    if top:
        parts.append(
            "从争议类别看，以" + "、".join(f"{c['name']}（{c['cases']}件）" for c in top) + "为主。"
        )
    parts.append(f"截至{data.today:%Y年%m月%d日}，")
    if extra["deadlines_at_risk"]:
        parts.append(f"有{extra['deadlines_at_risk']}件案件的法定时限即将届满，需重点跟进；")
    else:
        parts.append("暂无法定时限即将届满的案件；")
    # Only what the events say: triage flagged the employer; whether the union then took
    # any supervision step is not recorded by any event (yet).
    if extra["repeat_employers"]:
        parts.append(f"{extra['repeat_employers']}家用人单位短期内被多次投诉，列为重复投诉单位。")
    else:
        parts.append("本期无短期内被多次投诉的用人单位。")
    m = f.get("mediation")
    if m and m["disputes_mediated"]:
        parts.append(
            f"参与调解劳动争议{m['disputes_mediated']}起，涉及职工{m['workers_covered']}人"
        )
        if m["success_rate"] is not None:
            parts.append(f"，已办结{m['concluded']}起，调解成功率{m['success_rate'] * 100:.1f}%")
        parts.append(f"，为职工挽回经济损失（已实际支付）{m['money_recovered']:,.2f}元。")
    said_rate = data.satisfaction
    if said_rate["answers"]:
        parts.append(
            f"调解结案后向职工发放满意度调查，收回评价{said_rate['answers']}份，"
            f"其中“满意”“很满意”{said_rate['satisfied']}份，满意率{percent(said_rate['rate'])}。"
        )
    else:
        parts.append("本期尚未收回调解的职工满意度评价。")
    la = f.get("legal_aid")
    if la and la["answered"]:
        parts.append(
            f"法律援助结案后收回职工评价{la['answered']}件，"
            f"其中“满意”“很满意”{la['satisfied']}件，满意率{percent(la['satisfaction_rate'])}"
            "（目标≥95%）。"
        )
    else:
        parts.append("本期尚未收回法律援助的职工满意度评价。")
    return "".join(parts)


CASE_HEADERS = [
    ("case_number", "案件编号"),
    ("report_day", "受理日期"),
    ("district_name", "区县"),
    ("channel_name", "受理渠道"),
    ("employer_name", "用人单位"),
    ("industry_name", "行业"),
    ("worker_count", "涉及职工（人）"),
    ("category_name", "争议类别"),
    ("urgency_name", "紧急程度"),
    ("status_name", "办理状态"),
    ("group_number", "群体性争议编号"),
    ("platform", "新就业形态"),
    ("repeat", "重复投诉单位"),
]


def _case_row(case: dict[str, Any]) -> list[Any]:
    shown = {
        **case,
        "platform": "是" if case["is_platform"] else "",
        "repeat": "是" if case["repeat_employer"] else "",
    }
    return [shown[key] for key, _ in CASE_HEADERS]


def _sheet(book: Workbook, title: str, headers: Iterable[str], rows: Iterable[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    _append(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 18


def workbook(data: ReportData) -> bytes:
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = "汇总"
    f, totals, extra = data.figures, data.figures["totals"], data.figures["figures"]
    _append(overview, [f"{data.scope}{data.period.label}劳动争议工作统计"])
    overview["A1"].font = Font(bold=True, size=14)
    generated = f"生成时间：{datetime.now(CHINA):%Y年%m月%d日 %H:%M}；数据来源：维权案件事件"
    _append(overview, [generated])
    _append(overview, [])
    _append(overview, ["指标", "数值", "单位", "明细（工作表）"])
    for cell in overview[4]:
        cell.font = Font(bold=True)
    rows: list[list[Any]] = [
        ["受理劳动争议案件", totals["cases"], "件", "受理案件"],
        ["涉及职工", totals["workers"], "人", "受理案件（涉及职工列合计）"],
    ]
    rows += [[f"  其中：{c['name']}", c["cases"], "件", "按受理渠道"] for c in f["by_channel"]]
    rows.append(["来访来电咨询（当场解答）", extra["consultations"], "次", "咨询"])
    rows += [
        [f"  其中：{c['name']}咨询", c["cases"], "次", "咨询"]
        for c in f["consultations_by_channel"]
    ]
    rows += [
        ["群体性劳动争议", totals["group_disputes"], "起", "群体性争议（按争议编号计）"],
        ["  涉及案件", extra["group_dispute_cases"], "件", "群体性争议"],
        ["  涉及职工", extra["group_dispute_workers"], "人", "群体性争议"],
        ["新就业形态劳动者案件", extra["platform_cases"], "件", "新就业形态"],
        ["  涉及职工", extra["platform_workers"], "人", "新就业形态"],
    ]
    for name in ("by_category", "by_district", "by_industry"):
        _, _, title = BREAKDOWNS[name]
        rows += [[f"{title}：{c['name']}", c["cases"], "件", title] for c in f[name]]
    rows += [
        [
            f"法定时限即将届满（截至{data.today:%Y-%m-%d}）",
            extra["deadlines_at_risk"],
            "件",
            "时限预警",
        ],
        ["重复投诉用人单位（按信用代码或名称计）", extra["repeat_employers"], "家", "重复投诉单位"],
    ]
    m = f["mediation"]
    rate = "—" if m["success_rate"] is None else f"{m['success_rate'] * 100:.1f}%"
    days = "—" if m["days_to_resolution"] is None else m["days_to_resolution"]
    rows += [
        [
            "参与调解劳动争议（按调解案件计，合并、作废和转其他途径的不计）",
            m["disputes_mediated"],
            "起",
            "调解案件",
        ],
        ["  涉及职工", m["workers_covered"], "人", "调解案件"],
        [
            f"  调解成功率（达成协议{m['succeeded']}起/已办结{m['concluded']}起）",
            rate,
            "",
            "调解案件",
        ],
        ["  协议金额", float(m["money_agreed"]), "元", "调解案件"],
        ["  为职工挽回经济损失（已实际支付）", float(m["money_recovered"]), "元", "调解案件"],
        ["  平均办结天数（受理至协议生效、调解不成或撤回）", days, "天", "调解案件"],
    ]
    rows += legal_aid_rows(f["legal_aid"])
    sat = data.satisfaction
    rows += [
        ["职工满意度评价（调解，收回份数）", sat["answers"], "份", "满意度评价"],
        ["  其中：满意、很满意（4–5分）", sat["satisfied"], "份", "满意度评价"],
        ["调解满意率（4–5分份数 ÷ 收回份数）", percent(sat["rate"]), "", "满意度评价"],
        [
            "法律援助满意率（4–5分件数 ÷ 已评价件数，目标≥95%）",
            percent(f["legal_aid"]["satisfaction_rate"]),
            f"{f['legal_aid']['satisfied']}/{f['legal_aid']['answered']}件",
            "满意度评价",
        ],
    ]
    rows += [
        [f"满意率：{d['name']}", percent(d["rate"]), f"{d['answers']}份", "满意度评价"]
        for d in sat["by_district"]
    ]
    rows += [[p["name"], "—", "", f"待接入：{p['waiting_for']}"] for p in PENDING_FIGURES]
    for row in rows:
        _append(overview, row)
    overview.column_dimensions["A"].width = 44
    overview.column_dimensions["D"].width = 36

    summary = book.create_sheet("工作总结")
    summary.column_dimensions["A"].width = 120
    _append(summary, [summary_paragraph(data)])
    summary["A1"].alignment = Alignment(wrap_text=True, vertical="top")

    headers = [title for _, title in CASE_HEADERS]
    _sheet(book, "受理案件", headers, (_case_row(c) for c in data.cases))
    for name, key, column in (
        ("by_channel", "channel_name", "受理渠道"),
        ("by_category", "category_name", "争议类别"),
        ("by_district", "district_name", "区县"),
        ("by_industry", "industry_name", "行业"),
    ):
        _, _, title = BREAKDOWNS[name]
        ordered = sorted(data.cases, key=lambda c, k=key: (c[k], c["case_number"]))  # type: ignore[misc]
        _sheet(
            book,
            title,
            [column, "案件编号", "涉及职工（人）"],
            ([c[key], c["case_number"], c["worker_count"]] for c in ordered),
        )
    _sheet(
        book,
        "咨询",
        ["咨询编号", "日期", "渠道", "区县", "咨询事项"],
        (
            [
                str(c["consultation_id"]),
                c["occurred_at"].astimezone(CHINA).date(),
                c["channel_name"],
                c["district_name"],
                c["topic_name"],
            ]
            for c in data.consultations
        ),
    )
    _sheet(
        book,
        "满意度评价",
        ["案件编号", "区县", "评价日期", "评分", "评价"],
        (
            [a["case_number"], a["district_name"], a["answered_day"], a["score"], a["score_name"]]
            for a in data.answers
        ),
    )
    grouped = sorted(
        (c for c in data.cases if c["group_id"] is not None),
        key=lambda c: (c["group_number"] or "", c["case_number"]),
    )
    _sheet(
        book,
        "群体性争议",
        ["群体性争议编号", "案件编号", "用人单位", "涉及职工（人）"],
        (
            [
                c["group_number"] or str(c["group_id"]),
                c["case_number"],
                c["employer_name"],
                c["worker_count"],
            ]
            for c in grouped
        ),
    )
    _sheet(
        book,
        "新就业形态",
        ["案件编号", "用人单位", "争议类别", "涉及职工（人）"],
        (
            [c["case_number"], c["employer_name"], c["category_name"], c["worker_count"]]
            for c in data.cases
            if c["is_platform"]
        ),
    )
    _sheet(
        book,
        "时限预警",
        ["案件编号", "区县", "用人单位", "时限", "届满日", "剩余天数", "说明"],
        (
            [
                d["case_number"],
                d["district_name"],
                d["employer_name"],
                d["kind_name"],
                d["due_on"],
                d["days_left"],
                d["note"],
            ]
            for d in data.deadlines
        ),
    )
    _sheet(
        book,
        "重复投诉单位",
        ["用人单位", "区县", "统计窗口（日）", "投诉次数", "最近列入日期", "涉及案件编号", "理由"],
        (
            [
                e["employer_name"],
                e["district_name"],
                e["window_days"],
                e["case_count"],
                e["flagged_at"].astimezone(CHINA).date(),
                "、".join(e["case_numbers"]),
                e["reason"],
            ]
            for e in data.employers
        ),
    )
    _sheet(
        book,
        "调解案件",
        [
            "调解案件编号",
            "区县",
            "受理日期",
            "涉及职工（人）",
            "结果",
            "协议金额（元）",
            "已追回（元）",
            "办结日期",
            "案件编号",
        ],
        (
            [
                x["mediation_number"],
                x["district_name"],
                x["opened_on"],
                x["worker_count"],
                x["result_name"],
                float(x["amount_agreed"]),
                float(x["recovered"]),
                x["resolved_on"],
                "、".join(x["case_numbers"]),
            ]
            for x in data.mediations
        ),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def legal_aid_rows(la: dict[str, Any]) -> list[list[Any]]:
    """The year-end report's legal-aid lines (提供法律援助, 办结率, 满意率, 挽回经济损失)."""

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.1f}%"

    rows: list[list[Any]] = [
        ["法律援助申请", la["applications"], "件", "法律援助"],
        ["  提供法律援助（决定援助或先行援助）", la["aided"], "件", "法律援助"],
        ["    其中先行援助", la["provisional"], "件", "法律援助法第四十四条"],
        ["  不予援助", la["denied"], "件", "法律援助"],
        [
            "  办结率（办结/提供援助）",
            pct(la["completion_rate"]),
            "",
            f"{la['concluded']}/{la['aided']}",
        ],
        [
            "  满意率（4–5分/已评价）",
            pct(la["satisfaction_rate"]),
            "",
            f"{la['satisfied']}/{la['answered']}",
        ],
        ["  裁决、判决支持金额", float(la["money_awarded"]), "元", "按结案计"],
        ["  为职工挽回经济损失（实际追回）", float(la["money_recovered"]), "元", "按结案计"],
    ]
    rows += [
        [f"  决定援助依据：{r['rule_id']}", r["applications"], "件", "规则"]
        for r in la["granted_by_rule"]
    ]
    rows += [
        [f"  不予援助依据：{r['rule_id']}", r["applications"], "件", "规则"]
        for r in la["denied_by_rule"]
    ]
    return rows
