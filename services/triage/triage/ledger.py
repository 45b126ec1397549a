"""What triage knows of one employer while it decides a batch of cases (no I/O).

The handler loads each employer's recent cases once per batch, then decides the batch's
cases one after another against this in-memory ledger, which records every decision as
it is made: the third case of a batch sees the first two exactly as it would have seen
them had each been stored and read back, so a batch decides what single events would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from triage.classification import Classification
from triage.clocks import china_date
from triage.domain import Assessment, CaseFacts, Decision, Policy, assess, facts_of
from triage.grouping import PriorCase
from weiquan_shared.events import CaseReported


def history_window(policy: Policy, days: list[date]) -> tuple[date, date]:
    """The report dates whose cases can matter to cases reported on ``days``.

    A group links cases within ``group.window_days`` of each other and a repeat employer
    counts cases within ``repeat_employer.window_days``; members of a group that reaches
    into the window are loaded besides, whatever their date.
    """
    reach = max(
        policy.rules.number(rule, day)
        for rule in ("group.window_days", "repeat_employer.window_days")
        for day in days
    )
    return min(days) - timedelta(days=reach), max(days) + timedelta(days=reach)


@dataclass
class EmployerLedger:
    """One employer's cases, the current decision of those not in a group, its last flag."""

    history: list[PriorCase] = field(default_factory=list)
    current: dict[uuid.UUID, tuple[Decision, CaseFacts, bool]] = field(default_factory=dict)
    flagged_on: date | None = None

    def assess(
        self, case: CaseReported, policy: Policy, classification: Classification | None = None
    ) -> Assessment:
        """Decide ``case`` against the ledger, then record the outcome in it."""
        result = assess(
            case,
            self.history,
            current=self.current,
            flagged_on=self.flagged_on,
            policy=policy,
            classification=classification,
        )
        group_id = result.group.group_id if result.group else None
        if result.group is not None:
            linked = set(result.group.member_ids)
            self.history = [
                replace(p, group_id=group_id) if p.case_id in linked else p for p in self.history
            ]
            for case_id in linked:
                self.current.pop(case_id, None)  # grouped cases are upgraded no further
        self.history.append(
            PriorCase(
                case.case_id,
                case.case_number,
                result.decision.category,
                frozenset(w.worker_ref for w in case.workers),
                china_date(case.reported_at),
                group_id,
            )
        )
        if group_id is None:
            self.current[case.case_id] = (result.decision, facts_of(case), False)
        if result.repeat is not None:
            self.flagged_on = china_date(case.reported_at)
        return result
