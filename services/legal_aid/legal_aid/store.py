"""Legal aid's database and the events each change announces, in one unit of work.

The consumers (``handlers.py``) and the API (``api.py``) both come here: opening an
application (from triage, a mediation or the desk), asking once for missing documents,
deciding by the rules, provisional aid, assigning and reassigning lawyers, steps of the
proceedings and closure. A rule broken is :class:`Refused` (Chinese, 409 or 422 at the API);
an application outside the person's districts, or not assigned to the lawyer asking, is
:class:`NotFound` (404, as if it did not exist).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from legal_aid import clocks
from legal_aid.eligibility import Applicant, Decision, decide
from legal_aid.lawyers import PanelLawyer, choose
from legal_aid.rules import RuleBook
from weiquan_shared.envelope import Envelope
from weiquan_shared.events.legal_aid import (
    ApplicationSource,
    ClosureReason,
    DeclineReason,
    DocumentRef,
    LegalAidApplied,
    LegalAidClosed,
    LegalAidDenied,
    LegalAidDocumentsRequested,
    LegalAidGranted,
    LegalAidLawyerAssigned,
    LegalAidLawyerDeclined,
    LegalAidProvisionalStarted,
    LegalAidSatisfactionRecorded,
    LegalAidStepRecorded,
    StepKind,
)
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.pii import PiiCipher
from weiquan_shared.uow import UnitOfWork

CATEGORY_MATTER = {
    "wage_arrears": "labour_remuneration",
    "overtime": "labour_remuneration",
    "platform_work": "labour_remuneration",
    "work_injury": "work_injury",
    "social_insurance": "social_insurance",
    "no_written_contract": "employment_relationship",
    "termination": "economic_compensation",
}
OPEN = (
    "awaiting_confirmation",
    "received",
    "documents_requested",
    "provisional",
    "granted",
    "assigned",
)
CONCLUDED = frozenset(
    {"concluded_award", "concluded_settlement", "concluded_judgment", "concluded_enforcement"}
)
INCOME_CONTEXT = "legal_aid.household_income"


class Refused(Exception):
    def __init__(self, status: int, *problems: str) -> None:
        super().__init__("；".join(problems))
        self.status = status
        self.problems = list(problems)


class NotFound(Exception):
    pass


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    book: RuleBook
    calendar: LegalCalendar
    cipher: PiiCipher


def names(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": row["application_id"],
        "application_number": row["application_number"],
        "district_code": row["district_code"],
        "case_id": row["case_id"],
        "case_number": row["case_number"],
    }


def matter_of(category: str | None) -> str:
    return CATEGORY_MATTER.get(category or "", "other_labour")


def district_of(case_number: str) -> str:
    head = case_number.split("-")[0]
    return head if len(head) == 6 and head.isdigit() else "440300"


# ------------------------------------------------------------------ cases (from events)


async def upsert_reported(conn: asyncpg.Connection, case: Any) -> None:
    workers = [w.model_dump() for w in case.workers]
    await conn.execute(
        """INSERT INTO cases (case_id, case_number, district_code, employer_name,
               employer_credit_code, workers)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (case_id) DO UPDATE SET district_code = EXCLUDED.district_code,
               employer_name = EXCLUDED.employer_name,
               employer_credit_code = EXCLUDED.employer_credit_code,
               workers = EXCLUDED.workers, updated_at = now()""",
        case.case_id,
        case.case_number,
        case.district_code,
        case.employer.name,
        case.employer.credit_code,
        workers,
    )
    # An application opened before the report arrived (topics are not ordered together).
    await conn.execute(
        """UPDATE applications SET employer_name = $2, employer_credit_code = $3,
               district_code = $4,
               worker_refs = CASE WHEN cardinality(worker_refs) = 0 THEN $5 ELSE worker_refs END,
               is_migrant_worker = is_migrant_worker OR $6
           WHERE case_id = $1""",
        case.case_id,
        case.employer.name,
        case.employer.credit_code,
        case.district_code,
        [w.worker_ref for w in case.workers],
        any(w.is_migrant_worker for w in case.workers),
    )


async def record_decision(
    conn: asyncpg.Connection,
    case_id: uuid.UUID,
    case_number: str,
    seq: int,
    category: str,
    route: str,
    limitation_due_on: date | None,
    provisional_signal: bool,
) -> bool:
    """Keep the case's current triage decision; False when an older one arrives late."""
    row = await conn.fetchrow(
        """INSERT INTO cases (case_id, case_number, district_code, category, route,
               limitation_due_on, provisional_signal, decision_seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (case_id) DO UPDATE SET category = EXCLUDED.category,
               route = EXCLUDED.route, limitation_due_on = EXCLUDED.limitation_due_on,
               provisional_signal = EXCLUDED.provisional_signal,
               decision_seq = EXCLUDED.decision_seq, updated_at = now()
           WHERE cases.decision_seq < EXCLUDED.decision_seq
           RETURNING case_id""",
        case_id,
        case_number,
        district_of(case_number),
        category,
        route,
        limitation_due_on,
        provisional_signal,
        seq,
    )
    return row is not None


