"""The case file in PostgreSQL: notes, contacts, the responsible person, consent, voiding,
and finding a case by what people know of it.

A note's text and a contact's remark are stored only as AES-GCM ciphertext bound to their
row (``case_notes.text:<id>``); the events carry who wrote what kind of entry and when,
never the words. Every change is one unit of work with its event; the acting person is the
signed-in user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from math import ceil
from typing import Any, Literal

import asyncpg

from intake import employer_contact
from intake.domain import EmployerContactIn
from intake.domain_casework import (
    AssignmentIn,
    AssignmentRefused,
    ContactIn,
    NoteIn,
    Query,
    decide_assignment,
    distinct_scopes,
)
from intake.employer_contact import EmployerContact
from weiquan_shared.consent import Gate
from weiquan_shared.envelope import Actor
from weiquan_shared.events.casework import (
    CaseAssigned,
    CaseConsentRecorded,
    CaseContactRecorded,
    CaseNoteAdded,
    CaseVoided,
    ConsentScope,
    VoidReason,
)
from weiquan_shared.labels import status_label
from weiquan_shared.pii import PiiCipher, mask_name
from weiquan_shared.settings import Settings
from weiquan_shared.uow import UnitOfWork, unit_of_work

# Results of one search, at most (newest first).
SEARCH_RESULTS = 50


@dataclass(frozen=True)
class SearchLimit:
    """At most ``searches`` searches by personal data per person in ``window_s`` seconds."""

    searches: int
    window_s: int


class CaseFileError(Exception):
    """A request the case file refuses: the HTTP status and a Chinese message."""

    def __init__(self, status: int, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.path = path


def not_found(number: str) -> CaseFileError:
    return CaseFileError(
        404,
        f"未找到案件编号 {number}（或不在您的工作范围内），请核对（格式如 440305-2026-000123）",
    )


def _voided(number: str, what: str) -> CaseFileError:
    return CaseFileError(409, f"案件 {number} 已作废，不能再{what}；如作废有误，请联系督导/领导")


@dataclass(frozen=True)
class Written:
    id: uuid.UUID
    created: bool  # False: the same Idempotency-Key and body came before (a replay)


@dataclass(frozen=True)
class SearchOutcome:
    cases: list[dict[str, Any]]
    retry_after_s: int | None = None


async def assign(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    number: str,
    district: str,
    *,
    assignee_id: str,
    assignee_name: str,
    previous: str | None,
    reason: str | None,
) -> None:
    now = datetime.now(UTC)
    await uow.conn.execute(
        "UPDATE cases SET assignee_id = $2, assignee_name = $3, assigned_at = $4 WHERE id = $1",
        case_id,
        assignee_id,
        assignee_name,
        now,
    )
    uow.emit(
        CaseAssigned(
            case_id=case_id,
            case_number=number,
            district_code=district,
            assignee_id=assignee_id,
            assignee_name=assignee_name,
            previous_assignee_id=previous,
            reason=reason,
            assigned_at=now,
        ),
        subject=str(case_id),
    )


async def record_consent(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    number: str,
    district: str,
    *,
    scopes: list[ConsentScope],
    wording_version: str,
    obtained_by: Literal["intake_form", "case_page"],
) -> None:
    now = datetime.now(UTC)
    scopes = distinct_scopes(scopes)
    await uow.conn.execute(
        "UPDATE cases SET sharing_consent = $2, sharing_consent_version = $3, "
        "sharing_consent_at = $4 WHERE id = $1",
        case_id,
        scopes,
        wording_version,
        now,
    )
    await uow.conn.execute(
        "INSERT INTO case_consents (id, case_id, scopes, wording_version, obtained_by, "
        "recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        uuid.uuid4(),
        case_id,
        scopes,
        wording_version,
        obtained_by,
        uow.actor.id,
        now,
    )
    uow.emit(
        CaseConsentRecorded(
            case_id=case_id,
            case_number=number,
            district_code=district,
            scopes=scopes,
            wording_version=wording_version,
            obtained_by=obtained_by,
            recorded_at=now,
        ),
        subject=str(case_id),
    )


async def within_search_limit(
    uow: UnitOfWork, limit: SearchLimit, action: str, reason: str
) -> int | None:
    """Count one search by personal data for the actor; None when allowed, else the
    seconds to wait (the refusal audited). The count lives in PostgreSQL, so every instance
    shares it; a lock per person makes two concurrent searches count one after the other."""
    conn, actor = uow.conn, uow.actor
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"mobile:{actor.id}"
    )
    await conn.execute(
        "DELETE FROM mobile_searches WHERE subject = $1 "
        "AND searched_at <= now() - make_interval(secs => $2)",
        actor.id,
        float(limit.window_s),
    )
    used = await conn.fetchrow(
        "SELECT count(*) AS n, min(searched_at) AS oldest, now() AS now "
        "FROM mobile_searches WHERE subject = $1",
        actor.id,
    )
    if used["n"] >= limit.searches:
        waited = (used["now"] - used["oldest"]).total_seconds()
        uow.audit(
            action,
            outcome="denied",
            reason=reason,
            detail=f"rate limited: {used['n']} searches in {limit.window_s} s",
        )
        return max(1, ceil(limit.window_s - waited))
    await conn.execute(
        "INSERT INTO mobile_searches (subject, searched_at) VALUES ($1, now())", actor.id
    )
    return None


_CASE_FOR_UPDATE = """
SELECT id, case_number, district_code, assignee_id, voided_at
FROM cases WHERE case_number = $1 AND district_code = ANY($2::text[]) FOR UPDATE
"""

# Which cases a recognised query finds (each in the searcher's districts).
_SEARCH_WHERE: dict[str, str] = {
    "case_number": "c.case_number = $1",
    "mobile": "EXISTS (SELECT 1 FROM case_workers w WHERE w.case_id = c.id "
    "AND w.mobile_index = $1)",
    "id_number": "EXISTS (SELECT 1 FROM case_workers w WHERE w.case_id = c.id "
    "AND w.id_number_index = $1)",
    # A name-shaped query may also be part of an employer's name (鹏程): both are searched.
    "worker_name": "(EXISTS (SELECT 1 FROM case_workers w WHERE w.case_id = c.id "
    "AND w.name_index = $1) OR strpos(lower(c.employer_name), lower($3)) > 0)",
    "credit_code": "c.employer_credit_code = $1",
    "employer_name": "strpos(lower(c.employer_name), lower($1)) > 0",
}
SEARCH_AUDIT_ACTIONS = {
    "mobile": "case.searched_by_mobile",
    "id_number": "case.searched_by_id_number",
    "worker_name": "case.searched_by_name",
}


class CaseFileStore:
    def __init__(self, pool: asyncpg.Pool, cipher: PiiCipher, settings: Settings) -> None:
        self._pool = pool
        self._cipher = cipher
        self._settings = settings

    def _uow(self, actor: Actor) -> Any:
        return unit_of_work(self._pool, self._settings, actor)

    async def _case(self, uow: UnitOfWork, number: str, districts: Sequence[str]) -> asyncpg.Record:
        case = await uow.conn.fetchrow(_CASE_FOR_UPDATE, number, list(districts))
        if case is None:
            raise not_found(number)
        return case

    # ------------------------------------------------------------------ notes, contacts

    async def entries(
        self,
        actor: Actor,
        number: str,
        districts: Sequence[str],
        gate: Callable[[list[str]], Gate],
    ) -> list[dict[str, Any]]:
        """Every note and contact of the case, newest first, their words decrypted; the
        read is audited (``case.notes_read``). Their words may hold personal data, so
        someone outside the union reads them only with the worker's consent (``gate``)."""
        async with self._uow(actor) as uow:
            case = await uow.conn.fetchrow(
                "SELECT id, district_code, sharing_consent FROM cases "
                "WHERE case_number = $1 AND district_code = ANY($2::text[])",
                number,
                list(districts),
            )
            if case is None:
                raise not_found(number)
            allowed = gate(list(case["sharing_consent"]))
            if not allowed.allowed:
                raise CaseFileError(403, allowed.missing or "未取得职工的单独同意")
            rows = await uow.conn.fetch(
                "SELECT id, kind, text_enc, method, outcome, next_action_on, author_name, "
                "written_at FROM case_notes WHERE case_id = $1 "
                "ORDER BY written_at DESC, id DESC",
                case["id"],
            )
            uow.audit(
                "case.notes_read",
                case_id=case["id"],
                case_number=number,
                district_code=case["district_code"],
                detail=f"{len(rows)} entries",
            )
        decrypt = self._cipher.decrypt
        return [
            {
                "id": row["id"],
                "kind": row["kind"],
                "text": decrypt(row["text_enc"], f"case_notes.text:{row['id']}")
                if row["text_enc"]
                else None,
                "method": row["method"],
                "outcome": row["outcome"],
                "next_action_on": row["next_action_on"],
                "author_name": row["author_name"],
                "at": row["written_at"],
            }
            for row in rows
        ]

    async def write(
        self,
        actor: Actor,
        author_name: str,
        number: str,
        districts: Sequence[str],
        entry: NoteIn | ContactIn,
        idempotency_key: str | None,
        request_digest: str,
    ) -> Written:
        """Add a note or a contact once per Idempotency-Key (per author): the same key and
        body again is a replay, the same key with another body a 409."""
        request_hash = self._cipher.blind_index(request_digest, "request")
        try:
            return await self._write(
                actor, author_name, number, districts, entry, idempotency_key, request_hash
            )
        except asyncpg.UniqueViolationError:
            # The same key sent twice at once: the other request stored it first.
            return await self._write(
                actor, author_name, number, districts, entry, idempotency_key, request_hash
            )

    async def _write(
        self,
        actor: Actor,
        author_name: str,
        number: str,
        districts: Sequence[str],
        entry: NoteIn | ContactIn,
        idempotency_key: str | None,
        request_hash: str,
    ) -> Written:
        kind = "note" if isinstance(entry, NoteIn) else "contact"
        async with self._uow(actor) as uow:
            conn = uow.conn
            case = await self._case(uow, number, districts)
            if idempotency_key is not None:
                earlier = await conn.fetchrow(
                    "SELECT id, request_hash FROM case_notes "
                    "WHERE author_id = $1 AND idempotency_key = $2",
                    actor.id,
                    idempotency_key,
                )
                if earlier is not None:
                    if earlier["request_hash"] != request_hash:
                        raise CaseFileError(
                            409,
                            f"这个请求编号（Idempotency-Key：{idempotency_key}）已用于另一条"
                            "内容不同的记录，本次未保存。如是新的记录，请刷新页面后重新提交。",
                            path="Idempotency-Key",
                        )
                    return Written(earlier["id"], created=False)
            if case["voided_at"] is not None:
                raise _voided(number, "添加记录或联系记录")
            entry_id = uuid.uuid4()
            now = datetime.now(UTC)
            words = entry.text if isinstance(entry, NoteIn) else entry.remark
            method = outcome = None
            next_action_on: date | None = None
            if isinstance(entry, ContactIn):
                method, outcome, next_action_on = (
                    entry.method,
                    entry.outcome,
                    entry.next_action_on,
                )
            await conn.execute(
                """INSERT INTO case_notes (id, case_id, kind, text_enc, method, outcome,
                       next_action_on, author_id, author_name, written_at, idempotency_key,
                       request_hash)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
                entry_id,
                case["id"],
                kind,
                self._cipher.encrypt(words, f"case_notes.text:{entry_id}") if words else None,
                method,
                outcome,
                next_action_on,
                actor.id,
                author_name,
                now,
                idempotency_key,
                request_hash,
            )
            common = {
                "case_id": case["id"],
                "case_number": number,
                "district_code": case["district_code"],
                "author_name": author_name,
            }
            if isinstance(entry, NoteIn):
                uow.emit(
                    CaseNoteAdded(**common, note_id=entry_id, written_at=now),
                    subject=str(case["id"]),
                )
            else:
                uow.emit(
                    CaseContactRecorded(
                        **common,
                        contact_id=entry_id,
                        method=entry.method,
                        outcome=entry.outcome,
                        next_action_on=entry.next_action_on,
                        contacted_at=now,
                    ),
                    subject=str(case["id"]),
                )
        return Written(entry_id, created=True)

    # ------------------------------------------------------------------ responsible person

    async def assign(
        self,
        actor: Actor,
        my_name: str,
        number: str,
        districts: Sequence[str],
        body: AssignmentIn,
    ) -> dict[str, Any]:
        async with self._uow(actor) as uow:
            case = await self._case(uow, number, districts)
            if case["voided_at"] is not None:
                raise _voided(number, "指定承办人")
            try:
                decided = decide_assignment(
                    body,
                    me_id=actor.id,
                    me_name=my_name,
                    my_role=actor.role or "",
                    current_assignee=case["assignee_id"],
                )
            except AssignmentRefused as refused:
                raise CaseFileError(refused.status, refused.message) from None
            await assign(
                uow,
                case["id"],
                number,
                case["district_code"],
                assignee_id=decided.assignee_id,
                assignee_name=decided.assignee_name[:100],
                previous=case["assignee_id"],
                reason=decided.reason,
            )
        return {
            "case_number": number,
            "assignee_id": decided.assignee_id,
            "assignee_name": decided.assignee_name,
            "previous_assignee_id": case["assignee_id"],
        }

    # ------------------------------------------------------------------ consent

    async def record_consent(
        self,
        actor: Actor,
        number: str,
        districts: Sequence[str],
        scopes: list[ConsentScope],
        wording_version: str,
    ) -> list[ConsentScope]:
        """The worker's current separate consent, from the case page (a withdrawal is an
        empty list). Allowed on a voided case too: withdrawing is the worker's right."""
        async with self._uow(actor) as uow:
            case = await self._case(uow, number, districts)
            await record_consent(
                uow,
                case["id"],
                number,
                case["district_code"],
                scopes=scopes,
                wording_version=wording_version,
                obtained_by="case_page",
            )
        return distinct_scopes(scopes)

    # ------------------------------------------------------------------ employer's contact

    async def employer_contact(
        self, actor: Actor, number: str, districts: Sequence[str]
    ) -> tuple[EmployerContact | None, datetime | None]:
        """The employer's contact person, masked (as the case page shows it)."""
        async with self._uow(actor) as uow:
            case = await uow.conn.fetchrow(
                "SELECT id, employer_contact_enc, employer_contact_at FROM cases "
                "WHERE case_number = $1 AND district_code = ANY($2::text[])",
                number,
                list(districts),
            )
            if case is None:
                raise not_found(number)
            found = employer_contact.unseal(self._cipher, case["id"], case["employer_contact_enc"])
        return (found.masked() if found else None), case["employer_contact_at"]

    async def record_employer_contact(
        self, actor: Actor, number: str, districts: Sequence[str], contact: EmployerContactIn
    ) -> datetime:
        """Record (or correct) the employer's contact person from the case page."""
        async with self._uow(actor) as uow:
            case = await self._case(uow, number, districts)
            if case["voided_at"] is not None:
                raise _voided(number, "修改用人单位联系人")
            return await employer_contact.record(
                uow,
                self._cipher,
                case["id"],
                number,
                case["district_code"],
                contact,
                "case_page",
            )

    # ------------------------------------------------------------------ voiding

    async def void(
        self,
        actor: Actor,
        number: str,
        districts: Sequence[str],
        reason: VoidReason,
        duplicate_of: str | None,
    ) -> datetime:
        async with self._uow(actor) as uow:
            case = await self._case(uow, number, districts)
            if case["voided_at"] is not None:
                raise CaseFileError(
                    409,
                    f"案件 {number} 已于 {case['voided_at']:%Y-%m-%d %H:%M} 作废，无需再次作废",
                )
            if duplicate_of is not None:
                if duplicate_of == number:
                    raise CaseFileError(
                        422,
                        "重复的案件编号不能是本案自己，请填写与之重复的另一个案件编号",
                        path="duplicate_of",
                    )
                original = await uow.conn.fetchval(
                    "SELECT voided_at IS NULL FROM cases "
                    "WHERE case_number = $1 AND district_code = ANY($2::text[])",
                    duplicate_of,
                    list(districts),
                )
                if original is None:
                    raise CaseFileError(
                        422,
                        f"未找到案件编号 {duplicate_of}（或不在您的工作范围内），请核对",
                        path="duplicate_of",
                    )
                if not original:
                    raise CaseFileError(
                        422,
                        f"案件 {duplicate_of} 本身已作废，请填写保留的那个案件编号",
                        path="duplicate_of",
                    )
            now = datetime.now(UTC)
            await uow.conn.execute(
                "UPDATE cases SET voided_at = $2, void_reason = $3, duplicate_of = $4, "
                "status = 'voided' WHERE id = $1",
                case["id"],
                now,
                reason,
                duplicate_of,
            )
            uow.emit(
                CaseVoided(
                    case_id=case["id"],
                    case_number=number,
                    district_code=case["district_code"],
                    reason=reason,
                    duplicate_of=duplicate_of,
                    voided_at=now,
                ),
                subject=str(case["id"]),
            )
        return now

    # ------------------------------------------------------------------ finding a case

    async def search(
        self,
        actor: Actor,
        query: Query,
        lookup: str,
        districts: Sequence[str],
        reason: str,
        limit: SearchLimit,
    ) -> SearchOutcome:
        """Cases of ``districts`` matching ``query`` (``lookup`` is its value, or its keyed
        hash for personal data), newest first. A search by personal data counts against
        the person's limit and is audited, refused or not."""
        async with self._uow(actor) as uow:
            action = SEARCH_AUDIT_ACTIONS.get(query.kind)
            if action is not None:
                wait = await within_search_limit(uow, limit, action, reason)
                if wait is not None:
                    return SearchOutcome([], retry_after_s=wait)
            arguments: list[Any] = [lookup, list(districts)]
            if query.kind == "worker_name":
                arguments.append(query.value)
            rows = await uow.conn.fetch(
                f"""SELECT c.id, c.case_number, c.reported_at, c.status, c.employer_name,
                           c.voided_at
                    FROM cases c
                    WHERE {_SEARCH_WHERE[query.kind]} AND c.district_code = ANY($2::text[])
                    ORDER BY c.reported_at DESC, c.case_number DESC
                    LIMIT {SEARCH_RESULTS}""",
                *arguments,
            )
            workers = await uow.conn.fetch(
                "SELECT case_id, id, name_enc FROM case_workers WHERE case_id = ANY($1::uuid[]) "
                "ORDER BY case_id, position",
                [r["id"] for r in rows],
            )
            if action is not None:
                found = [r["case_number"] for r in rows]
                uow.audit(
                    action,
                    reason=reason,
                    detail=f"{len(found)} cases: {', '.join(found[:20])}" if found else "0 cases",
                )
        names: dict[uuid.UUID, list[str]] = {}
        for worker in workers:
            name = self._cipher.decrypt(worker["name_enc"], f"case_workers.name:{worker['id']}")
            names.setdefault(worker["case_id"], []).append(mask_name(name))
        return SearchOutcome(
            [
                {
                    "case_number": r["case_number"],
                    "reported_at": r["reported_at"],
                    "status": r["status"],
                    "status_label": status_label(r["status"]),
                    "worker_names_masked": names.get(r["id"], []),
                    "employer_name": r["employer_name"],
                    "voided": r["voided_at"] is not None,
                    "url": f"/projection/cases/{r['case_number']}",
                }
                for r in rows
            ]
        )
