"""Mediation's and legal aid's part of a case page (issue 16): the lines their events add to
the case's timeline, and whether they still handle the case, which moves its status
(调解中, 法律援助中, 已结案) and takes a concluded case out of 我的案件 and 待分配.

Both are keyed by case number (every mediation event names its cases' numbers, every
legal-aid event its case's), so neither waits for the case's own report to arrive. One
``case_handling`` row per case and mediation or application: ``open`` until that mediation
or application ends (``closed``), ``gone`` once the case left it (merged into its group's
mediation, retriaged away, voided), which counts as neither. A state only moves forward
(open, closed, gone), so events of different topics may arrive in any order; a line is
keyed by (event, case number), so a replay adds none twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from projection import labels
from projection.domain import CHINA, chinese_date
from weiquan_shared import labels as shared_labels
from weiquan_shared.events.legal_aid import (
    LegalAidApplied,
    LegalAidClosed,
    LegalAidDenied,
    LegalAidDocumentsRequested,
    LegalAidEvent,
    LegalAidGranted,
    LegalAidLawyerAssigned,
    LegalAidLawyerDeclined,
    LegalAidProvisionalStarted,
    LegalAidSatisfactionRecorded,
    LegalAidStepRecorded,
)
from weiquan_shared.events.mediation import (
    MediationAgreementReached,
    MediationAssigned,
    MediationCasesChanged,
    MediationClosed,
    MediationConfirmationDecided,
    MediationConfirmationRequested,
    MediationEvent,
    MediationExpired,
    MediationFailed,
    MediationInstalmentOverdue,
    MediationInstalmentPaid,
    MediationOpened,
    MediationPaymentOrderApplied,
    MediationSessionCancelled,
    MediationSessionHeld,
    MediationSessionMoved,
    MediationSessionScheduled,
    MediationWithdrawn,
)

OPEN, CLOSED, GONE = 0, 1, 2
# How a mediation ends without having been the case's mediation (it counts nowhere either).
LEFT_RESULTS = ("merged", "handed_on", "voided")


def _when(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def mediation_line(p: MediationEvent) -> tuple[str, list[str]] | None:
    """The timeline's words for a mediation event, and the cases they are about."""
    number, cases = p.mediation_number, list(p.case_numbers)
    text: str | None = None
    if isinstance(p, MediationOpened):
        room = labels.ROUTE_DETAILS.get(p.route_detail, p.route_detail)
        text = f"调解立案 {number}（{room}，涉及职工{len(p.workers)}人）"
    elif isinstance(p, MediationCasesChanged):
        cases = list(p.changed_case_numbers)
        if p.change == "joined":
            text = f"并入调解 {number}（涉及职工{len(p.workers)}人）"
        else:
            text = f"移出调解 {number}（{_LEFT_REASONS.get(p.reason, p.reason)}）"
    elif isinstance(p, MediationAssigned):
        how = shared_labels.ASSIGNMENT_SOURCES.get(p.assigned_by, p.assigned_by)
        parties = "、".join(shared_labels.ORGANISATIONS.get(o, o) for o in p.organisations)
        text = f"调解 {number} 由 {p.lead_mediator_name} 主持（{how}；参与：{parties}）"
    elif isinstance(p, MediationSessionScheduled):
        text = f"预约调解会议：{_when(p.place.starts_at)}，{p.place.room_name}"
    elif isinstance(p, MediationSessionMoved):
        why = shared_labels.SESSION_MOVE_REASONS.get(p.reason, p.reason)
        text = f"调解会议改至 {_when(p.place.starts_at)}，{p.place.room_name}（{why}）"
    elif isinstance(p, MediationSessionCancelled):
        text = f"取消 {_when(p.place.starts_at)} 的调解会议"
    elif isinstance(p, MediationSessionHeld):
        outcome = shared_labels.SESSION_STATUSES.get(p.outcome, p.outcome)
        text = f"{_when(p.place.starts_at)} 调解会议：{outcome}"
    elif isinstance(p, MediationAgreementReached):
        kind = "部分达成调解协议" if p.partial else "达成调解协议"
        text = f"{kind}，合计{_yuan(p.total_amount)}，分{len(p.instalments)}期支付"
    elif isinstance(p, MediationFailed):
        text = f"调解不成：{shared_labels.FAILURE_REASONS.get(p.reason, p.reason)}"
    elif isinstance(p, MediationWithdrawn):
        who = shared_labels.WITHDRAWN_BY.get(p.withdrawn_by, p.withdrawn_by)
        why = shared_labels.WITHDRAWAL_REASONS.get(p.reason, p.reason)
        text = f"{who}撤回调解申请：{why}"
    elif isinstance(p, MediationExpired):
        clock = shared_labels.MEDIATION_CLOCKS.get(p.clock.kind, p.clock.kind)
        text = f"调解期限届满未达成协议（{clock}）"
    elif isinstance(p, MediationConfirmationRequested):
        text = f"向{p.court_name}申请司法确认（{chinese_date(p.applied_on)}）"
    elif isinstance(p, MediationConfirmationDecided):
        text = f"司法确认：{shared_labels.CONFIRMATION_RULINGS.get(p.ruling, p.ruling)}"
    elif isinstance(p, MediationPaymentOrderApplied):
        text = f"向{p.court_name}申请支付令，{_yuan(p.amount)}"
    elif isinstance(p, MediationInstalmentPaid):
        text = f"第{p.number}期已支付{_yuan(p.amount_paid)}（{chinese_date(p.paid_on)}）"
    elif isinstance(p, MediationInstalmentOverdue):
        text = f"第{p.number}期逾期未付（应于{chinese_date(p.due_on)}前支付{_yuan(p.amount_due)}）"
    elif isinstance(p, MediationClosed) and p.result not in LEFT_RESULTS:
        result = shared_labels.MEDIATION_CLOSED_RESULTS.get(p.result, p.result)
        text = f"调解 {number} 结案：{result}"
    return (text, cases) if text else None


