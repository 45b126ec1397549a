"""What each event tells projection, as rows of facts (no I/O).

Every event becomes rows of the fact tables (``FACT_COLUMNS``: the migration's columns, in
order) and timeline entries in Chinese, plus the cases whose read-model rows must be
re-derived. The live consumer writes them one event at a time; the rebuild writes millions
of them with COPY. Both then derive the case rows and figures with the same SQL, which is
why a rebuild gives exactly the figures the live consumer built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from projection import labels
from weiquan_shared.employers import employer_identity
from weiquan_shared.envelope import Envelope, EventEnvelope, EventPayload
from weiquan_shared.events import (
    CaseAssigned,
    CaseConsentRecorded,
    CaseContactRecorded,
    CaseDeadlinesUpdated,
    CaseEmployerContactRecorded,
    CaseGrouped,
    CaseNoteAdded,
    CaseReported,
    CaseRetriaged,
    CaseRetriagedV1,
    CaseTriaged,
    CaseVoided,
    ConsultationRecorded,
    DecisionSnapshot,
    EmployerFlagged,
    NotificationFailed,
    NotificationSent,
    StatutoryClock,
    SurveyAnswered,
)
from weiquan_shared.events.triage import CaseReviewResolved, RouteDetail
from weiquan_shared.redaction import redact_text

Row = tuple[Any, ...]

FACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "case_timeline": ("event_id", "case_id", "event_type", "occurred_at", "text"),
    "fact_report": (
        "event_id",
        "case_id",
        "occurred_at",
        "case_number",
        "channel",
        "district_code",
        "employer_name",
        "employer_credit_code",
        "industry",
        "worker_count",
        "platform_worker_count",
        "migrant_worker_count",
        "claim_amount",
        "reported_at",
    ),
    "fact_decision": (
        "event_id",
        "case_id",
        "case_number",
        "decided_at",
        "by_officer",
        "category",
        "secondary_categories",
        "urgency",
        "route",
        "route_detail",
        "employer_flagged",
        "decision_seq",
        "reasons",
    ),
    "fact_clocks": ("event_id", "case_id", "as_of", "clocks"),
    "fact_group_member": ("event_id", "case_id", "group_id", "linked_at"),
    "fact_group": (
        "event_id",
        "group_id",
        "group_number",
        "employer_name",
        "district_code",
        "category",
        "worker_count",
        "case_count",
        "formed_at",
    ),
    "fact_employer_flag": (
        "event_id",
        "employer_id",
        "employer_name",
        "employer_credit_code",
        "district_code",
        "industry",
        "case_count",
        "window_days",
        "case_ids",
        "reason",
        "flagged_at",
        "flagged_day",
        "employer_key",
    ),
    "fact_flagged_case": ("event_id", "case_id"),
    "fact_assignment": (
        "event_id",
        "case_id",
        "assignee_id",
        "assignee_name",
        "previous_assignee_id",
        "reason",
        "assigned_at",
    ),
    "fact_consent": (
        "event_id",
        "case_id",
        "scopes",
        "wording_version",
        "obtained_by",
        "recorded_at",
    ),
    "fact_void": ("event_id", "case_id", "reason", "duplicate_of", "voided_at"),
    "fact_contact": (
        "event_id",
        "case_id",
        "contact_id",
        "method",
        "outcome",
        "next_action_on",
        "author_name",
        "contacted_at",
    ),
    "fact_survey": (
        "event_id",
        "survey_id",
        "case_id",
        "case_number",
        "district_code",
        "score",
        "answered_at",
        "day",
        "about",
    ),
    "fact_consultation": (
        "event_id",
        "consultation_id",
        "channel",
        "district_code",
        "topic",
        "occurred_at",
        "day",
    ),
}


@dataclass
class Facts:
    """The rows one event (or a batch of events) adds, and the cases to re-derive."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    cases: set[uuid.UUID] = field(default_factory=set)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)

    def extend(self, other: Facts) -> None:
        for table, rows in other.rows.items():
            self.rows.setdefault(table, []).extend(rows)
        self.cases |= other.cases

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


# Union figures count by the local day; China has had no daylight saving since 1991.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def _decision_text(category: str, urgency: str, route: str, detail: RouteDetail | None) -> str:
    where = labels.ROUTE_DETAILS[detail] if detail else labels.ROUTES[route]
    return f"{labels.CATEGORIES[category]}，{labels.URGENCIES[urgency]}，{where}"


