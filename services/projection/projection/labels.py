"""Chinese labels for codes projection shows: the shared table, plus projection's own."""

from weiquan_shared.labels import (
    CASE_STATUSES,
    CATEGORIES,
    CHANNELS,
    CLOCK_REVIEWS,
    CLOCKS,
    CONSENT_OBTAINED_BY,
    CONSENT_SCOPES,
    CONTACT_METHODS,
    CONTACT_OUTCOMES,
    DEADLINE_STATES,
    DECISION_KINDS,
    DISTRICTS,
    NO_CONSENT,
    NOTIFICATION_CHANNELS,
    NOTIFICATION_TEMPLATES,
    QUEUES,
    RECIPIENT_KINDS,
    REVIEW_RESOLUTIONS,
    ROUTE_DETAILS,
    ROUTES,
    SURVEY_SCORES,
    URGENCIES,
    VOID_REASONS,
    case_status,
)
from weiquan_shared.labels import STATUSES as _ALL_STATUSES

__all__ = [
    "CASE_STATUSES",
    "CATEGORIES",
    "CHANNELS",
    "CLOCKS",
    "CLOCK_REVIEWS",
    "CONSENT_OBTAINED_BY",
    "CONSENT_SCOPES",
    "CONTACT_METHODS",
    "CONTACT_OUTCOMES",
    "DEADLINE_STATES",
    "DECISION_KINDS",
    "DISTRICTS",
    "INDUSTRY_UNKNOWN",
    "NOTIFICATION_CHANNELS",
    "NOTIFICATION_TEMPLATES",
    "NO_CONSENT",
    "QUEUES",
    "RECIPIENT_KINDS",
    "REVIEW_RESOLUTIONS",
    "ROUTES",
    "ROUTE_DETAILS",
    "STATUSES",
    "SURVEY_SCORES",
    "UNTRIAGED",
    "URGENCIES",
    "VOID_REASONS",
    "case_status",
]

# ``case_status`` (the one function, in weiquan_shared.labels) says a case's status in plain
# Chinese across services (CASE_STATUSES): 已受理, 已分流, 调解中, 法律援助中, 已结案, 已作废.
# ``STATUSES`` below are the figures' "by status" breakdown (where triage routed a case).

# The statuses projection derives for a case (a case with no decision yet is awaiting triage).
STATUSES = {
    code: _ALL_STATUSES[code]
    for code in ("awaiting_triage", "consultation", "mediation", "legal_aid", "referral")
}
INDUSTRY_UNKNOWN = "未填写行业"
UNTRIAGED = "待分流"