async def case_row(conn: asyncpg.Connection, case_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)


# ------------------------------------------------------------------ applications


async def _next_number(conn: asyncpg.Connection, district_code: str, today: date) -> str:
    seq = await conn.fetchval("SELECT nextval('application_seq')")
    return f"FY-{district_code}-{today.year}-{seq:06d}"


async def open_application(
    uow: UnitOfWork,
    ctx: Context,
    *,
    source: ApplicationSource,
    today: date,
    district_code: str,
    matter: str,
    case: asyncpg.Record | None = None,
    case_id: uuid.UUID | None = None,
    case_number: str | None = None,
    worker_refs: list[str] | None = None,
    is_migrant_worker: bool = False,
    employer_name: str | None = None,
    employer_credit_code: str | None = None,
    mediation_id: uuid.UUID | None = None,
    awaiting_confirmation: bool = False,
    cause: Envelope | None = None,
) -> asyncpg.Record | None:
    """Open an application (None when the case already has one: replays, two routes)."""
    conn = uow.conn
    workers = _json(case["workers"]) if case is not None else []
    if case is not None:
        case_id, case_number = case["case_id"], case["case_number"]
        district_code = case["district_code"] or district_code
        employer_name = case["employer_name"] or employer_name
        employer_credit_code = case["employer_credit_code"] or employer_credit_code
        is_migrant_worker = is_migrant_worker or any(w.get("is_migrant_worker") for w in workers)
        worker_refs = worker_refs or [w["worker_ref"] for w in workers]
    limitation = case["limitation_due_on"] if case is not None else None
    left = clocks.provisional(limitation, today, ctx.book)
    if left is None and case is not None and case["provisional_signal"]:
        left = (limitation - today).days if limitation else 0
    provisional = left is not None and not awaiting_confirmation
    decision_due = clocks.decision_due(today, ctx.book, ctx.calendar)
    number = await _next_number(conn, district_code, today)
    status = (
        "awaiting_confirmation"
        if awaiting_confirmation
        else ("provisional" if provisional else "received")
    )
    row = await conn.fetchrow(
        """INSERT INTO applications (application_id, application_number, case_id, case_number,
               district_code, source, source_event_id, mediation_id, category, matter,
               worker_refs, is_migrant_worker, employer_name, employer_credit_code, status,
               provisional, limitation_due_on, received_on, decision_due_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   $17, $18, $19)
           ON CONFLICT (case_id) WHERE case_id IS NOT NULL DO NOTHING
           RETURNING *""",
        uuid.uuid4(),
        number,
        case_id,
        case_number,
        district_code,
        source,
        cause.event_id if cause else None,
        mediation_id,
        case["category"] if case is not None else None,
        matter,
        worker_refs or [],
        is_migrant_worker,
        employer_name,
        employer_credit_code,
        status,
        provisional,
        limitation,
        today,
        decision_due.due_on,
    )
    if row is None:
        return None
    subject = str(row["application_id"])
    uow.emit(
        LegalAidApplied(
            **names(row),
            source=source,
            mediation_id=mediation_id,
            category=row["category"],
            matter=matter,
            worker_refs=list(row["worker_refs"]),
            awaiting_confirmation=awaiting_confirmation,
            provisional=provisional,
            received_on=today,
            decision_due_on=decision_due.due_on,
            applied_at=now(),
        ),
        subject=subject,
        caused_by=cause,
    )
    if provisional:
        assert left is not None
        uow.emit(
            LegalAidProvisionalStarted(
                **names(row),
                rule=ctx.book.rule("procedure.provisional_days", today).ref,
                limitation_due_on=limitation or today,
                days_left=left,
                review_due_on=decision_due.due_on,
                started_at=now(),
            ),
            subject=subject,
            caused_by=cause,
        )
        row = await assign_lawyer(uow, ctx, row, today, cause=cause)
    return row


