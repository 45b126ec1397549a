"""Who outside the union may see a case's personal data: the worker's separate consent.

PIPL Art. 23 asks for the worker's separate consent before personal data is given to
another organisation. Intake records it on the case (``case.consent_recorded``: scopes
``court``, ``labour_bureau``, ``law_firm``); every service that shows a case's personal
data (intake's notes, mediation's workers, claims and records) asks :func:`case_gate`.
People of the union (or without an organisation) are not "another organisation".
"""

from __future__ import annotations

from dataclasses import dataclass

from weiquan_shared.auth import Organisation, Principal
from weiquan_shared.labels import ORGANISATIONS

# Which consent scope lets an organisation's people see a case's personal data.
CONSENT_SCOPE: dict[str, str] = {
    Organisation.PEOPLES_COURT.value: "court",
    Organisation.LABOUR_BUREAU.value: "labour_bureau",
    Organisation.LAW_FIRM.value: "law_firm",
}


@dataclass(frozen=True)
class Gate:
    """Whether a person may see a case's personal data, and if not, why (Chinese)."""

    allowed: bool
    missing: str | None = None


def case_gate(principal: Principal, consent_scopes: list[str]) -> Gate:
    """May ``principal`` see the personal data of a case with these consent scopes?"""
    org = principal.organisation.value if principal.organisation else None
    if org is None or org == Organisation.UNION.value:
        return Gate(True)
    name = ORGANISATIONS.get(org, "本单位")
    scope = CONSENT_SCOPE.get(org)
    if scope is None:
        return Gate(
            False,
            "职工个人信息仅在职工单独同意后提供给人民法院、人社部门或律师事务所"
            f"（个人信息保护法第二十三条）；{name}不在可同意的范围内，本案件的职工信息、"
            "请求金额、调解笔录和案件记录不予显示，请由工会工作人员处理涉及个人信息的事项",
        )
    if scope in consent_scopes:
        return Gate(True)
    return Gate(
        False,
        f"尚未记录职工同意向{name}提供个人信息（个人信息保护法第二十三条要求单独同意）："
        "本案件的职工信息、请求金额、调解笔录和案件记录暂不显示。请工会工作人员联系职工，"
        f"在案件页记录“同意向{name}提供”后再查看",
    )
