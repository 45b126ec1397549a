"""Rules from events to messages, kept as data (``rules.json``), and the templates.

A rule says: on this event type, tell this kind of recipient, on this channel, with this
template, when these conditions hold. Template variables come from the event's fields as
``rules.json``'s ``variables`` declares them (a label table of ``weiquan_shared.labels``
turns a code into Chinese); a test checks every template's variables against that table
and every field against the event's contract. Templates are one file each under
``templates/<channel>/<name>.txt``, in Simplified Chinese.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from weiquan_shared import labels
from weiquan_shared.events.triage import ClockKind

HERE = Path(__file__).parent
RULES_FILE = HERE / "rules.json"
TEMPLATES = HERE / "templates"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Channel = Literal["sms", "wechat", "email"]
RecipientKind = Literal["worker", "employer", "mediator", "lawyer"]
# What a rule's conditions may test, computed for each event by ``facts``.
CONDITION_KEYS = (
    "case_channel",
    "route",
    "route_changed",
    "result",
    "reason",
    "employer_representative",
)
# Variables no event carries, filled by the sender at send time: the survey link is a
# credential (whoever holds it answers), so it is never stored with the message nor shown
# in the delivery log (``SEND_TIME_SHOWN``).
SEND_TIME_VARIABLES = frozenset({"link"})
SEND_TIME_SHOWN = {"link": "（满意度调查链接，仅发给职工本人）"}
# Templates that carry a survey link: the consumer issues the survey with the message.
SURVEY_TEMPLATES = frozenset(
    {
        "sms/mediation_survey",
        "wechat/mediation_survey",
        "sms/legal_aid_survey",
        "wechat/legal_aid_survey",
    }
)
# Dates and times in messages are the workers' local time.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
# An event naming several cases (mediation) becomes one message set per case: the handler
# adds that case's number to the payload under this name (``case_numbers`` in the contract).
PER_CASE_FIELD = "case_number"
# Staff: their addresses come from identity (work email and mobile), by subject.
STAFF_KINDS = frozenset({"mediator", "lawyer"})


class SessionReminder(BaseModel):
    """notification's own trigger (no Kafka event): a session starts tomorrow, found by the
    daily task (``reminders.py``) among the sessions mediation told of."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_id: uuid.UUID
    mediation_number: str
    case_number: str = Field(description="The mediation's first case")
    case_numbers: list[str]
    starts_at: AwareDatetime
    room_name: str


class DeadlineAtRisk(BaseModel):
    """notification's own trigger: one clock of ``case.deadlines_updated`` that entered its
    at-risk window (one message set per case, clock and due date)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: uuid.UUID
    case_number: str
    clock: ClockKind
    due_on: date
    note: str


# Triggers notification makes itself, with the model their rules' variables are read from.
INTERNAL_TRIGGERS: dict[str, type[BaseModel]] = {
    "notification.session_reminder": SessionReminder,
    "notification.deadline_at_risk": DeadlineAtRisk,
}


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(description="The event's field; a dotted path for a nested one")
    labels: str | None = None  # a table of weiquan_shared.labels, e.g. ROUTES
    fallback: Source | None = None
    # date: 12月3日; long_date: 2026年12月3日 (a letter's); time: 14:30 (all local time of
    # an aware datetime); yuan: 12,000.50
    format: Literal["date", "long_date", "time", "yuan"] | None = None
    # Free text (a room's name) is cut to this many characters (the last one …).
    max_length: int | None = Field(default=None, ge=2)


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_channel: list[str] | None = None
    route: list[str] | None = None
    route_changed: bool | None = None
    result: list[str] | None = None
    reason: list[str] | None = None  # legal_aid.closed's closure reason
    employer_representative: bool | None = None

    def hold(self, facts: Mapping[str, Any]) -> bool:
        if (
            self.employer_representative is not None
            and facts.get("employer_representative") != self.employer_representative
        ):
            return False
        if self.case_channel is not None and facts.get("case_channel") not in self.case_channel:
            return False
        if self.result is not None and facts.get("result") not in self.result:
            return False
        if self.reason is not None and facts.get("reason") not in self.reason:
            return False
        if self.route is not None and facts.get("route") not in self.route:
            return False
        return self.route_changed is None or facts.get("route_changed") == self.route_changed


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    event: str
    recipient: RecipientKind
    channel: Channel
    template: str = Field(pattern=r"^(sms|wechat|email)/[a-z0-9_]+$")
    quiet_hours: bool = Field(description="Held back during the recipients' quiet hours")
    # An SMS longer than one segment (70 characters) goes as a concatenated SMS of
    # 67-character segments (signature included); only a template that cannot fit (a link,
    # a denial's reasons) says how many it may take.
    segments: int = Field(default=1, ge=1, le=3)
    when: Conditions = Conditions()


class RuleBook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    variables: dict[str, dict[str, Source]]
    rules: list[Rule]

    def for_event(self, event_type: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.event == event_type]

    def values(self, event_type: str, payload: Mapping[str, Any]) -> dict[str, str]:
        """The template variables of one event (codes turned into their Chinese labels)."""
        return {
            name: _value(source, payload)
            for name, source in self.variables.get(event_type, {}).items()
        }


def field_value(payload: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``place.room_name``), None when any step is missing."""
    value: Any = payload
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _formatted(kind: str, raw: Any) -> str:
    if kind == "yuan":
        return f"{Decimal(str(raw)):,.2f}".removesuffix(".00")
    if kind == "date" and len(str(raw)) == 10:  # a plain date: 2026-12-03
        day = date.fromisoformat(str(raw))
    else:
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        moment = moment.astimezone(LOCAL_ZONE)
        if kind == "time":
            return moment.strftime("%H:%M")
        day = moment.date()
    if kind == "long_date":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.month}月{day.day}日"