_LEFT_REASONS = {
    "group_formed": "并入群体争议调解",
    "group_grew": "并入群体争议调解",
    "merged": "并入群体争议调解",
    "voided": "案件作废",
    "retriaged": "改由其他途径处理",
}


def legal_aid_line(p: LegalAidEvent) -> str | None:
    """The timeline's words for a legal-aid event (about its one case)."""
    number = p.application_number
    if isinstance(p, LegalAidApplied):
        source = shared_labels.LEGAL_AID_SOURCES.get(p.source, p.source)
        matter = shared_labels.LEGAL_AID_MATTERS.get(p.matter, p.matter)
        return f"法律援助申请 {number}（{source}，{matter}）"
    if isinstance(p, LegalAidDocumentsRequested):
        return f"一次性告知补正材料{len(p.missing)}项，限{chinese_date(p.due_on)}前提交"
    if isinstance(p, LegalAidProvisionalStarted):
        return f"先行法律援助：距时效届满还剩{p.days_left}日"
    if isinstance(p, LegalAidGranted):
        return "决定给予法律援助"
    if isinstance(p, LegalAidDenied):
        reasons = "；".join(
            shared_labels.LEGAL_AID_DENIAL_REASONS.get(code, code) for code in p.reason_codes
        )
        return f"决定不予法律援助：{reasons}"
    if isinstance(p, LegalAidLawyerAssigned):
        return f"指派律师 {p.lawyer_code} 承办"
    if isinstance(p, LegalAidLawyerDeclined):
        why = shared_labels.LEGAL_AID_DECLINE_REASONS.get(p.reason, p.reason)
        return f"律师 {p.lawyer_code} 不承办（{why}），另行指派"
    if isinstance(p, LegalAidStepRecorded):
        step = shared_labels.LEGAL_AID_STEPS.get(p.step, p.step)
        awarded = "" if p.amount_awarded is None else f"，裁决金额{_yuan(p.amount_awarded)}"
        return f"{step}（{chinese_date(p.occurred_on)}{awarded}）"
    if isinstance(p, LegalAidClosed) and p.reason != "voided":
        closure = shared_labels.LEGAL_AID_CLOSURES.get(p.reason, p.reason)
        recovered = f"，追回{_yuan(p.amount_recovered)}" if p.amount_recovered else ""
        return f"法律援助 {number} 结案：{closure}{recovered}"
    return None


def _states(p: MediationEvent | LegalAidEvent) -> list[tuple[str, int]]:
    """(case number, state) for each case this event says where it stands."""
    if isinstance(p, LegalAidEvent):
        if p.case_number is None or isinstance(p, LegalAidSatisfactionRecorded):
            return []
        if isinstance(p, LegalAidClosed):
            return [(p.case_number, GONE if p.reason == "voided" else CLOSED)]
        return [(p.case_number, OPEN)]
    if isinstance(p, MediationClosed):
        state = GONE if p.result in LEFT_RESULTS else CLOSED
        return [(n, state) for n in p.case_numbers]
    states = [(n, OPEN) for n in p.case_numbers]
    if isinstance(p, MediationCasesChanged) and p.change == "left":
        states += [(n, GONE) for n in p.changed_case_numbers]
    return states


_LINE = """INSERT INTO case_handling_line (event_id, case_number, event_type, occurred_at, text)
SELECT $1, unnest($2::text[]), $3, $4, $5 ON CONFLICT DO NOTHING"""
_STATE = """INSERT INTO case_handling (case_number, handler_id, kind, state)
SELECT unnest($1::text[]), $2, $3, unnest($4::smallint[])
ON CONFLICT (case_number, handler_id)
DO UPDATE SET state = greatest(case_handling.state, excluded.state)"""


async def apply(
    conn: asyncpg.Connection, envelope: Any, payload: MediationEvent | LegalAidEvent
) -> None:
    """The lines and states of one mediation or legal-aid event."""
    if isinstance(payload, MediationEvent):
        kind, handler = "mediation", payload.mediation_id
        line = mediation_line(payload)
    else:
        kind, handler = "legal_aid", payload.application_id
        text = legal_aid_line(payload)
        line = (text, [payload.case_number]) if text and payload.case_number else None
    if line is not None:
        text, numbers = line
        await conn.execute(
            _LINE, envelope.event_id, numbers, envelope.event_type, envelope.occurred_at, text
        )
    states = _states(payload)
    if states:
        await conn.execute(_STATE, [n for n, _ in states], handler, kind, [s for _, s in states])


# A case's handling in one SQL expression over ``case_summary s`` (labels.case_status's
# ``handling``): legal aid still open, else mediation still open, else concluded by one.
HANDLING = """(SELECT CASE
        WHEN bool_or(h.kind = 'legal_aid' AND h.state = 0) THEN 'legal_aid'
        WHEN bool_or(h.kind = 'mediation' AND h.state = 0) THEN 'mediation'
        WHEN bool_or(h.state = 1) THEN 'closed' END
    FROM case_handling h WHERE h.case_number = s.case_number)"""
