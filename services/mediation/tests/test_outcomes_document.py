"""The 调解协议书 renders to a PDF whose text carries every party, item and amount, and whose
first page is kept as a PNG in the tests' artifacts (tests/artifacts, like the browser
tests' screenshots)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from mediation.agreement_document import (
    AgreementFacts,
    Parties,
    PartyDetails,
    amount_in_words,
    render_html,
    render_pdf,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "tests" / "artifacts"
W1, W2 = "a" * 64, "b" * 64
PARTIES = Parties(
    [
        PartyDetails(W1, "张伟", "440305199001011234"),
        PartyDetails(W2, "欧阳秀英", "44030519850615002X"),
    ],
    "深圳市南山区示例建筑劳务有限公司",
    "91440300MA5XXXXX1X",
)
FACTS = AgreementFacts(
    mediation_number="TJ-440305-2025-000042",
    district_code="440305",
    route_detail="mediation.court_union_room",
    category="wage_arrears",
    received_on=date(2025, 8, 28),
    effective_on=date(2025, 9, 7),
    window_due_on=date(2025, 10, 9),
    mediator_name="李调解",
    invited_court="深圳市南山区人民法院",
    partial=False,
    representatives=False,
    items=[
        {"worker_ref": W1, "item": "wages", "amount": "12000.00", "label": None},
        {"worker_ref": W1, "item": "compensation", "amount": "8000.00", "label": None},
        {"worker_ref": W2, "item": "wages", "amount": "9500.50", "label": None},
        {"worker_ref": W2, "item": "other", "amount": "1200.00", "label": "工伤医疗费"},
    ],
    instalments=[
        {"number": 1, "due_on": "2025-10-15", "amount": "15350.25"},
        {"number": 2, "due_on": "2025-11-15", "amount": "15350.25"},
    ],
)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("30700.50", "叁万零柒佰元伍角整"),
        ("10010", "壹万零壹拾元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("12.05", "壹拾贰元零伍分"),
        ("100000001", "壹亿零壹元整"),
        ("0", "零元整"),
    ],
)
def test_amount_in_words(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_html_escapes_what_it_is_given() -> None:
    hostile = Parties([PartyDetails(W1, "<b>张</b>", None)], "A&B<script>", None)
    html = render_html(FACTS, hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;张&lt;/b&gt;" in html


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils (make install) missing")
def test_agreement_renders_to_pdf_with_every_item_and_amount(tmp_path: Path) -> None:
    pdf = render_pdf(render_html(FACTS, PARTIES))
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(ARTIFACTS / "mediation-agreement"),
        ],
        check=True,
    )
    png = ARTIFACTS / "mediation-agreement.png"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000

    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = "".join(text.split())
    for expected in [
        "调解协议书",
        "TJ-440305-2025-000042",
        "张伟",
        "440305199001011234",
        "欧阳秀英",
        "44030519850615002X",
        "深圳市南山区示例建筑劳务有限公司",
        "劳动报酬（工资）",
        "经济补偿",
        "其他：工伤医疗费",
        "12,000.00",
        "8,000.00",
        "9,500.50",
        "1,200.00",
        "30,700.50",
        "叁万零柒佰元伍角整",
        "第1期",
        "2025年10月15日前",
        "第2期",
        "2025年11月15日前",
        "15,350.25",
        "深圳市南山区人民法院",
        "2025年10月9日",
    ]:
        assert expected in flat, expected