def _value(source: Source, payload: Mapping[str, Any]) -> str:
    raw = field_value(payload, source.field)
    if raw is None or raw == []:
        return _value(source.fallback, payload) if source.fallback else ""
    if isinstance(raw, list):  # codes, e.g. a denial's reasons: each labelled, joined
        return "；".join(
            _value(Source(field="item", labels=source.labels), {"item": r}) for r in raw
        )
    if source.labels:
        table: Mapping[str, str] = getattr(labels, source.labels)
        return table.get(str(raw), str(raw))
    text = _formatted(source.format, raw) if source.format else str(raw)
    if source.max_length and len(text) > source.max_length:
        text = text[: source.max_length - 1] + "…"
    return text


@cache
def rule_book() -> RuleBook:
    return RuleBook.model_validate(json.loads(RULES_FILE.read_text(encoding="utf-8")))


@cache
def template_text(template_id: str) -> str:
    return (TEMPLATES / f"{template_id}.txt").read_text(encoding="utf-8").strip()


def placeholders(template_id: str) -> list[str]:
    """The template's variables in order of first appearance (an SMS provider's template
    numbers them {1}, {2}, … in this order)."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(template_text(template_id)):
        if name not in seen:
            seen.append(name)
    return seen


def render(template_id: str, variables: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: variables[m.group(1)], template_text(template_id))


def wechat_fields(text: str) -> dict[str, str]:
    """A WeChat template file's lines ``key: value`` as the message's data fields."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def facts(event_type: str, payload: Mapping[str, Any], case_channel: str | None) -> dict[str, Any]:
    """What the rules' conditions test, for one event."""
    found: dict[str, Any] = {
        "case_channel": case_channel,
        "route": payload.get("route"),
        "result": payload.get("result"),
        "reason": payload.get("reason"),
    }
    parties = payload.get("parties")
    if isinstance(parties, Mapping):
        found["employer_representative"] = bool(parties.get("employer_representative"))
    previous = payload.get("previous")
    if isinstance(previous, Mapping):
        found["route_changed"] = (previous.get("route"), previous.get("route_detail")) != (
            payload.get("route"),
            payload.get("route_detail"),
        )
    return found


