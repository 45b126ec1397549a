"""Outcomes in mediation's database: each change one unit of work with its event(s).

Rules come from :mod:`mediation.outcomes`; a rule broken is :class:`Refused` (a Chinese
message, 409 or 422 at the API). Money recovered is what ``instalment_paid`` says; the
overdue check raises ``instalment_overdue`` once per instalment (``overdue_raised_on`` is
set in the same transaction as the event).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from mediation import outcomes as rules
from weiquan_shared.auth import Principal
from weiquan_shared.envelope import Actor
from weiquan_shared.events.mediation import (
    AgreementItem,
    Instalment,
    MediationAgreementReached,
    MediationClosed,
    MediationConfirmationDecided,
    MediationConfirmationRequested,
    MediationFailed,
    MediationInstalmentOverdue,
    MediationInstalmentPaid,
    MediationPaymentOrderApplied,
    MediationWithdrawn,
)
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime
from weiquan_shared.uow import UnitOfWork


class Refused(Exception):
    """A rule keeps the change from being made: ``problems`` say why, in Chinese."""

    def __init__(self, status: int, *problems: str) -> None:
        super().__init__("；".join(problems))
        self.status = status
        self.problems = list(problems)


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Mediation:
    mediation_id: uuid.UUID
    number: str
    district_code: str
    category: str
    route_detail: str
    status: str
    received_on: date
    opened_on: date
    closed: bool
    lead_mediator_name: str | None
    case_ids: list[uuid.UUID]
    case_numbers: list[str]
    workers: list[str]  # worker_refs
    group_size: int

    def names(self) -> dict[str, Any]:
        return {
            "mediation_id": self.mediation_id,
            "mediation_number": self.number,
            "district_code": self.district_code,
            "case_ids": self.case_ids,
            "case_numbers": self.case_numbers,
        }


def _actor(principal: Principal) -> Actor:
    return Actor.user(principal.subject, principal.role)


async def load_mediation(
    conn: asyncpg.Connection, number: str, principal: Principal | None, *, lock: bool = False
) -> Mediation:
    """The mediation of that number within the person's districts (else :class:`NotFound`)."""
    row = await conn.fetchrow(
        f"""SELECT m.mediation_id, m.mediation_number, m.district_code, m.category,
                   m.route_detail, m.status, m.received_on, m.opened_at, m.closed_at,
                   m.lead_mediator_name
            FROM mediations m WHERE m.mediation_number = $1
            {"FOR UPDATE" if lock else ""}""",
        number,
    )
    if row is None or (principal is not None and not principal.covers(row["district_code"])):
        raise NotFound(number)
    cases = await conn.fetch(
        "SELECT case_id, case_number, workers FROM cases WHERE mediation_id = $1 "
        "ORDER BY case_number",
        row["mediation_id"],
    )
    workers: list[str] = []
    for case in cases:
        for w in _json(case["workers"]) or []:
            if w["worker_ref"] not in workers:
                workers.append(w["worker_ref"])
    return Mediation(
        mediation_id=row["mediation_id"],
        number=row["mediation_number"],
        district_code=row["district_code"],
        category=row["category"],
        route_detail=row["route_detail"],
        status=row["status"],
        received_on=row["received_on"],
        opened_on=row["opened_at"].date(),
        closed=row["closed_at"] is not None,
        lead_mediator_name=row["lead_mediator_name"],
        case_ids=[c["case_id"] for c in cases],
        case_numbers=[c["case_number"] for c in cases],
        workers=workers,
        group_size=len(workers),
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class OutcomesStore:
    def __init__(
        self,
        runtime: Runtime,
        cipher: PiiCipher,
        legal: LegalCalendar,
        *,
        invited_courts: dict[str, str],
    ) -> None:
        self._runtime = runtime
        self._cipher = cipher
        self.legal = legal
        # district -> the court whose court–union rooms invite the mediation (诉调对接)
        self._invited_courts = invited_courts

    def invited_court(self, mediation: Mediation) -> str | None:
        """A court–union room's mediation is one the court invited: that court confirms."""
        if mediation.route_detail != "mediation.court_union_room":
            return None
        return self._invited_courts.get(mediation.district_code)

    # ----------------------------------------------------------------- reading

    async def view(self, number: str, principal: Principal, today: date) -> dict[str, Any]:
        async with self._runtime.pool().acquire() as conn:
            mediation = await load_mediation(conn, number, principal)
            return await self._view(conn, mediation, today)

    async def _view(
        self, conn: asyncpg.Connection, mediation: Mediation, today: date
    ) -> dict[str, Any]:
        agreement = await conn.fetchrow(
            "SELECT * FROM agreements WHERE mediation_id = $1", mediation.mediation_id
        )
        records = await conn.fetch(
            "SELECT kind, reason, next_steps, withdrawn_by, worker_refs, recorded_at "
            "FROM outcome_records WHERE mediation_id = $1 ORDER BY recorded_at",
            mediation.mediation_id,
        )
        result: dict[str, Any] = {
            "mediation_number": mediation.number,
            "district_code": mediation.district_code,
            "status": mediation.status,
            "closed": mediation.closed,
            "case_numbers": mediation.case_numbers,
            "workers": mediation.workers,
            "invited_court": self.invited_court(mediation),
            "records": [dict(r) for r in records],
            "agreement": None,
        }
        if agreement is None:
            return result
        states = await self._instalments(conn, agreement["agreement_id"])
        window = rules.confirmation_window(agreement["effective_on"], self.legal)
        confirmation = await conn.fetchrow(
            "SELECT * FROM confirmations WHERE agreement_id = $1", agreement["agreement_id"]
        )
        order = await conn.fetchrow(
            "SELECT * FROM payment_orders WHERE agreement_id = $1", agreement["agreement_id"]
        )
        items = [rules.Item(**_item(i)) for i in _json(agreement["items"])]
        check = rules.payment_order_check(
            items,
            [s for _, s in states],
            today,
            confirmed=bool(confirmation and confirmation["ruling"] == "confirmed"),
            already_applied=order is not None,
        )
        result["agreement"] = {
            "agreement_id": agreement["agreement_id"],
            "partial": agreement["partial"],
            "items": _json(agreement["items"]),
            "total_amount": agreement["total_amount"],
            "effective_on": agreement["effective_on"],
            "document": agreement["document_generated_at"] is not None,
            "instalments": [
                {
                    "instalment_id": iid,
                    "number": s.number,
                    "due_on": s.due_on,
                    "amount": s.amount,
                    "paid": s.paid,
                    "overdue": rules.is_overdue(s, today),
                }
                for iid, s in states
            ],
            "recovered": rules.recovered(s for _, s in states),
            "confirmation_window": {
                "due_on": window.due_on,
                "days_left": window.days_left(today),
                "review": list(window.review),
            },
            "confirmation": dict(confirmation) if confirmation else None,
            "payment_order": dict(order) if order else None,
            "payment_order_check": {
                "eligible": check.eligible,
                "reasons": list(check.reasons),
                "items": list(check.items),
                "amount": check.amount,
            },
        }
        return result

    async def _instalments(
        self, conn: asyncpg.Connection, agreement_id: uuid.UUID, *, lock: bool = False
    ) -> list[tuple[uuid.UUID, rules.InstalmentState]]:
        rows = await conn.fetch(
            "SELECT instalment_id, number, due_on, amount, paid_amount FROM instalments "
            f"WHERE agreement_id = $1 ORDER BY number {'FOR UPDATE' if lock else ''}",
            agreement_id,
        )
        return [
            (
                r["instalment_id"],
                rules.InstalmentState(
                    r["number"], r["due_on"], r["amount"], r["paid_amount"] or Decimal(0)
                ),
            )
            for r in rows
        ]

    # ----------------------------------------------------------------- outcomes

    async def record_agreement(
        self,
        number: str,
        principal: Principal,
        *,
        items: list[rules.Item],
        instalments: list[rules.PlannedInstalment],
        effective_on: date,
        declared_partial: bool,
        today: date,
    ) -> uuid.UUID:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await self._open_mediation(uow, number, principal)
            if await uow.conn.fetchval(
                "SELECT 1 FROM agreements WHERE mediation_id = $1", mediation.mediation_id
            ):
                raise Refused(409, "本调解案件已登记调解协议")
            problems = rules.agreement_problems(
                items,
                instalments,
                workers=mediation.workers,
                effective_on=effective_on,
                received_on=mediation.received_on,
                today=today,
            )
            if problems:
                raise Refused(422, *problems)
            agreement_id = uuid.uuid4()
            partial = rules.is_partial(items, mediation.workers, declared_partial)
            total = sum((i.amount for i in items), Decimal(0))
            stored_items = [
                {
                    "worker_ref": i.worker_ref,
                    "item": i.item,
                    "amount": str(i.amount),
                    "label": i.label,
                }
                for i in items
            ]
            await uow.conn.execute(
                """INSERT INTO agreements (agreement_id, mediation_id, partial, items,
                       total_amount, effective_on, invited_court, recorded_by)
                   VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)""",
                agreement_id,
                mediation.mediation_id,
                partial,
                json.dumps(stored_items, ensure_ascii=False),
                total,
                effective_on,
                self.invited_court(mediation),
                principal.subject,
            )
            planned = [
                Instalment(
                    instalment_id=uuid.uuid4(), number=p.number, due_on=p.due_on, amount=p.amount
                )
                for p in instalments
            ]
            await uow.conn.executemany(
                "INSERT INTO instalments (instalment_id, agreement_id, number, due_on, amount) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(p.instalment_id, agreement_id, p.number, p.due_on, p.amount) for p in planned],
            )
            await uow.conn.execute(
                "UPDATE mediations SET status = 'agreed' WHERE mediation_id = $1",
                mediation.mediation_id,
            )
            uow.emit(
                MediationAgreementReached(
                    **mediation.names(),
                    agreement_id=agreement_id,
                    partial=partial,
                    items=[
                        AgreementItem(
                            worker_ref=i.worker_ref, item=i.item, amount=i.amount, label=i.label
                        )
                        for i in items
                    ],
                    total_amount=total,
                    instalments=planned,
                    effective_on=effective_on,
                    reached_at=datetime.now(UTC),
                ),
                subject=str(mediation.mediation_id),
            )
        return agreement_id

    async def record_failure(
        self, number: str, principal: Principal, *, reason: str, next_steps: list[str]
    ) -> None:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await self._open_mediation(uow, number, principal)
            if await uow.conn.fetchval(
                "SELECT 1 FROM agreements WHERE mediation_id = $1", mediation.mediation_id
            ):
                raise Refused(
                    409,
                    "本调解案件已达成协议，不能再登记调解不成；协议未履行的，可申请支付令或仲裁",
                )
            await uow.conn.execute(
                """INSERT INTO outcome_records (record_id, mediation_id, kind, reason,
                       next_steps, recorded_by) VALUES ($1, $2, 'failed', $3, $4, $5)""",
                uuid.uuid4(),
                mediation.mediation_id,
                reason,
                next_steps,
                principal.subject,
            )
            now = datetime.now(UTC)
            uow.emit(
                MediationFailed(
                    **mediation.names(),
                    reason=reason,
                    next_steps=next_steps,
                    failed_at=now,
                ),
                subject=str(mediation.mediation_id),
            )
            await self._close(uow, mediation, "failed", now)

    async def record_withdrawal(
        self,
        number: str,
        principal: Principal,
        *,
        withdrawn_by: str,
        reason: str,
        worker_refs: list[str],
    ) -> bool:
        """Record a withdrawal; True when it ends the mediation (all its workers withdrew)."""
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await self._open_mediation(uow, number, principal)
            if await uow.conn.fetchval(
                "SELECT 1 FROM agreements WHERE mediation_id = $1", mediation.mediation_id
            ):
                raise Refused(409, "本调解案件已达成协议，不能再撤回调解申请")
            unknown = [w for w in worker_refs if w not in mediation.workers]
            if unknown:
                raise Refused(422, "所列撤回的职工不在本调解案件中，请从本案职工中选择")
            withdrawn_before = {
                w
                for r in await uow.conn.fetch(
                    "SELECT worker_refs FROM outcome_records WHERE mediation_id = $1 "
                    "AND kind = 'withdrawn'",
                    mediation.mediation_id,
                )
                for w in r["worker_refs"]
            }
            everyone = not worker_refs or set(mediation.workers) <= withdrawn_before | set(
                worker_refs
            )
            await uow.conn.execute(
                """INSERT INTO outcome_records (record_id, mediation_id, kind, reason,
                       withdrawn_by, worker_refs, recorded_by)
                   VALUES ($1, $2, 'withdrawn', $3, $4, $5, $6)""",
                uuid.uuid4(),
                mediation.mediation_id,
                reason,
                withdrawn_by,
                worker_refs,
                principal.subject,
            )
            now = datetime.now(UTC)
            uow.emit(
                MediationWithdrawn(
                    **mediation.names(),
                    withdrawn_by=withdrawn_by,
                    reason=reason,
                    worker_refs=worker_refs,
                    withdrawn_at=now,
                ),
                subject=str(mediation.mediation_id),
            )
            if everyone:
                await self._close(uow, mediation, "withdrawn", now)
        return everyone

    async def request_confirmation(
        self,
        number: str,
        principal: Principal,
        *,
        court: rules.CourtChoice,
        applied_on: date,
        both_parties: bool,
        today: date,
    ) -> date:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await load_mediation(uow.conn, number, principal, lock=True)
            agreement = await self._agreement(uow.conn, mediation)
            window = rules.confirmation_window(agreement["effective_on"], self.legal)
            already = await uow.conn.fetchval(
                "SELECT 1 FROM confirmations WHERE agreement_id = $1", agreement["agreement_id"]
            )
            problems = rules.confirmation_problems(
                window=window,
                applied_on=applied_on,
                today=today,
                both_parties=both_parties,
                court=court,
                invited_court=agreement["invited_court"],
                already_requested=bool(already),
            )
            if problems:
                raise Refused(409 if already else 422, *problems)
            await uow.conn.execute(
                """INSERT INTO confirmations (agreement_id, court_name, court_basis, intermediate,
                       applied_on, window_due_on, requested_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                agreement["agreement_id"],
                court.court_name.strip(),
                court.basis,
                court.intermediate,
                applied_on,
                window.due_on,
                principal.subject,
            )
            uow.emit(
                MediationConfirmationRequested(
                    **mediation.names(),
                    agreement_id=agreement["agreement_id"],
                    court_name=court.court_name.strip(),
                    court_basis=court.basis,
                    applied_on=applied_on,
                    window_due_on=window.due_on,
                ),
                subject=str(mediation.mediation_id),
            )
        return window.due_on

    async def decide_confirmation(
        self,
        number: str,
        principal: Principal,
        *,
        ruling: str,
        ruling_number: str | None,
        decided_on: date,
        today: date,
    ) -> None:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await load_mediation(uow.conn, number, principal, lock=True)
            agreement = await self._agreement(uow.conn, mediation)
            row = await uow.conn.fetchrow(
                "SELECT applied_on, ruling FROM confirmations WHERE agreement_id = $1",
                agreement["agreement_id"],
            )
            if row is None:
                raise Refused(409, "本协议尚未申请司法确认，请先登记申请")
            if row["ruling"] is not None:
                raise Refused(409, "已登记法院的裁定结果")
            problems = []
            if decided_on < row["applied_on"]:
                problems.append("裁定日期不能早于申请日期")
            if decided_on > today:
                problems.append("裁定日期不能晚于今天")
            if ruling == "confirmed" and not (ruling_number and ruling_number.strip()):
                problems.append("裁定确认有效的，请填写法院裁定书的案号")
            if problems:
                raise Refused(422, *problems)
            await uow.conn.execute(
                """UPDATE confirmations SET ruling = $2, ruling_number = $3, decided_on = $4,
                       decided_by = $5 WHERE agreement_id = $1""",
                agreement["agreement_id"],
                ruling,
                ruling_number,
                decided_on,
                principal.subject,
            )
            uow.emit(
                MediationConfirmationDecided(
                    **mediation.names(),
                    agreement_id=agreement["agreement_id"],
                    ruling=ruling,
                    ruling_number=ruling_number,
                    decided_on=decided_on,
                ),
                subject=str(mediation.mediation_id),
            )

    async def apply_payment_order(
        self, number: str, principal: Principal, *, court_name: str, applied_on: date, today: date
    ) -> rules.PaymentOrderDates:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await load_mediation(uow.conn, number, principal, lock=True)
            agreement = await self._agreement(uow.conn, mediation)
            states = [s for _, s in await self._instalments(uow.conn, agreement["agreement_id"])]
            confirmed = await uow.conn.fetchval(
                "SELECT ruling = 'confirmed' FROM confirmations WHERE agreement_id = $1",
                agreement["agreement_id"],
            )
            already = await uow.conn.fetchval(
                "SELECT 1 FROM payment_orders WHERE agreement_id = $1", agreement["agreement_id"]
            )
            items = [rules.Item(**_item(i)) for i in _json(agreement["items"])]
            check = rules.payment_order_check(
                items, states, applied_on, confirmed=bool(confirmed), already_applied=bool(already)
            )
            problems = [] if check.eligible else [r for r in check.reasons if "强制执行" not in r]
            if applied_on > today:
                problems.append("申请日期不能晚于今天")
            if not court_name.strip():
                problems.append("请填写受理支付令申请的基层人民法院名称")
            if problems:
                raise Refused(409 if already else 422, *problems)
            dates = rules.payment_order_dates(applied_on, self.legal)
            await uow.conn.execute(
                """INSERT INTO payment_orders (payment_order_id, agreement_id, court_name, items,
                       amount, applied_on, acceptance_notice_by, order_by, applied_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                uuid.uuid4(),
                agreement["agreement_id"],
                court_name.strip(),
                list(check.items),
                check.amount,
                applied_on,
                dates.acceptance_notice_by,
                dates.order_by,
                principal.subject,
            )
            uow.emit(
                MediationPaymentOrderApplied(
                    **mediation.names(),
                    agreement_id=agreement["agreement_id"],
                    court_name=court_name.strip(),
                    items=list(check.items),
                    amount=check.amount,
                    applied_on=applied_on,
                ),
                subject=str(mediation.mediation_id),
            )
        return dates

    async def record_payment(
        self,
        number: str,
        principal: Principal,
        *,
        instalment_number: int,
        amount: Decimal,
        paid_on: date,
        evidence: str,
        today: date,
    ) -> bool:
        """Record an instalment's payment; True when it completes the agreement (closed)."""
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await load_mediation(uow.conn, number, principal, lock=True)
            agreement = await self._agreement(uow.conn, mediation)
            states = await self._instalments(uow.conn, agreement["agreement_id"], lock=True)
            found = [(i, s) for i, s in states if s.number == instalment_number]
            if not found:
                raise NotFound(f"{number}#{instalment_number}")
            instalment_id, state = found[0]
            problems = rules.payment_problems(
                state,
                amount=amount,
                paid_on=paid_on,
                effective_on=agreement["effective_on"],
                today=today,
            )
            if problems:
                raise Refused(409 if state.paid > 0 else 422, *problems)
            await uow.conn.execute(
                """UPDATE instalments SET paid_amount = $2, paid_on = $3, evidence = $4,
                       paid_recorded_by = $5, paid_recorded_at = now()
                   WHERE instalment_id = $1""",
                instalment_id,
                amount,
                paid_on,
                evidence,
                principal.subject,
            )
            after = [
                rules.InstalmentState(s.number, s.due_on, s.amount, amount)
                if i == instalment_id
                else s
                for i, s in states
            ]
            now = datetime.now(UTC)
            uow.emit(
                MediationInstalmentPaid(
                    **mediation.names(),
                    agreement_id=agreement["agreement_id"],
                    instalment_id=instalment_id,
                    number=instalment_number,
                    amount_paid=amount,
                    paid_on=paid_on,
                    evidence=evidence,
                    paid_to_date=rules.recovered(after),
                ),
                subject=str(mediation.mediation_id),
            )
            done = rules.fulfilled(after) and not mediation.closed
            if done:
                await self._close(
                    uow,
                    mediation,
                    "fulfilled",
                    now,
                    agreed=agreement["total_amount"],
                    recovered=rules.recovered(after),
                )
        return done

    # ----------------------------------------------------------------- the document

    async def agreement_facts(
        self, number: str, principal: Principal
    ) -> tuple[Mediation, asyncpg.Record, list[dict[str, Any]]]:
        async with self._runtime.pool().acquire() as conn:
            mediation = await load_mediation(conn, number, principal)
            agreement = await self._agreement(conn, mediation)
            instalments = await conn.fetch(
                "SELECT number, due_on, amount FROM instalments WHERE agreement_id = $1 "
                "ORDER BY number",
                agreement["agreement_id"],
            )
        return mediation, agreement, [dict(r) for r in instalments]

    async def store_document(
        self, mediation: Mediation, agreement_id: uuid.UUID, principal: Principal, pdf: bytes
    ) -> None:
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            sealed = self._cipher.encrypt(pdf.hex(), f"agreements.document:{agreement_id}")
            await uow.conn.execute(
                """UPDATE agreements SET document_enc = $2, document_sha256 = $3,
                       document_generated_by = $4, document_generated_at = now()
                   WHERE agreement_id = $1""",
                agreement_id,
                sealed,
                hashlib.sha256(pdf).hexdigest(),
                principal.subject,
            )
            uow.audit(
                "agreement.generated",
                case_id=mediation.case_ids[0] if mediation.case_ids else None,
                case_number=mediation.case_numbers[0] if mediation.case_numbers else None,
                district_code=mediation.district_code,
                detail=f"mediation {mediation.number}, {len(pdf)} bytes",
            )

    async def download_document(
        self, number: str, principal: Principal, reason: str
    ) -> tuple[str, bytes]:
        """The PDF, decrypted; the download is audited with its reason."""
        async with self._runtime.unit_of_work(_actor(principal)) as uow:
            mediation = await load_mediation(uow.conn, number, principal)
            row = await uow.conn.fetchrow(
                "SELECT agreement_id, document_enc FROM agreements WHERE mediation_id = $1",
                mediation.mediation_id,
            )
            if row is None or row["document_enc"] is None:
                raise Refused(409, "尚未生成调解协议书，请先生成")
            pdf = bytes.fromhex(
                self._cipher.decrypt(
                    row["document_enc"], f"agreements.document:{row['agreement_id']}"
                )
            )
            uow.audit(
                "agreement.downloaded",
                case_id=mediation.case_ids[0] if mediation.case_ids else None,
                case_number=mediation.case_numbers[0] if mediation.case_numbers else None,
                district_code=mediation.district_code,
                reason=reason,
                detail=f"mediation {mediation.number}",
            )
        return mediation.number, pdf

    # ----------------------------------------------------------------- the overdue check

    async def raise_overdue(self, today: date, limit: int = 200) -> int:
        """Raise ``instalment_overdue`` for instalments overdue today and not yet raised;
        once per instalment (the mark is written with the event). Returns how many."""
        async with self._runtime.unit_of_work(Actor.system("mediation")) as uow:
            rows = await uow.conn.fetch(
                """SELECT i.instalment_id, i.agreement_id, i.number, i.due_on, i.amount,
                          coalesce(i.paid_amount, 0) AS paid, m.mediation_number
                   FROM instalments i
                   JOIN agreements a USING (agreement_id)
                   JOIN mediations m USING (mediation_id)
                   WHERE i.overdue_raised_on IS NULL
                     AND (i.paid_amount IS NULL OR i.paid_amount < i.amount)
                     AND i.due_on < $1
                   ORDER BY i.due_on LIMIT $2
                   FOR UPDATE OF i SKIP LOCKED""",
                today,
                limit,
            )
            for row in rows:
                mediation = await load_mediation(uow.conn, row["mediation_number"], None)
                await uow.conn.execute(
                    "UPDATE instalments SET overdue_raised_on = $2 WHERE instalment_id = $1",
                    row["instalment_id"],
                    today,
                )
                uow.emit(
                    MediationInstalmentOverdue(
                        **mediation.names(),
                        agreement_id=row["agreement_id"],
                        instalment_id=row["instalment_id"],
                        number=row["number"],
                        amount_due=row["amount"],
                        amount_paid=row["paid"],
                        due_on=row["due_on"],
                        detected_on=today,
                    ),
                    subject=str(mediation.mediation_id),
                )
        return len(rows)

    # ----------------------------------------------------------------- helpers

    async def _open_mediation(
        self, uow: UnitOfWork, number: str, principal: Principal
    ) -> Mediation:
        mediation = await load_mediation(uow.conn, number, principal, lock=True)
        if mediation.closed:
            raise Refused(409, "本调解案件已结案")
        return mediation

    async def _agreement(self, conn: asyncpg.Connection, mediation: Mediation) -> asyncpg.Record:
        agreement = await conn.fetchrow(
            "SELECT * FROM agreements WHERE mediation_id = $1", mediation.mediation_id
        )
        if agreement is None:
            raise Refused(409, "本调解案件尚未登记调解协议")
        return agreement

    async def _close(
        self,
        uow: UnitOfWork,
        mediation: Mediation,
        result: str,
        now: datetime,
        *,
        agreed: Decimal = Decimal(0),
        recovered: Decimal = Decimal(0),
    ) -> None:
        status = {"failed": "failed", "withdrawn": "withdrawn"}.get(result, "closed")
        await uow.conn.execute(
            """UPDATE mediations SET status = $2, closed_at = $3, closed_result = $4
               WHERE mediation_id = $1""",
            mediation.mediation_id,
            status,
            now,
            result,
        )
        uow.emit(
            MediationClosed(
                **mediation.names(),
                result=result,
                amount_agreed=agreed,
                amount_recovered=recovered,
                worker_count=mediation.group_size,
                opened_on=mediation.opened_on,
                closed_at=now,
            ),
            subject=str(mediation.mediation_id),
        )


def _item(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        "worker_ref": stored["worker_ref"],
        "item": stored["item"],
        "amount": Decimal(str(stored["amount"])),
        "label": stored.get("label"),
    }
