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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from weiquan_shared import labels

HERE = Path(__file__).parent
RULES_FILE = HERE / "rules.json"
TEMPLATES = HERE / "templates"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Channel = Literal["sms", "wechat", "email"]
RecipientKind = Literal["worker", "employer", "mediator", "lawyer"]
# What a rule's conditions may test, computed for each event by ``facts``.
CONDITION_KEYS = ("case_channel", "route", "route_changed")


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    labels: str | None = None  # a table of weiquan_shared.labels, e.g. ROUTES
    fallback: Source | None = None


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_channel: list[str] | None = None
    route: list[str] | None = None
    route_changed: bool | None = None

    def hold(self, facts: Mapping[str, Any]) -> bool:
        if self.case_channel is not None and facts.get("case_channel") not in self.case_channel:
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
    # An SMS longer than one segment (the denial's reasons): sent as a concatenated SMS of
    # at most this many segments (67 characters each, signature included).
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


def _value(source: Source, payload: Mapping[str, Any]) -> str:
    raw = payload.get(source.field)
    if raw is None or raw == []:
        return _value(source.fallback, payload) if source.fallback else ""
    if isinstance(raw, list):  # codes, e.g. a denial's reasons: each labelled, joined
        return "；".join(
            _value(Source(field="item", labels=source.labels), {"item": r}) for r in raw
        )
    if source.labels:
        table: Mapping[str, str] = getattr(labels, source.labels)
        return table.get(str(raw), str(raw))
    return str(raw)


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
    found: dict[str, Any] = {"case_channel": case_channel, "route": payload.get("route")}
    previous = payload.get("previous")
    if isinstance(previous, Mapping):
        found["route_changed"] = (previous.get("route"), previous.get("route_detail")) != (
            payload.get("route"),
            payload.get("route_detail"),
        )
    return found


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    ref: str  # a pseudonym: the worker's worker_ref
    position: int | None  # a worker's position in the case (contact lookup)


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
) -> list[PlannedMessage]:
    """The messages one event calls for. SMS goes to every worker of the case; WeChat only
    to the worker who wrote from the official account (the case's first worker)."""
    known = facts(event_type, payload, case_channel)
    variables = book.values(event_type, payload)
    planned = []
    for rule in book.for_event(event_type):
        if not rule.when.hold(known):
            continue
        if rule.recipient != "worker":
            continue  # no event of intake or triage names another recipient yet
        positions = range(len(workers)) if rule.channel == "sms" else range(min(1, len(workers)))
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