def addressees(event_type: str, payload: Mapping[str, Any]) -> Collection[str] | None:
    """The workers (worker_refs) an event is for; None: every worker of the case.

    - A session's invitation, move or cancellation: the workers it calls when they are a
      group's elected representatives (LDA Art. 7, ``parties.representatives_elected``);
      else every worker of the case.
    - ``mediation.expired``: the workers it names (``worker_refs``); all when empty.
    - ``legal_aid.closed``: the application's workers (``worker_refs``); all when empty.
    """
    parties = payload.get("parties")
    if isinstance(parties, Mapping) and parties.get("representatives_elected"):
        return set(parties.get("workers") or [])
    if event_type in ("mediation.expired", "legal_aid.closed") and payload.get("worker_refs"):
        return set(payload["worker_refs"])
    return None


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    # A pseudonym: the worker's worker_ref; ``employer:<case number>``; or a staff member's
    # identity subject.
    ref: str
    position: int | None  # a worker's position in the case (contact lookup)


# Which of the employer's contact channels (as intake's ``case.employer_contact_recorded``
# names them) each message channel needs.
EMPLOYER_CHANNEL_NEEDS = {"sms": "mobile", "email": "email"}


def employer_ref(case_number: str) -> str:
    """The employer of one case as a recipient (the delivery log's 用人单位)."""
    return f"employer:{case_number}"


@dataclass(frozen=True)
class PlannedMessage:
    id: uuid.UUID
    rule: Rule
    recipient: Recipient
    variables: dict[str, str]


def plan(
    book: RuleBook,
    event_type: str,
    payload: Mapping[str, Any],
    *,
    case_channel: str | None,
    workers: Sequence[str],
    employer_channels: Collection[str] = (),
    staff: Mapping[str, Sequence[str]] | None = None,
) -> list[PlannedMessage]:
    """The messages one event calls for, for one case. SMS goes to every worker of the case
    the event addresses (``addressees``); WeChat only to the worker who wrote from the
    official account (the case's first worker), if addressed. A rule for the employer
    applies when intake holds the employer's contact by that channel
    (``employer_channels``: mobile for SMS, email for email); employers get no WeChat. A
    rule for a mediator or a lawyer goes to each of ``staff[kind]`` (identity subjects, see
    ``staff_addressees``)."""
    known = facts(event_type, payload, case_channel)
    variables = book.values(event_type, payload)
    only = addressees(event_type, payload)
    addressed = [p for p, ref in enumerate(workers) if only is None or ref in only]
    planned = []
    for rule in book.for_event(event_type):
        if not rule.when.hold(known):
            continue
        if rule.recipient == "employer":
            if EMPLOYER_CHANNEL_NEEDS.get(rule.channel) in employer_channels:
                number = str(payload.get(PER_CASE_FIELD) or "")
                recipient = Recipient("employer", employer_ref(number), None)
                planned.append(PlannedMessage(uuid.uuid4(), rule, recipient, variables))
            continue
        if rule.recipient in STAFF_KINDS:
            for subject in dict.fromkeys((staff or {}).get(rule.recipient, ())):
                planned.append(
                    PlannedMessage(
                        uuid.uuid4(), rule, Recipient(rule.recipient, subject, None), variables
                    )
                )
            continue
        positions = addressed if rule.channel == "sms" else [p for p in addressed if p == 0]
        for position in positions:
            planned.append(
                PlannedMessage(
                    uuid.uuid4(),
                    rule,
                    Recipient("worker", workers[position], position),
                    variables,
                )
            )
    return planned


def staff_addressees(event_type: str, payload: Mapping[str, Any]) -> dict[str, list[str]]:
    """The staff an event itself names (identity subjects), by recipient kind.

    - ``mediation.assigned``: the lead mediator, unless a coordinator's change kept the
      same lead (only the organisations changed: nothing new for the mediator);
    - ``legal_aid.lawyer_assigned``: the lawyer, when the panel entry has an account;
    - ``notification.session_reminder``: the session's mediators (the task sets them).
    Deadlines at risk name none: the handler looks up the case's mediator and lawyer.
    """
    if event_type == "mediation.assigned":
        lead = payload.get("lead_mediator_id")
        if not lead or payload.get("previous_lead_mediator_id") == lead:
            return {}
        return {"mediator": [str(lead)]}
    if event_type == "legal_aid.lawyer_assigned":
        subject = payload.get("lawyer_subject")
        return {"lawyer": [str(subject)]} if subject else {}
    return {}
