"""Legal aid's clocks, counted on the shared legal calendar (start day excluded, a last day
falling on a rest day rolls forward). Pure functions: the rule book gives the periods.

- decision: 7 days from receipt (法律援助法 Art. 43)
- lawyer assignment: 3 days from the grant (Art. 43)
- provisional aid: fewer than 7 days before the limitation period runs out (Art. 44)
- missing documents: the period the union gives (union policy; Art. 43 sets none)
- arbitration: acceptance 5 days from filing (LDA Art. 29); award 45 days from acceptance,
  60 when extended by 15 (Art. 43); suing within 15 days of receiving the award (Arts. 48, 50);
  the employer's 30 days to apply to set a final award aside (Art. 49)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from legal_aid.rules import RuleBook
from weiquan_shared.legal_calendar import REVIEW_TEXT, LegalCalendar


@dataclass(frozen=True)
class Clock:
    kind: str
    rule_id: str
    due_on: date
    review: tuple[str, ...]

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def _clock(kind: str, rule_id: str, start: date, book: RuleBook, cal: LegalCalendar) -> Clock:
    deadline = cal.deadline(start, book.period(rule_id, start))
    return Clock(kind, rule_id, deadline.due, tuple(REVIEW_TEXT[r] for r in deadline.review))


def decision_due(received_on: date, book: RuleBook, cal: LegalCalendar) -> Clock:
    return _clock("decision", "procedure.decision_days", received_on, book, cal)


def assignment_due(granted_on: date, book: RuleBook, cal: LegalCalendar) -> Clock:
    return _clock("assignment", "procedure.assign_days", granted_on, book, cal)


def documents_due(requested_on: date, book: RuleBook, cal: LegalCalendar) -> Clock:
    return _clock("documents", "procedure.documents_days", requested_on, book, cal)


def provisional(limitation_due_on: date | None, received_on: date, book: RuleBook) -> int | None:
    """Days left before the limitation when fewer than the threshold remain (Art. 44), else
    None. A period already run out is not provisional aid: a lawyer checks interruption."""
    if limitation_due_on is None:
        return None
    left = (limitation_due_on - received_on).days
    threshold = int(book.rule("procedure.provisional_days", received_on).value["days"])
    return left if 0 <= left < threshold else None


def acceptance_due(filed_on: date, book: RuleBook, cal: LegalCalendar) -> Clock:
    return _clock("arbitration_acceptance", "arbitration.acceptance", filed_on, book, cal)


def award_due(accepted_on: date, extended: bool, book: RuleBook, cal: LegalCalendar) -> Clock:
    rule_id = "arbitration.award_extended" if extended else "arbitration.award"
    return _clock("arbitration_award", rule_id, accepted_on, book, cal)


def after_award(received_on: date, final: bool, book: RuleBook, cal: LegalCalendar) -> list[Clock]:
    """The windows an award opens: the worker may sue within 15 days (either party, for a
    non-final award); the employer may apply to set a final award aside within 30 days."""
    clocks = [_clock("sue_after_award", "arbitration.sue_after_award", received_on, book, cal)]
    if final:
        clocks.append(
            _clock("set_aside_final", "arbitration.set_aside_final", received_on, book, cal)
        )
    return clocks