async def load(
    conn: asyncpg.Connection,
    number: str,
    districts: tuple[str, ...] | None,
    *,
    lock: bool = False,
    lawyer_code: str | None = None,
) -> asyncpg.Record:
    if not number.isascii() or not number.isprintable() or len(number) > 40:
        raise NotFound(number[:40])
    row = await conn.fetchrow(
        f"SELECT * FROM applications WHERE application_number = $1 {'FOR UPDATE' if lock else ''}",
        number,
    )
    if row is None:
        raise NotFound(number)
    if districts is not None and row["district_code"] not in districts:
        raise NotFound(number)
    if lawyer_code is not None and row["lawyer_code"] != lawyer_code:
        raise NotFound(number)
    return row


def applicant_of(row: asyncpg.Record, cipher: PiiCipher) -> Applicant:
    income = (
        Decimal(cipher.decrypt(bytes(row["household_income"]), INCOME_CONTEXT))
        if row["household_income"] is not None
        else None
    )
    return Applicant(
        matter=row["matter"],
        district_code=row["district_code"],
        is_migrant_worker=row["is_migrant_worker"],
        household_size=row["household_size"],
        monthly_household_income=income,
        circumstances=tuple(row["circumstances"]),
    )


async def update_facts(
    uow: UnitOfWork,
    ctx: Context,
    row: asyncpg.Record,
    *,
    matter: str | None,
    household_size: int | None,
    monthly_household_income: Decimal | None,
    circumstances: list[str] | None,
    documents_received: list[str] | None,
) -> None:
    if row["status"] not in OPEN or row["decided_on"] is not None:
        raise Refused(409, "申请已作出决定或已结案，不能再修改申请材料")
    unknown = [d for d in documents_received or [] if d not in ctx.book.checklist.titles]
    if unknown:
        raise Refused(422, f"没有这种材料：{'、'.join(unknown)}")
    income = (
        ctx.cipher.encrypt(str(monthly_household_income), INCOME_CONTEXT)
        if monthly_household_income is not None
        else None
    )
    await uow.conn.execute(
        """UPDATE applications SET matter = COALESCE($2, matter),
               household_size = COALESCE($3, household_size),
               household_income = COALESCE($4, household_income),
               circumstances = COALESCE($5, circumstances),
               documents_received = COALESCE($6, documents_received)
           WHERE application_id = $1""",
        row["application_id"],
        matter,
        household_size,
        income,
        circumstances,
        sorted(set(documents_received)) if documents_received is not None else None,
    )


async def confirm(
    uow: UnitOfWork, ctx: Context, row: asyncpg.Record, wants_aid: bool, today: date
) -> str:
    """The officer confirms whether a worker of a failed mediation wants legal aid."""
    if row["status"] != "awaiting_confirmation":
        raise Refused(409, "该申请不在待确认状态")
    if not wants_aid:
        await close(
            uow,
            row,
            reason="declined_by_worker",
            amount_recovered=Decimal(0),
            satisfaction=None,
            today=today,
        )
        return "职工不申请法律援助，已结案"
    received = clocks.decision_due(today, ctx.book, ctx.calendar)
    await uow.conn.execute(
        "UPDATE applications SET status = 'received', received_on = $2, decision_due_on = $3 "
        "WHERE application_id = $1",
        row["application_id"],
        today,
        received.due_on,
    )
    return f"已确认职工申请法律援助，审查期限至{received.due_on}"


async def request_documents(
    uow: UnitOfWork, ctx: Context, row: asyncpg.Record, today: date
) -> tuple[list[str], date]:
    """Ask for every missing document at once; only once per application (Art. 43)."""
    if row["documents_requested_on"] is not None:
        raise Refused(
            409,
            f"已于{row['documents_requested_on']}一次性告知补正材料，"
            "法律援助法第四十三条规定只能告知一次，不能再次要求",
        )
    if row["status"] not in ("received", "provisional"):
        raise Refused(409, "该申请当前状态不能要求补充材料")
    applicant = applicant_of(row, ctx.cipher)
    from legal_aid.eligibility import hardship_exemption

    exempt = hardship_exemption(applicant, ctx.book, today) is not None
    missing = ctx.book.checklist.missing(row["matter"], exempt, list(row["documents_received"]))
    if not missing:
        raise Refused(409, "申请材料已齐全，无需补充")
    due = clocks.documents_due(today, ctx.book, ctx.calendar).due_on
    await uow.conn.execute(
        """UPDATE applications SET status = CASE WHEN status = 'provisional' THEN status
               ELSE 'documents_requested' END,
               documents_requested_on = $2, documents_due_on = $3, documents_missing = $4
           WHERE application_id = $1""",
        row["application_id"],
        today,
        due,
        missing,
    )
    uow.emit(
        LegalAidDocumentsRequested(
            **names(row),
            missing=[DocumentRef(code=c, title=ctx.book.checklist.title(c)) for c in missing],
            worker_refs=list(row["worker_refs"]),
            due_on=due,
            requested_at=now(),
        ),
        subject=str(row["application_id"]),
    )
    return missing, due


