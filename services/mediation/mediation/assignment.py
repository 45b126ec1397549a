"""Applying the assignment rules to a mediation, and announcing the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mediation.membership import CaseState, distinct_workers, total_claim
from mediation.rules import AssignmentBook, Dispute, MediatorLoad, choose_lead
from mediation.store import Mediation
from weiquan_shared.envelope import Envelope
from weiquan_shared.events import MediationAssigned
from weiquan_shared.uow import Emit


def header(m: Mediation, cases: list[CaseState]) -> dict[str, Any]:
    """The fields every mediation event carries."""
    ordered = sorted(cases, key=lambda c: c.case_number or "")
    return {
        "mediation_id": m.mediation_id,
        "mediation_number": m.mediation_number,
        "district_code": m.district_code,
        "case_ids": [c.case_id for c in ordered],
        "case_numbers": [c.case_number or "" for c in ordered],
    }


def dispute_of(m: Mediation, cases: list[CaseState]) -> Dispute:
    return Dispute(
        category=m.category,
        district_code=m.district_code,
        route_detail=m.route_detail,
        worker_count=len(distinct_workers(cases)),
        claim_amount=total_claim(cases),
        sensitive=m.sensitive,
    )


def assign_by_rules(
    m: Mediation,
    cases: list[CaseState],
    book: AssignmentBook,
    roster: list[MediatorLoad],
    emit: Emit,
    caused_by: Envelope | None = None,
) -> bool:
    """Apply the rules unless a coordinator decided; True when the assignment changed.

    The lead mediator is kept while the lead organisation stays the same; a new one is
    chosen from the roster when there is none or the lead organisation changed.
    """
    if m.assigned_by == "coordinator" or m.closed_at is not None or not cases:
        return False
    chosen = book.choose(dispute_of(m, cases))
    org_changed = m.lead_organisation != chosen.lead_organisation
    lead = None
    if m.lead_mediator_id is None or org_changed:
        pick = choose_lead(chosen, m.district_code, roster)
        if pick is not None:
            lead = pick
    same = (
        m.organisations == list(chosen.organisations)
        and m.lead_organisation == chosen.lead_organisation
        and lead is None
    )
    if same and m.lead_mediator_id is not None:
        return False
    previous_lead = m.lead_mediator_id
    m.organisations = list(chosen.organisations)
    m.lead_organisation = chosen.lead_organisation
    m.five_party = chosen.five_party
    m.assignment_rules = [chosen.rule_id]
    m.assigned_by = "rules"
    if lead is not None:
        m.lead_mediator_id, m.lead_mediator_name = lead.subject, lead.name
        # The chosen mediator now leads one more: the next choice of this batch sees it.
        roster[roster.index(lead)] = MediatorLoad(
            lead.subject, lead.name, lead.organisation, lead.districts, lead.open_mediations + 1
        )
    elif org_changed:
        m.lead_mediator_id = m.lead_mediator_name = None
    if m.lead_mediator_id is None:
        return True  # recorded; announced once a mediator leads it
    emit(
        MediationAssigned(
            **header(m, cases),
            lead_mediator_id=m.lead_mediator_id,
            lead_mediator_name=m.lead_mediator_name or m.lead_mediator_id,
            lead_organisation=chosen.lead_organisation,
            organisations=list(chosen.organisations),
            five_party=chosen.five_party,
            rule_ids=[chosen.rule_id],
            assigned_by="rules",
            previous_lead_mediator_id=previous_lead,
            assigned_at=datetime.now(UTC),
        ),
        subject=str(m.mediation_id),
        caused_by=caused_by,
    )
    return True
