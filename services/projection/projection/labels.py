"""Chinese labels for codes shown to supervisors: the shared table, plus projection's own."""

from weiquan_shared.labels import (
    CATEGORIES,
    CHANNELS,
    CLOCKS,
    DEADLINE_STATES,
    DECISION_KINDS,
    DISTRICTS,
    ROUTE_DETAILS,
    ROUTES,
    URGENCIES,
)
from weiquan_shared.labels import STATUSES as _ALL_STATUSES

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "CLOCKS",
    "DEADLINE_STATES",
    "DECISION_KINDS",
    "DISTRICTS",
    "INDUSTRY_UNKNOWN",
    "ROUTES",
    "ROUTE_DETAILS",
    "STATUSES",
    "UNTRIAGED",
    "URGENCIES",
]

# The statuses projection derives for a case (a case with no decision yet is awaiting triage).
STATUSES = {
    code: _ALL_STATUSES[code]
    for code in ("awaiting_triage", "consultation", "mediation", "legal_aid", "referral")
}
INDUSTRY_UNKNOWN = "未填写行业"
UNTRIAGED = "待分流"