async def decide_application(
    uow: UnitOfWork, ctx: Context, row: asyncpg.Record, today: date
) -> Decision:
    if row["decided_on"] is not None or row["status"] not in OPEN:
        raise Refused(409, "该申请已作出决定或已结案")
    if row["status"] == "awaiting_confirmation":
        raise Refused(409, "请先确认职工是否申请法律援助")
    decision = decide(applicant_of(row, ctx.cipher), ctx.book, today)
    if decision.outcome == "incomplete":
        raise Refused(422, *decision.explanation[-1:])
    within = today <= row["decision_due_on"]
    after_provisional = row["provisional"]
    stored = {
        "outcome": decision.outcome,
        "rules": decision.rule_ids,
        "reason_codes": list(decision.reason_codes),
        "explanation": list(decision.explanation),
    }
    subject = str(row["application_id"])
    if decision.outcome == "granted":
        assign = clocks.assignment_due(today, ctx.book, ctx.calendar).due_on
        status = "assigned" if row["lawyer_code"] else "granted"
        row = await uow.conn.fetchrow(
            """UPDATE applications SET status = $2, decided_on = $3, decision = $4,
                   assign_due_on = $5 WHERE application_id = $1 RETURNING *""",
            row["application_id"],
            status,
            today,
            stored,
            assign,
        )
        uow.emit(
            LegalAidGranted(
                **names(row),
                rules=decision.rule_refs,
                matter=row["matter"],
                worker_refs=list(row["worker_refs"]),
                after_provisional=after_provisional,
                decided_on=today,
                within_deadline=within,
                assign_due_on=assign,
                granted_at=now(),
            ),
            subject=subject,
        )
        if not row["lawyer_code"]:
            await assign_lawyer(uow, ctx, row, today)
        return decision
    await uow.conn.execute(
        "UPDATE applications SET decided_on = $2, decision = $3 WHERE application_id = $1",
        row["application_id"],
        today,
        stored,
    )
    uow.emit(
        LegalAidDenied(
            **names(row),
            rules=decision.rule_refs,
            reason_codes=list(decision.reason_codes),
            matter=row["matter"],
            worker_refs=list(row["worker_refs"]),
            review_rule_id="procedure.review",
            after_provisional=after_provisional,
            decided_on=today,
            within_deadline=within,
            denied_at=now(),
        ),
        subject=subject,
    )
    await close(
        uow, row, reason="denied", amount_recovered=Decimal(0), satisfaction=None, today=today
    )
    return decision


async def panel(conn: asyncpg.Connection) -> list[PanelLawyer]:
    rows = await conn.fetch(
        """SELECT l.lawyer_code, l.kind, l.firm_code, l.districts, l.specialties, l.capacity,
                  (SELECT count(*) FROM applications a WHERE a.lawyer_code = l.lawyer_code
                     AND a.status IN ('provisional', 'assigned')) AS open_cases,
                  ARRAY(SELECT credit_code FROM acted_for f
                        WHERE (f.party_kind = 'lawyer' AND f.party_code = l.lawyer_code)
                           OR (f.party_kind = 'firm' AND f.party_code = l.firm_code)) AS acted
           FROM lawyers l WHERE l.active ORDER BY l.lawyer_code"""
    )
    return [
        PanelLawyer(
            code=r["lawyer_code"],
            kind=r["kind"],
            firm_code=r["firm_code"],
            districts=tuple(r["districts"]),
            specialties=tuple(r["specialties"]),
            capacity=r["capacity"],
            open_cases=r["open_cases"],
            acted_for=frozenset(r["acted"]),
        )
        for r in rows
    ]


