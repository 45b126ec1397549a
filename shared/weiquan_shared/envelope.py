"""The event envelope: what every message on Kafka carries, whatever its payload.

Wire format: UTF-8 JSON of :class:`EventEnvelope`; Kafka key = ``subject`` (the case id for
case events, so a case's events keep their order within a topic); headers repeat ``event_type``,
``schema_version`` and ``event_id`` so tools can route without parsing the body.

Envelope versions: version 1 (no ``envelope_version`` field on the wire) did not say who
acted; version 2 names its :class:`Actor`. Both decode, because Kafka keeps events forever
and projection rebuilds by replaying them; everything written now is version 2. Services
do not build envelopes themselves: :mod:`weiquan_shared.uow` does, inside the transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

ENVELOPE_VERSION = 2


class EventPayload(BaseModel):
    """Base of every event payload; subclasses name their type and schema version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    producer: ClassVar[str]
    consumers: ClassVar[tuple[str, ...]]


class Actor(BaseModel):
    """Who caused an event: a signed-in person (``user``), a service acting on its own
    behalf (``system``: a consumer reacting to an event, a scheduler), or someone outside
    the union reaching it through a public channel (``public``: a worker on WeChat, a
    survey link), named only by that channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["user", "system", "public"]
    id: str = Field(
        min_length=1,
        max_length=200,
        description="The user's subject at the identity provider, the service's name, or "
        "the public channel",
    )
    role: str | None = Field(
        default=None, max_length=50, description="The user's role when acting (users only)"
    )

    @classmethod
    def system(cls, service: str) -> Actor:
        return cls(kind="system", id=service)

    @classmethod
    def user(cls, subject: str, role: str | None) -> Actor:
        return cls(kind="user", id=subject, role=role)

    @classmethod
    def public(cls, channel: str) -> Actor:
        return cls(kind="public", id=channel)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


P = TypeVar("P")


class EventEnvelope(BaseModel, Generic[P]):
    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope_version: int = Field(
        default=1,
        ge=1,
        le=ENVELOPE_VERSION,
        description="1: written before events named their actor (field absent); 2: names it",
    )
    event_id: uuid.UUID = Field(description="Unique per event; consumers deduplicate on it")
    event_type: str = Field(description="e.g. case.reported; also the topic's logical name")
    schema_version: int = Field(ge=1, description="Version of the payload schema")
    subject: str = Field(
        min_length=1,
        description="What the event is about, and the Kafka key: the case id for case "
        "events, the group or employer id for group and employer events",
    )
    occurred_at: AwareDatetime
    correlation_id: uuid.UUID = Field(description="Shared by every event caused by one request")
    causation_id: uuid.UUID | None = Field(
        default=None, description="The event_id of the event that caused this one"
    )
    producer: str = Field(description="The service that emitted the event")
    actor: Actor | None = Field(
        default=None, description="Who acted (required from envelope version 2)"
    )
    payload: P

    @model_validator(mode="after")
    def _version_2_names_its_actor(self) -> EventEnvelope[P]:
        if self.envelope_version >= 2 and self.actor is None:
            raise ValueError("an envelope of version 2 must name its actor")
        return self

    def acted_by(self) -> Actor:
        """The actor; a version-1 event is taken as its producer's own doing."""
        return self.actor or Actor.system(self.producer)


Envelope = EventEnvelope[dict[str, Any]]


class InvalidEvent(Exception):
    """A message that can never be processed: it goes to the dead-letter topic."""


_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


def register(payload_type: type[EventPayload]) -> type[EventPayload]:
    """Class decorator: make a payload type known to :func:`decode`."""
    key = (payload_type.event_type, payload_type.schema_version)
    if key in _REGISTRY:
        raise ValueError(f"event {key} registered twice")
    _REGISTRY[key] = payload_type
    return payload_type


def registered_payloads() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(_REGISTRY)


def new_event(
    payload: EventPayload,
    *,
    subject: str,
    producer: str,
    actor: Actor,
    correlation_id: uuid.UUID | None = None,
    caused_by: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Wrap ``payload``; an event caused by another inherits its correlation id.

    Services call this through :class:`weiquan_shared.uow.UnitOfWork`, which fills in the
    producer, actor, correlation and causation; tests may call it directly.
    """
    if caused_by is not None:
        correlation_id = caused_by.correlation_id
    return Envelope(
        envelope_version=ENVELOPE_VERSION,
        event_id=uuid.uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        subject=subject,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id or uuid.uuid4(),
        causation_id=caused_by.event_id if caused_by is not None else None,
        producer=producer,
        actor=actor,
        payload=payload.model_dump(mode="json"),
    )


def encode(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json"))


def kafka_headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    return [
        ("event_type", envelope.event_type.encode()),
        ("schema_version", str(envelope.schema_version).encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("content-type", b"application/json"),
    ]


def decode(raw: bytes | None) -> tuple[Envelope, EventPayload]:
    """Parse and validate a message; :class:`InvalidEvent` says why one is unusable."""
    if not raw:
        raise InvalidEvent("empty message body")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"body is not valid JSON: {exc}") from exc
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope invalid: {_summarise(exc)}") from exc
    payload_type = _REGISTRY.get((envelope.event_type, envelope.schema_version))
    if payload_type is None:
        known = sorted(v for (t, v) in _REGISTRY if t == envelope.event_type)
        if known:
            raise InvalidEvent(
                f"unsupported schema_version {envelope.schema_version} of "
                f"{envelope.event_type} (known: {known})"
            )
        raise InvalidEvent(f"unknown event_type {envelope.event_type!r}")
    try:
        payload = payload_type.model_validate(envelope.payload)
    except ValidationError as exc:
        raise InvalidEvent(
            f"payload of {envelope.event_type} v{envelope.schema_version} invalid: "
            f"{_summarise(exc)}"
        ) from exc
    return envelope, payload


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors()[:5]
    )
