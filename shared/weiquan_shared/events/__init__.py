"""Event payloads exchanged between services: the contracts.

One module per producing service (``intake.py``, ``triage.py``, …). Each class is one
(event type, schema version) and names its producer and consumers; topics, dead-letter
topics and the AsyncAPI document are derived from that. A change old consumers cannot
read is a new class with ``schema_version`` + 1, registered beside the old one; the old
one moves to ``superseded.py`` and is exported with its version in its name
(``CaseRetriagedV1``), the current one keeps the plain name producers use. The JSON
Schemas in ``contracts/`` are generated from these classes (``make contracts``) and a test
fails when the two drift apart.

Personal data never appears here in plain text: workers are named by a keyed hash
(``worker_ref``) and free text is redacted by intake before it is published.
"""

from weiquan_shared.events._common import (
    Category,
    Channel,
    EmployerRef,
    Route,
    Urgency,
    WorkerRef,
)
from weiquan_shared.events.audit import AuditRecorded
from weiquan_shared.events.casework import (
    CaseAssigned,
    CaseConsentRecorded,
    CaseContactRecorded,
    CaseNoteAdded,
    CaseVoided,
    ConsentScope,
    ContactMethod,
    ContactOutcome,
    VoidReason,
)
from weiquan_shared.events.intake import CaseReported, ConsultationRecorded
from weiquan_shared.events.mediation import (
    AgreementItem,
    Instalment,
    MediationAccepted,
    MediationAgreementReached,
    MediationAssigned,
    MediationCasesChanged,
    MediationClock,
    MediationClockExtended,
    MediationClosed,
    MediationConfirmationDecided,
    MediationConfirmationRequested,
    MediationEvent,
    MediationExpired,
    MediationFailed,
    MediationInstalmentOverdue,
    MediationInstalmentPaid,
    MediationOpened,
    MediationOrganisation,
    MediationPaymentOrderApplied,
    MediationSessionHeld,
    MediationSessionMoved,
    MediationSessionScheduled,
    MediationWithdrawn,
    Party,
    RoomKind,
    SessionOutcome,
    SessionPlace,
)
from weiquan_shared.events.notification import NotificationFailed, NotificationSent
from weiquan_shared.events.superseded import CaseRetriaged as CaseRetriagedV1
from weiquan_shared.events.triage import (
    CaseDeadlinesUpdated,
    CaseGrouped,
    CaseRetriaged,
    CaseReviewResolved,
    CaseTriaged,
    ClockKind,
    DecisionSnapshot,
    EmployerFlagged,
    ReviewResolution,
    RouteDetail,
    StatutoryClock,
    TriageReason,
)

__all__ = [
    "AgreementItem",
    "AuditRecorded",
    "CaseAssigned",
    "CaseConsentRecorded",
    "CaseContactRecorded",
    "CaseDeadlinesUpdated",
    "CaseGrouped",
    "CaseNoteAdded",
    "CaseReported",
    "CaseRetriaged",
    "CaseRetriagedV1",
    "CaseReviewResolved",
    "CaseTriaged",
    "CaseVoided",
    "Category",
    "Channel",
    "ClockKind",
    "ConsentScope",
    "ConsultationRecorded",
    "ContactMethod",
    "ContactOutcome",
    "DecisionSnapshot",
    "EmployerFlagged",
    "EmployerRef",
    "Instalment",
    "MediationAccepted",
    "MediationAgreementReached",
    "MediationAssigned",
    "MediationCasesChanged",
    "MediationClock",
    "MediationClockExtended",
    "MediationClosed",
    "MediationConfirmationDecided",
    "MediationConfirmationRequested",
    "MediationEvent",
    "MediationExpired",
    "MediationFailed",
    "MediationInstalmentOverdue",
    "MediationInstalmentPaid",
    "MediationOpened",
    "MediationOrganisation",
    "MediationPaymentOrderApplied",
    "MediationSessionHeld",
    "MediationSessionMoved",
    "MediationSessionScheduled",
    "MediationWithdrawn",
    "NotificationFailed",
    "NotificationSent",
    "Party",
    "ReviewResolution",
    "RoomKind",
    "Route",
    "RouteDetail",
    "SessionOutcome",
    "SessionPlace",
    "StatutoryClock",
    "TriageReason",
    "Urgency",
    "VoidReason",
    "WorkerRef",
]