async def assign_lawyer(
    uow: UnitOfWork,
    ctx: Context,
    row: asyncpg.Record,
    today: date,
    cause: Envelope | None = None,
) -> asyncpg.Record:
    """The lightest-loaded lawyer without a conflict; the application waits when none is."""
    conn = uow.conn
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('legal_aid.assign'))")
    declined = await conn.fetch(
        "SELECT lawyer_code FROM assignments WHERE application_id = $1 AND declined_at IS NOT NULL",
        row["application_id"],
    )
    choice = choose(
        await panel(conn),
        district_code=row["district_code"],
        matter=row["matter"],
        employer_credit_code=row["employer_credit_code"],
        declined=frozenset(r["lawyer_code"] for r in declined),
    )
    if choice.lawyer is None:
        return row
    lawyer = choice.lawyer
    status = "provisional" if row["status"] == "provisional" else "assigned"
    row = await conn.fetchrow(
        """UPDATE applications SET lawyer_code = $2, assigned_on = $3, status = $4
           WHERE application_id = $1 RETURNING *""",
        row["application_id"],
        lawyer.code,
        today,
        status,
    )
    await conn.execute(
        "INSERT INTO assignments (application_id, lawyer_code, skipped) VALUES ($1, $2, $3)",
        row["application_id"],
        lawyer.code,
        list(choice.skipped_for_conflict),
    )
    due = row["assign_due_on"]
    # The lawyer's account at identity: notification asks identity for its work address.
    subject = await conn.fetchval("SELECT subject FROM lawyers WHERE lawyer_code = $1", lawyer.code)
    uow.emit(
        LegalAidLawyerAssigned(
            **names(row),
            lawyer_code=lawyer.code,
            lawyer_kind=lawyer.kind,
            firm_code=lawyer.firm_code,
            lawyer_subject=subject,
            skipped_for_conflict=list(choice.skipped_for_conflict),
            provisional=status == "provisional",
            assigned_on=today,
            within_deadline=due is None or today <= due,
            assigned_at=now(),
        ),
        subject=str(row["application_id"]),
        caused_by=cause,
    )
    return row


async def decline(
    uow: UnitOfWork,
    ctx: Context,
    row: asyncpg.Record,
    reason: DeclineReason,
    today: date,
    cause: Envelope | None = None,
) -> asyncpg.Record:
    if row["status"] not in ("assigned", "provisional") or not row["lawyer_code"]:
        raise Refused(409, "该申请当前没有指派给您")
    await uow.conn.execute(
        """UPDATE assignments SET declined_at = now(), decline_reason = $3
           WHERE application_id = $1 AND lawyer_code = $2 AND declined_at IS NULL""",
        row["application_id"],
        row["lawyer_code"],
        reason,
    )
    uow.emit(
        LegalAidLawyerDeclined(
            **names(row), lawyer_code=row["lawyer_code"], reason=reason, declined_at=now()
        ),
        subject=str(row["application_id"]),
        caused_by=cause,
    )
    status = "provisional" if row["status"] == "provisional" else "granted"
    row = await uow.conn.fetchrow(
        """UPDATE applications SET lawyer_code = NULL, assigned_on = NULL, status = $2
           WHERE application_id = $1 RETURNING *""",
        row["application_id"],
        status,
    )
    return await assign_lawyer(uow, ctx, row, today, cause=cause)


async def recheck_conflict(
    uow: UnitOfWork, ctx: Context, case_id: uuid.UUID, today: date, cause: Envelope
) -> None:
    """A lawyer assigned before the case's report arrived (provisional aid assigns at once)
    was chosen without the employer's credit code: if they or their firm acted for that
    employer, the assignment is withdrawn for conflict of interest and the case reassigned."""
    row = await uow.conn.fetchrow(
        """SELECT a.* FROM applications a WHERE a.case_id = $1
               AND a.status IN ('provisional', 'assigned') AND a.employer_credit_code IS NOT NULL
               AND EXISTS (SELECT 1 FROM acted_for f JOIN lawyers l
                     ON (f.party_kind = 'lawyer' AND f.party_code = l.lawyer_code)
                     OR (f.party_kind = 'firm' AND f.party_code = l.firm_code)
                   WHERE l.lawyer_code = a.lawyer_code AND f.credit_code = a.employer_credit_code)
           FOR UPDATE""",
        case_id,
    )
    if row is not None:
        await decline(uow, ctx, row, "conflict_of_interest", today, cause=cause)