def _snapshot_text(snapshot: DecisionSnapshot) -> str:
    return _decision_text(
        snapshot.category, snapshot.urgency, snapshot.route, snapshot.route_detail
    )


def _clocks_json(clocks: list[StatutoryClock]) -> list[dict[str, Any]]:
    return [clock.model_dump(mode="json") for clock in clocks]


# Triage's review code for a limitation period that had run out when the case was decided.
LIMITATION_EXPIRED = "limitation_expired"


def chinese_date(day: date) -> str:
    """A day as the timeline writes it (2027年01月15日)."""
    # Not strftime: a date formatted with a non-ASCII pattern was 7% of a rebuild's Python time.
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def _clock_text(clock: StatutoryClock) -> str:
    day = clock.due_on
    if day is None:
        return f"{labels.CLOCKS[clock.kind]}不计算届满日"
    on = chinese_date(day)
    if LIMITATION_EXPIRED in clock.review:
        return f"{labels.CLOCKS[clock.kind]}已于{on}届满（待核实有无中断、中止情形）"
    return f"{labels.CLOCKS[clock.kind]}届满日 {on}"


def _reported(envelope: Envelope, case: CaseReported) -> Facts:
    facts = Facts(cases={case.case_id})
    facts.add(
        "fact_report",
        (
            envelope.event_id,
            case.case_id,
            envelope.occurred_at,
            case.case_number,
            case.channel,
            case.district_code,
            case.employer.name,
            case.employer.credit_code,
            case.employer.industry,
            len(case.workers),
            sum(w.is_platform_worker for w in case.workers),
            sum(w.is_migrant_worker for w in case.workers),
            case.claim_amount,
            case.reported_at,
        ),
    )
    claim = f"，诉求金额{case.claim_amount:,.2f}元" if case.claim_amount is not None else ""
    facts.add(
        "case_timeline",
        (
            envelope.event_id,
            case.case_id,
            envelope.event_type,
            case.reported_at,
            f"经{labels.CHANNELS[case.channel]}受理，{len(case.workers)}名职工投诉"
            f"{case.employer.name}{claim}，案件编号 {case.case_number}",
        ),
    )
    return facts


def _triaged(envelope: Envelope, triaged: CaseTriaged) -> Facts:
    facts = Facts(cases={triaged.case_id})
    facts.add(
        "fact_decision",
        (
            envelope.event_id,
            triaged.case_id,
            triaged.case_number,
            triaged.triaged_at,
            False,
            triaged.category,
            list(triaged.secondary_categories),
            triaged.urgency,
            triaged.route,
            triaged.route_detail,
            triaged.employer_flagged,
            1,  # case.triaged is a case's first decision
            [r.text for r in triaged.reasons],
        ),
    )
    facts.add(
        "fact_clocks",
        (envelope.event_id, triaged.case_id, triaged.triaged_at, _clocks_json(triaged.clocks)),
    )
    if triaged.group_id is not None:
        facts.add(
            "fact_group_member",
            (envelope.event_id, triaged.case_id, triaged.group_id, triaged.triaged_at),
        )
    decision = _decision_text(
        triaged.category, triaged.urgency, triaged.route, triaged.route_detail
    )
    text = f"分流：{decision}（{'；'.join(r.text for r in triaged.reasons)}）"
    if triaged.clocks:
        text += "；" + "，".join(_clock_text(c) for c in triaged.clocks)
    facts.add(
        "case_timeline",
        (envelope.event_id, triaged.case_id, envelope.event_type, triaged.triaged_at, text),
    )
    return facts


