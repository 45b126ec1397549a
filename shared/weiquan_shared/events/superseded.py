"""Event versions no service publishes any more, still read by their consumers.

Kafka keeps case events forever and projection rebuilds by replaying them, so a version
a producer has moved past stays registered here, with its published schema unchanged
(each class keeps its original name: it is the schema's title). Import them from
``weiquan_shared.events`` under their versioned names (``CaseRetriagedV1``).
"""

from __future__ import annotations

from typing import ClassVar

from weiquan_shared.envelope import register
from weiquan_shared.events.triage import CaseRetriagedBody


@register
class CaseRetriaged(CaseRetriagedBody):
    """A case's decision changed: an officer's override or a system upgrade (group dispute)."""

    event_type: ClassVar[str] = "case.retriaged"
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str] = "triage"
    consumers: ClassVar[tuple[str, ...]] = ("projection", "intake", "mediation")