async def record_step(
    uow: UnitOfWork,
    row: asyncpg.Record,
    *,
    step: StepKind,
    occurred_on: date,
    documents: list[DocumentRef],
    amount_awarded: Decimal | None,
    award_final: bool | None,
    explanation: list[str],
    next_clocks: list[clocks.Clock],
    recorded_by: str,
) -> int:
    if row["status"] not in ("assigned", "provisional"):
        raise Refused(409, "只有已指派律师、正在办理的援助案件才能登记办理进展")
    step_no = await uow.conn.fetchval(
        "SELECT coalesce(max(step_no), 0) + 1 FROM steps WHERE application_id = $1",
        row["application_id"],
    )
    await uow.conn.execute(
        """INSERT INTO steps (application_id, step_no, step, occurred_on, documents,
               amount_awarded, award_final, explanation, recorded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        row["application_id"],
        step_no,
        step,
        occurred_on,
        [d.model_dump() for d in documents],
        amount_awarded,
        award_final,
        explanation,
        recorded_by,
    )
    clock_rows = [
        {
            "kind": c.kind,
            "rule_id": c.rule_id,
            "due_on": c.due_on.isoformat(),
            "review": list(c.review),
        }
        for c in next_clocks
    ]
    await uow.conn.execute(
        """UPDATE applications SET clocks = $2,
               amount_awarded = CASE WHEN $3::numeric IS NULL THEN amount_awarded ELSE $3 END
           WHERE application_id = $1""",
        row["application_id"],
        clock_rows,
        amount_awarded,
    )
    uow.emit(
        LegalAidStepRecorded(
            **names(row),
            step=step,
            occurred_on=occurred_on,
            documents=documents,
            amount_awarded=amount_awarded,
            award_final=award_final,
            next_due_on=min((c.due_on for c in next_clocks), default=None),
            lawyer_code=row["lawyer_code"],
            recorded_at=now(),
        ),
        subject=str(row["application_id"]),
    )
    return int(step_no)


async def close(
    uow: UnitOfWork,
    row: asyncpg.Record,
    *,
    reason: ClosureReason,
    amount_recovered: Decimal,
    satisfaction: int | None,
    today: date,
    cause: Envelope | None = None,
) -> None:
    if row["status"] == "closed":
        raise Refused(409, "该申请已结案")
    granted = row["decision"] is not None and _json(row["decision"])["outcome"] == "granted"
    updated = await uow.conn.fetchrow(
        """UPDATE applications SET status = 'closed', closure_reason = $2, closed_on = $3,
               amount_recovered = amount_recovered + $4, satisfaction = $5
           WHERE application_id = $1 RETURNING *""",
        row["application_id"],
        reason,
        today,
        amount_recovered,
        satisfaction,
    )
    uow.emit(
        LegalAidClosed(
            **names(updated),
            reason=reason,
            granted=granted or row["provisional"],
            concluded=reason in CONCLUDED,
            amount_awarded=updated["amount_awarded"],
            amount_recovered=updated["amount_recovered"],
            satisfaction=satisfaction,
            worker_refs=list(updated["worker_refs"]),
            closed_on=today,
            closed_at=now(),
        ),
        subject=str(row["application_id"]),
        caused_by=cause,
    )


async def record_satisfaction(
    uow: UnitOfWork, row: asyncpg.Record, satisfaction: int, cause: Envelope | None = None
) -> None:
    if row["status"] != "closed":
        raise Refused(409, "结案后才能登记满意度")
    if row["satisfaction"] is not None:
        raise Refused(409, "满意度已登记")
    await uow.conn.execute(
        "UPDATE applications SET satisfaction = $2 WHERE application_id = $1",
        row["application_id"],
        satisfaction,
    )
    uow.emit(
        LegalAidSatisfactionRecorded(**names(row), satisfaction=satisfaction, recorded_at=now()),
        subject=str(row["application_id"]),
        caused_by=cause,
    )


async def withdraw_unanswered(uow: UnitOfWork, today: date, limit: int = 200) -> int:
    """Applications whose one request for documents went unanswered past its deadline are
    withdrawn (Art. 43). Documents received in full stop the clock."""
    rows = await uow.conn.fetch(
        """SELECT * FROM applications WHERE status = 'documents_requested'
               AND documents_due_on < $1
               AND NOT (documents_missing <@ documents_received)
           ORDER BY documents_due_on LIMIT $2 FOR UPDATE SKIP LOCKED""",
        today,
        limit,
    )
    for row in rows:
        await close(
            uow,
            row,
            reason="withdrawn_documents",
            amount_recovered=Decimal(0),
            satisfaction=None,
            today=today,
        )
    return len(rows)