def _retriaged(envelope: Envelope, retriaged: CaseRetriaged | CaseRetriagedV1) -> Facts:
    facts = Facts(cases={retriaged.case_id})
    facts.add(
        "fact_decision",
        (
            envelope.event_id,
            retriaged.case_id,
            retriaged.case_number,
            retriaged.retriaged_at,
            retriaged.retriaged_by == "officer",
            retriaged.category,
            list(retriaged.secondary_categories),
            retriaged.urgency,
            retriaged.route,
            retriaged.route_detail,
            False,
            retriaged.decision_seq if isinstance(retriaged, CaseRetriaged) else None,
            [redact_text(r.text) for r in retriaged.reasons],
        ),
    )
    if retriaged.group_id is not None:
        facts.add(
            "fact_group_member",
            (envelope.event_id, retriaged.case_id, retriaged.group_id, retriaged.retriaged_at),
        )
    who = (
        labels.DECISION_KINDS["override"] if retriaged.retriaged_by == "officer" else "系统重新分流"
    )
    # Events published before intake and triage redacted reasons may still carry names.
    note = redact_text(retriaged.note)
    now = _decision_text(
        retriaged.category, retriaged.urgency, retriaged.route, retriaged.route_detail
    )
    facts.add(
        "case_timeline",
        (
            envelope.event_id,
            retriaged.case_id,
            envelope.event_type,
            retriaged.retriaged_at,
            f"{who}：由「{_snapshot_text(retriaged.previous)}」改为「{now}」（{note}）",
        ),
    )
    return facts


def _grouped(envelope: Envelope, group: CaseGrouped) -> Facts:
    facts = Facts(cases=set(group.case_ids))
    facts.add(
        "fact_group",
        (
            envelope.event_id,
            group.group_id,
            group.group_number,
            group.employer.name,
            group.employer.district_code,
            group.category,
            group.worker_count,
            len(group.case_ids),
            group.formed_at,
        ),
    )
    text = (
        f"并入群体性劳动争议 {group.group_number}（{group.employer.name}，"
        f"{labels.CATEGORIES[group.category]}，现共{len(group.case_ids)}件案件、"
        f"{group.worker_count}名职工）：{group.reason.text}"
    )
    for case_id in dict.fromkeys(group.case_ids):
        member = (envelope.event_id, case_id, group.group_id, group.formed_at)
        facts.add("fact_group_member", member)
        facts.add(
            "case_timeline",
            (envelope.event_id, case_id, envelope.event_type, group.formed_at, text),
        )
    return facts


def _flagged(envelope: Envelope, flag: EmployerFlagged) -> Facts:
    case_ids = list(dict.fromkeys(flag.case_ids))
    facts = Facts(cases=set(case_ids))
    facts.add(
        "fact_employer_flag",
        (
            envelope.event_id,
            flag.employer_id,
            flag.employer.name,
            flag.employer.credit_code,
            flag.employer.district_code,
            flag.employer.industry,
            flag.case_count,
            flag.window_days,
            case_ids,
            flag.reason.text,
            flag.flagged_at,
            china_day(flag.flagged_at),
            employer_identity(flag.employer),
        ),
    )
    text = (
        f"用人单位{flag.employer.name}在{flag.window_days}日内被投诉{flag.case_count}次，"
        f"列为重复投诉单位：{flag.reason.text}"
    )
    for case_id in case_ids:
        facts.add("fact_flagged_case", (envelope.event_id, case_id))
        facts.add(
            "case_timeline",
            (envelope.event_id, case_id, envelope.event_type, flag.flagged_at, text),
        )
    return facts


def _deadlines(envelope: Envelope, update: CaseDeadlinesUpdated) -> Facts:
    facts = Facts(cases={update.case_id})
    facts.add(
        "fact_clocks",
        (envelope.event_id, update.case_id, envelope.occurred_at, _clocks_json(update.clocks)),
    )
    parts = []
    for clock in update.clocks:
        if clock.kind in update.moved:
            parts.append(f"{_clock_text(clock)}（已调整）")
        if clock.kind in update.at_risk:
            parts.append(f"{_clock_text(clock)}，即将届满")
    text = "法定时限更新：" + ("；".join(parts) or "重新核算，无变化")
    facts.add(
        "case_timeline",
        (envelope.event_id, update.case_id, envelope.event_type, envelope.occurred_at, text),
    )
    return facts


def _consultation(envelope: Envelope, consultation: ConsultationRecorded) -> Facts:
    facts = Facts()
    facts.add(
        "fact_consultation",
        (
            envelope.event_id,
            consultation.consultation_id,
            consultation.channel,
            consultation.district_code,
            consultation.topic,
            consultation.occurred_at,
            china_day(consultation.occurred_at),
        ),
    )
    return facts


