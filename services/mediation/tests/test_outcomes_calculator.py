"""The calculator API's calculation (mediation.outcomes_api.calculate) on DOMAIN.md's worked
examples E1, E4 and E6, and its Chinese refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi import HTTPException
from mediation.outcomes_api import EntitlementsIn, calculate, calculation_or_refusal

from weiquan_shared.entitlements import InvalidEntitlementInput, LocalWages

WAGES = LocalWages.load("440300")


def run(**body: Any) -> dict[str, Any]:
    return calculate(EntitlementsIn.model_validate(body), WAGES)


@pytest.mark.parametrize(
    ("calculation", "start", "end", "wage", "amount"),
    [
        ("compensation", "2021-03-01", "2024-09-30", "8000", "32000.00"),  # E1 standard
        ("damages", "2021-03-01", "2024-09-30", "8000", "64000.00"),
        ("compensation", "2008-01-01", "2023-03-15", "8000", "124000.00"),  # E1 long service
    ],
)
def test_compensation_and_damages(
    calculation: str, start: str, end: str, wage: str, amount: str
) -> None:
    result = run(calculation=calculation, start=start, end=end, average_monthly_wage=wage)
    assert result["amount"] == Decimal(amount)
    assert any("劳动合同法第四十七条" in s for s in result["sources"])
    assert result["explanation"]


def test_double_wages_e6() -> None:
    result = run(
        calculation="double_wages",
        start="2024-01-10",
        contract_signed_on="2024-06-20",
        monthly_wage="6000",
        as_of="2024-12-31",
    )
    assert (str(result["owed_from"]), str(result["owed_to"])) == ("2024-02-10", "2024-06-19")


def test_final_award_item_by_item() -> None:
    result = run(
        calculation="final_award",
        as_of="2025-04-01",
        claims=[
            {"kind": "labour_remuneration", "amount": "1000"},
            {"kind": "economic_compensation", "amount": "999999"},
        ],
    )
    assert result["final"] is False  # mixed: non-final (SPC I Art. 20)
    assert [i["final"] for i in result["items"]] == [True, False]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"calculation": "compensation", "start": "2021-03-01"}, "请填写离职日期"),
        (
            {
                "calculation": "compensation",
                "start": "2024-03-01",
                "end": "2021-09-30",
                "average_monthly_wage": "8000",
            },
            "离职日期不能早于",
        ),
        ({"calculation": "final_award", "claims": [{"amount": "1"}]}, "仲裁请求的格式不对"),
        ({"calculation": "final_award", "claims": []}, "至少填写一项"),
    ],
)
def test_refusals_say_what_to_fix(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEntitlementInput, match=message):
        run(**body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "calculation": "double_wages",
                "start": "9999-12-01",
                "monthly_wage": "1",
                "as_of": "9999-12-31",
            },
            "日期超出可计算的范围",
        ),
        ({"calculation": "damages", "start": "2021-03-01"}, "请填写离职日期"),
    ],
)
def test_the_api_answers_422_in_chinese_never_500(body: dict[str, Any], message: str) -> None:
    with pytest.raises(HTTPException) as refused:
        calculation_or_refusal(EntitlementsIn.model_validate(body), WAGES)
    assert refused.value.status_code == 422 and message in str(refused.value.detail)
