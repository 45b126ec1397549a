"""One interface for every channel: a delivery in, the provider's answer out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """One message to one address, rendered. ``address`` is a mobile, an OpenID or an email
    address, fetched at send time and never stored; ``params`` are the template's variable
    values in order (an SMS provider's {1}, {2}, …); ``fields`` a WeChat template's data;
    ``attachments`` an email's PDF files."""

    message_id: uuid.UUID
    template_id: str
    address: str
    text: str
    params: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    subject: str = ""
    # Files an email carries (file name, PDF bytes): the reminder letter as a PDF.
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    provider_ref: str | None


class TransientFailure(Exception):
    """Worth trying again later (the provider is down, slow or rate-limiting)."""


class PermanentFailure(Exception):
    """Trying again cannot help (a wrong number, a blocked recipient)."""


class Channel(Protocol):
    name: str

    @property
    def missing(self) -> list[str]:
        """The settings still needed before anything can be sent (empty: configured)."""
        ...

    async def send(self, delivery: Delivery) -> Sent:
        """Hand the message to the provider; raises TransientFailure or PermanentFailure."""
        ...