def _timeline(envelope: Envelope, case_id: uuid.UUID, at: datetime, text: str) -> Facts:
    facts = Facts(cases={case_id})
    facts.add("case_timeline", (envelope.event_id, case_id, envelope.event_type, at, text))
    return facts


def _note(envelope: Envelope, note: CaseNoteAdded) -> Facts:
    # The note's words stay in intake: the timeline says who wrote one, and when. A note
    # changes no case row, so none is re-derived.
    facts = _timeline(envelope, note.case_id, note.written_at, f"{note.author_name} 添加了备注")
    facts.cases.clear()
    return facts


def contact_text(contact: CaseContactRecorded) -> str:
    """``某某 回访：未接通，下次 2026-12-05``."""
    text = (
        f"{contact.author_name} {labels.CONTACT_METHODS[contact.method]}："
        f"{labels.CONTACT_OUTCOMES[contact.outcome]}"
    )
    if contact.next_action_on is not None:
        text += f"，下次 {contact.next_action_on.isoformat()}"
    return text


def _contact(envelope: Envelope, contact: CaseContactRecorded) -> Facts:
    facts = _timeline(envelope, contact.case_id, contact.contacted_at, contact_text(contact))
    facts.add(
        "fact_contact",
        (
            envelope.event_id,
            contact.case_id,
            contact.contact_id,
            contact.method,
            contact.outcome,
            contact.next_action_on,
            contact.author_name,
            contact.contacted_at,
        ),
    )
    return facts


def assignment_text(assigned: CaseAssigned) -> str:
    # The reason is typed by a person: names that slipped into it are redacted.
    why = f"（原因：{redact_text(assigned.reason)}）" if assigned.reason else ""
    if assigned.assignee_id is None:
        return f"案件退回区县待分配{why}"
    name = assigned.assignee_name or assigned.assignee_id
    if assigned.previous_assignee_id is None:
        return f"承办人：{name}{why}"
    return f"承办人改为 {name}{why}"


def _assigned(envelope: Envelope, assigned: CaseAssigned) -> Facts:
    facts = _timeline(envelope, assigned.case_id, assigned.assigned_at, assignment_text(assigned))
    facts.add(
        "fact_assignment",
        (
            envelope.event_id,
            assigned.case_id,
            assigned.assignee_id,
            assigned.assignee_name,
            assigned.previous_assignee_id,
            redact_text(assigned.reason) if assigned.reason else None,
            assigned.assigned_at,
        ),
    )
    return facts


def consent_text(consent: CaseConsentRecorded) -> str:
    how = labels.CONSENT_OBTAINED_BY[consent.obtained_by]
    if not consent.scopes:
        return f"职工撤回了共享同意（{how}记录）"
    to = "、".join(labels.CONSENT_SCOPES[scope] for scope in consent.scopes)
    return f"职工同意向{to}提供案件信息（{how}记录，告知文本 {consent.wording_version}）"


def _consent(envelope: Envelope, consent: CaseConsentRecorded) -> Facts:
    facts = _timeline(envelope, consent.case_id, consent.recorded_at, consent_text(consent))
    facts.add(
        "fact_consent",
        (
            envelope.event_id,
            consent.case_id,
            list(dict.fromkeys(consent.scopes)),
            consent.wording_version,
            consent.obtained_by,
            consent.recorded_at,
        ),
    )
    return facts


EMPLOYER_CONTACT_CHANNELS = {"mobile": "手机号", "email": "电子邮箱"}


def employer_contact_text(recorded: CaseEmployerContactRecorded) -> str:
    """The contact's values stay in intake: the line says where it was recorded and by
    which channels the employer can now be reached."""
    how = labels.CONSENT_OBTAINED_BY[recorded.recorded_by]
    by = "、".join(EMPLOYER_CONTACT_CHANNELS[c] for c in recorded.channels)
    return f"记录了用人单位联系人（{how}记录，可通过{by}联系）"


def _employer_contact(envelope: Envelope, recorded: CaseEmployerContactRecorded) -> Facts:
    # Changes no case row: a timeline line only.
    facts = _timeline(
        envelope, recorded.case_id, recorded.recorded_at, employer_contact_text(recorded)
    )
    facts.cases.clear()
    return facts


