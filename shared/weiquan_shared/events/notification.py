"""Events the notification service publishes: what reached people, and what could not.

Neither carries a mobile, an OpenID, an address or the message's text: the recipient is
named by kind and a pseudonym (a worker's ``worker_ref``), the message by its template,
so the delivery log on a case's timeline shows what was said without personal data.
"""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from weiquan_shared.envelope import EventPayload, register
from weiquan_shared.events._common import DistrictCode

NotificationChannel = Literal["sms", "wechat", "email"]
RecipientKind = Literal["worker", "employer", "mediator", "lawyer"]


@register
class NotificationSent(EventPayload):
    """A provider accepted a message for a person (an SMS gateway, WeChat, an SMTP server)."""

    event_type: ClassVar[str] = "notification.sent"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "notification"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    message_id: uuid.UUID
    case_id: uuid.UUID | None = None
    case_number: str | None = Field(default=None, max_length=40)
    district_code: str | None = DistrictCode
    caused_by_event_id: uuid.UUID = Field(description="The event the message tells of")
    caused_by_event_type: str
    template_id: str = Field(description="e.g. sms/case_accepted")
    channel: NotificationChannel
    recipient_kind: RecipientKind
    recipient_ref: str = Field(description="A pseudonym: the worker's worker_ref, never a contact")
    attempts: int = Field(ge=1)
    provider_ref: str | None = Field(
        default=None, description="The provider's id of the message (serial number, msgid)"
    )
    sent_at: AwareDatetime


@register
class NotificationFailed(EventPayload):
    """A message was given up: the provider refused it for good, or the retries ran out."""

    event_type: ClassVar[str] = "notification.failed"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "notification"
    consumers: ClassVar[tuple[str, ...]] = ("projection",)

    message_id: uuid.UUID
    case_id: uuid.UUID | None = None
    case_number: str | None = Field(default=None, max_length=40)
    district_code: str | None = DistrictCode
    caused_by_event_id: uuid.UUID
    caused_by_event_type: str
    template_id: str
    channel: NotificationChannel
    recipient_kind: RecipientKind
    recipient_ref: str
    attempts: int = Field(ge=0)
    reason: str = Field(max_length=300, description="Why, without personal data")
    failed_at: AwareDatetime


SurveyAbout = Literal["mediation", "legal_aid"]
SurveyChannel = Literal["link", "wechat"]


@register
class SurveyAnswered(EventPayload):
    """A worker answered the satisfaction survey of a case (a 1–5 score) through its
    signed, single-use link or by replying to the official account. The optional comment
    stays in notification, redacted.

    ``about`` / ``about_id`` / ``about_number`` (optional, added within v1: older events
    have none, and a consumer reads a missing ``about`` as the case's mediation) say what
    the survey asked about: the mediation (its id and number) or the legal-aid application
    (its id and number) whose closure issued it. Legal aid records the answer as the
    application's satisfaction.
    """

    event_type: ClassVar[str] = "survey.answered"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "notification"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "legal_aid")

    survey_id: uuid.UUID
    case_id: uuid.UUID
    case_number: str = Field(max_length=40)
    district_code: str = DistrictCode
    score: int = Field(ge=1, le=5, description="1 很不满意 … 5 很满意")
    has_comment: bool
    answered_at: AwareDatetime
    about: SurveyAbout | None = Field(
        default=None, description="What the survey asked about; null: an older event"
    )
    about_id: uuid.UUID | None = Field(
        default=None, description="The mediation's or legal-aid application's id"
    )
    about_number: str | None = Field(
        default=None, max_length=40, description="e.g. TJ-440305-2026-000001, FY-440305-…"
    )
    answered_by: SurveyChannel | None = Field(
        default=None, description="The link's page, or a reply to the official account"
    )
