"""Who sees which mediation, and which case's details (no I/O).

- A supervisor (the coordinator) sees every mediation of the districts in their scope.
- A mediator sees, within their districts, the mediations they lead, those with a session
  they take part in, and those their organisation takes part in.
- **Consent first** (PIPL Art. 23): the personal data of a case (its workers, the claim,
  session records) reaches a mediator of the people's court or of the labour bureau only
  once the worker's separate consent recorded on the case (``case.consent_recorded``)
  covers that organisation (scopes ``court`` and ``labour_bureau``). The procuratorate and
  the justice bureau have no consent scope, so their mediators never see it; union
  mediators and supervisors always do. A withheld case shows its number and category and
  says, in Chinese, what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from weiquan_shared.auth import Organisation, Principal, Role
from weiquan_shared.labels import ORGANISATIONS

# Which consent scope (case.consent_recorded) lets an organisation's mediators see a case.
CONSENT_SCOPE: dict[str, str] = {
    Organisation.PEOPLES_COURT.value: "court",
    Organisation.LABOUR_BUREAU.value: "labour_bureau",
}


@dataclass(frozen=True)
class Gate:
    """Whether a person may see a case's personal data, and if not, why (Chinese)."""

    allowed: bool
    missing: str | None = None


def may_see_mediation(
    principal: Principal,
    *,
    district_code: str,
    lead_mediator_id: str | None,
    organisations: list[str],
    session_mediators: set[str],
) -> bool:
    if not principal.covers(district_code):
        return False
    if principal.role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    if principal.role is not Role.MEDIATOR:
        return False
    if principal.subject == lead_mediator_id or principal.subject in session_mediators:
        return True
    org = principal.organisation.value if principal.organisation else None
    return org is not None and org in organisations


def case_gate(principal: Principal, consent_scopes: list[str]) -> Gate:
    """May ``principal`` see the personal data of a case with these consent scopes?"""
    org = principal.organisation.value if principal.organisation else None
    if principal.role is not Role.MEDIATOR or org == Organisation.UNION.value:
        return Gate(True)
    name = ORGANISATIONS.get(org or "", "本单位")
    scope = CONSENT_SCOPE.get(org or "")
    if scope is None:
        return Gate(
            False,
            f"职工个人信息仅在职工单独同意后提供给人民法院或人社部门（个人信息保护法第二十三条）；"
            f"{name}调解员不在可同意的范围内，本案件的职工信息、请求金额和调解笔录不予显示，"
            "请由工会调解员处理涉及个人信息的事项",
        )
    if scope in consent_scopes:
        return Gate(True)
    return Gate(
        False,
        f"尚未记录职工同意向{name}提供个人信息（个人信息保护法第二十三条要求单独同意）："
        "本案件的职工信息、请求金额和调解笔录暂不显示。请工会调解员联系职工，"
        f"在案件页记录“同意向{name}提供”后再查看",
    )