def void_text(voided: CaseVoided) -> str:
    text = f"案件已作废：{labels.VOID_REASONS[voided.reason]}"
    if voided.duplicate_of:
        text += f"（与案件 {voided.duplicate_of} 重复）"
    return text + "，不再计入统计"


def _voided(envelope: Envelope, voided: CaseVoided) -> Facts:
    facts = _timeline(envelope, voided.case_id, voided.voided_at, void_text(voided))
    facts.add(
        "fact_void",
        (
            envelope.event_id,
            voided.case_id,
            voided.reason,
            voided.duplicate_of,
            voided.voided_at,
        ),
    )
    return facts


def review_text(resolved: CaseReviewResolved) -> str:
    text = f"人工核实：{labels.REVIEW_RESOLUTIONS[resolved.resolution]}"
    if resolved.knew_of_infringement_on is not None:
        day = resolved.knew_of_infringement_on
        text += f"（知道权利受侵害之日 {chinese_date(day)}）"
    if resolved.note:
        text += f"：{redact_text(resolved.note)}"
    if resolved.clocks:
        text += "；" + "，".join(_clock_text(c) for c in resolved.clocks)
    return text


def _review_resolved(envelope: Envelope, resolved: CaseReviewResolved) -> Facts:
    facts = _timeline(envelope, resolved.case_id, resolved.resolved_at, review_text(resolved))
    facts.add(
        "fact_clocks",
        (envelope.event_id, resolved.case_id, resolved.resolved_at, _clocks_json(resolved.clocks)),
    )
    return facts


def _survey(envelope: Envelope, answer: SurveyAnswered) -> Facts:
    """A worker's satisfaction answer: a figure only (no timeline line: the score is the
    worker's view of the people who work the case, not a step of it). An answer about legal
    aid is kept with its ``about`` but counted in legal aid's figure (legal aid records it
    as the application's satisfaction), not in the survey figure (mediation's)."""
    facts = Facts()
    facts.add(
        "fact_survey",
        (
            envelope.event_id,
            answer.survey_id,
            answer.case_id,
            answer.case_number,
            answer.district_code,
            answer.score,
            answer.answered_at,
            china_day(answer.answered_at),
            answer.about,
        ),
    )
    return facts


def notification_text(message: NotificationSent | NotificationFailed) -> str:
    """The timeline's line for a message to a person: what, on which channel, to whom (by
    kind: the address stays in notification's delivery log, masked)."""
    name = message.template_id.partition("/")[2]
    what = labels.NOTIFICATION_TEMPLATES.get(name, name)
    channel = labels.NOTIFICATION_CHANNELS.get(message.channel, message.channel)
    who = labels.RECIPIENT_KINDS.get(message.recipient_kind, message.recipient_kind)
    if isinstance(message, NotificationSent):
        return f"已向{who}发送{channel}：{what}"
    return f"{channel}未能送达{who}：{what}（已重试{message.attempts}次，见通知记录）"


def _notification(envelope: Envelope, message: NotificationSent | NotificationFailed) -> Facts:
    """A line on the case's timeline (no figure changes: the case is not re-derived)."""
    facts = Facts()
    if message.case_id is not None:
        at = message.sent_at if isinstance(message, NotificationSent) else message.failed_at
        text = notification_text(message)
        facts.add(
            "case_timeline", (envelope.event_id, message.case_id, envelope.event_type, at, text)
        )
    return facts


FACTS_OF: dict[type[EventPayload], Callable[[Envelope, Any], Facts]] = {
    CaseReported: _reported,
    CaseTriaged: _triaged,
    CaseRetriaged: _retriaged,
    CaseRetriagedV1: _retriaged,
    CaseGrouped: _grouped,
    EmployerFlagged: _flagged,
    CaseDeadlinesUpdated: _deadlines,
    ConsultationRecorded: _consultation,
    CaseNoteAdded: _note,
    CaseContactRecorded: _contact,
    CaseAssigned: _assigned,
    CaseConsentRecorded: _consent,
    CaseEmployerContactRecorded: _employer_contact,
    CaseVoided: _voided,
    CaseReviewResolved: _review_resolved,
    SurveyAnswered: _survey,
    NotificationSent: _notification,
    NotificationFailed: _notification,
}


def facts_of(envelope: EventEnvelope[Any], payload: EventPayload) -> Facts:
    return FACTS_OF[type(payload)](envelope, payload)
