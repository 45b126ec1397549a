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
  says, in Chinese, what is missing. The gate itself is ``weiquan_shared.consent`` (intake's
  case notes ask it too).
"""

from __future__ import annotations

from weiquan_shared.auth import Principal, Role


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
