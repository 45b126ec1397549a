"""Intake's PostgreSQL store: a case, its workers and its event in one transaction.

Personal data is written only as AES-GCM ciphertext bound to its table, column and row,
and found only by keyed hash; what it returns to the API is already masked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg

from intake import employer_contact
from intake.casefile import SearchLimit, record_consent, within_search_limit
from intake.domain import (
    CaseReport,
    ConsultationIn,
    DisputeIn,
    WorkerIdentity,
    case_number,
    case_reported,
    consultation_recorded,
    submission_digest,
)
from intake.domain_wechat import IDLE, Conversation, Turn, registered_reply, status_reply
from intake.employer_contact import EmployerContact
from intake.routes import RouteDecision
from weiquan_shared.envelope import Actor
from weiquan_shared.events.casework import CaseAssigned
from weiquan_shared.labels import status_label
from weiquan_shared.pii import PiiCipher, mask_id_number, mask_mobile, mask_name
from weiquan_shared.redaction import redact_text
from weiquan_shared.settings import Settings
from weiquan_shared.uow import UnitOfWork, unit_of_work

# A worker writing to the official account: not a signed-in user, and never named in events.
WECHAT_WORKER = Actor.public("wechat")

# The case and its workers in one statement (the workers as parallel arrays).
_INSERT_CASE_AND_WORKERS = """
WITH new_case AS (
    INSERT INTO cases (id, case_number, channel, channel_ref, district_code, employer_name,
        employer_credit_code, employer_industry, employer_address, description_enc,
        demands_enc, claim_amount, knew_of_infringement_on, employment_ended_on, reported_at,
        operator_id, centre, consent_wording_version, consent_given_at, wechat_openid_index,
        request_hash, assignee_id, assignee_name, assigned_at, wechat_openid_enc)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21, $34, $35, CASE WHEN $34::text IS NULL THEN NULL ELSE now() END, $36))
INSERT INTO case_workers (id, case_id, position, name_enc, mobile_enc, mobile_index,
    id_number_enc, id_number_index, is_migrant_worker, is_platform_worker, household_type,
    occupation_enc, name_index)
SELECT w.id, $1, w.position, w.name_enc, w.mobile_enc, w.mobile_index, w.id_number_enc,
    w.id_number_index, w.is_migrant, w.is_platform, w.household_type, w.occupation_enc,
    w.name_index
FROM unnest($22::uuid[], $23::int[], $24::bytea[], $25::bytea[], $26::text[], $27::bytea[],
            $28::text[], $29::bool[], $30::bool[], $31::text[], $32::bytea[], $33::text[])
    AS w(id, position, name_enc, mobile_enc, mobile_index, id_number_enc, id_number_index,
         is_migrant, is_platform, household_type, occupation_enc, name_index)
"""
_NEXT_SEQUENCE = """
INSERT INTO case_number_counters AS c (district_code, year, last_value) VALUES ($1, $2, 1)
ON CONFLICT (district_code, year) DO UPDATE SET last_value = c.last_value + 1
RETURNING last_value
"""


@dataclass(frozen=True)
class Registered:
    case_id: uuid.UUID
    case_number: str
    created: bool  # False when the same channel reference was registered before


@dataclass(frozen=True)
class RecordedConsultation:
    consultation_id: uuid.UUID
    created: bool


@dataclass(frozen=True)
class MobileSearchOutcome:
    cases: list[dict[str, Any]]
    retry_after_s: int | None = None  # set when the search was refused (rate limit)


@dataclass(frozen=True)
class Revealed:
    value: str | None  # None when the worker gave no such value (no ID number, say)


@dataclass(frozen=True)
class Contacts:
    mobiles: dict[int, str]  # worker position -> mobile
    wechat_openid: str | None  # the OpenID a WeChat case came from
    employer: EmployerContact | None = None  # the employer's contact person, when recorded


@dataclass(frozen=True)
class Party:
    position: int
    worker_ref: str  # as case.reported named the worker
    name: str
    id_number: str | None


@dataclass(frozen=True)
class Parties:
    workers: list[Party]
    employer_name: str
    employer_credit_code: str | None


# The encrypted columns of case_workers one may reveal (the column is <field>_enc).
RevealableField = Literal["name", "mobile", "id_number", "occupation"]


class ReusedKey(Exception):
    """A channel reference (idempotency key) came again with different content.

    Answering with the earlier result would lose the new submission; nothing is stored.
    """

    def __init__(self, channel: str, channel_ref: str) -> None:
        super().__init__(f"{channel} reference reused with a different body")
        self.channel = channel
        self.channel_ref = channel_ref


class CaseStore:
    def __init__(self, pool: asyncpg.Pool, cipher: PiiCipher, settings: Settings) -> None:
        self._pool = pool
        self._cipher = cipher
        self._settings = settings

    # ------------------------------------------------------------------ cases

    async def register(
        self,
        report: CaseReport,
        identities: list[WorkerIdentity],
        actor: Actor,
        actor_name: str | None = None,
    ) -> Registered:
        """Register ``report`` once per channel reference; a retry gets the same number.

        New submissions are the common case, so the insert is tried first (one round trip
        fewer than looking up first); a retry hits the unique (channel, channel_ref), its
        transaction rolls back with the counter increment, and the case already there is
        the answer. No number is used up and no event is written twice. The same reference
        with different content (another request hash) raises :class:`ReusedKey`.

        The staff member who registers the case is its first responsible person
        (``case.assigned`` in the same unit of work), and the worker's separate consent to
        share, when given on the form, is recorded with it (``case.consent_recorded``).
        """
        try:
            async with unit_of_work(self._pool, self._settings, actor) as uow:
                # Registered by staff: the person registering is responsible (承办人).
                assignee = (actor.id, (actor_name or actor.id)[:100])
                staff = actor.kind == "user"
                registered = await self._insert(
                    uow, report, identities, openid_index=None, assignee=assignee if staff else None
                )
                district = report.dispute.employer.district_code
                if staff:
                    uow.emit(
                        CaseAssigned(
                            case_id=registered.case_id,
                            case_number=registered.case_number,
                            district_code=district,
                            assignee_id=assignee[0],
                            assignee_name=assignee[1],
                            assigned_at=datetime.now(UTC),
                        ),
                        subject=str(registered.case_id),
                    )
                if report.dispute.sharing_consent:
                    await record_consent(
                        uow,
                        registered.case_id,
                        registered.case_number,
                        district,
                        scopes=list(report.dispute.sharing_consent),
                        wording_version=report.dispute.sharing_consent_wording_version,
                        obtained_by="intake_form",
                    )
                return registered
        except asyncpg.UniqueViolationError:
            row = await self._pool.fetchrow(
                "SELECT id, case_number, request_hash FROM cases "
                "WHERE channel = $1 AND channel_ref = $2",
                report.channel,
                report.channel_ref,
            )
            if row is None:
                raise
            if _conflicts(row["request_hash"], self._request_hash(report.digest)):
                raise ReusedKey(report.channel, report.channel_ref) from None
            return Registered(row["id"], row["case_number"], created=False)

    def _request_hash(self, digest: str | None) -> str | None:
        """The digest of a submission under the index key: the content stays unguessable."""
        return self._cipher.blind_index(digest, "request") if digest else None

    async def _insert(
        self,
        uow: UnitOfWork,
        report: CaseReport,
        identities: list[WorkerIdentity],
        openid_index: str | None,
        assignee: tuple[str, str] | None = None,
        openid: str | None = None,
    ) -> Registered:
        dispute = report.dispute
        employer = dispute.employer
        case_id = uuid.uuid4()
        encrypt = self._cipher.encrypt
        conn = uow.conn
        sequence = await conn.fetchval(
            _NEXT_SEQUENCE, employer.district_code, report.reported_at.year
        )
        number = case_number(employer.district_code, report.reported_at.year, sequence)
        workers = []
        for position, (worker, identity) in enumerate(
            zip(dispute.workers, identities, strict=True)
        ):
            worker_id = uuid.uuid4()
            workers.append(
                (
                    worker_id,
                    position,
                    encrypt(worker.name, f"case_workers.name:{worker_id}"),
                    encrypt(worker.mobile, f"case_workers.mobile:{worker_id}"),
                    identity.mobile_index,
                    encrypt(worker.id_number, f"case_workers.id_number:{worker_id}")
                    if worker.id_number
                    else None,
                    identity.id_number_index,
                    worker.is_migrant_worker,
                    worker.is_platform_worker,
                    worker.household_type,
                    encrypt(worker.occupation, f"case_workers.occupation:{worker_id}")
                    if worker.occupation
                    else None,
                    identity.name_index,
                )
            )
        await conn.execute(
            _INSERT_CASE_AND_WORKERS,
            case_id,
            number,
            report.channel,
            report.channel_ref,
            employer.district_code,
            employer.name,
            employer.credit_code,
            employer.industry,
            employer.address,
            encrypt(dispute.description, f"cases.description:{case_id}"),
            encrypt(dispute.demands, f"cases.demands:{case_id}"),
            dispute.claim_amount,
            dispute.knew_of_infringement_on,
            dispute.employment_ended_on,
            report.reported_at,
            report.recorded_by,
            report.centre,
            dispute.consent.wording_version,
            dispute.consent.given_at,
            openid_index,
            self._request_hash(report.digest),
            *(list(column) for column in zip(*workers, strict=True)),
            assignee[0] if assignee else None,
            assignee[1] if assignee else None,
            encrypt(openid, f"cases.wechat_openid:{case_id}") if openid else None,
        )
        uow.emit(
            case_reported(report, case_id=case_id, number=number, identities=identities),
            subject=str(case_id),
        )
        if employer.contact is not None:
            await employer_contact.record(
                uow,
                self._cipher,
                case_id,
                number,
                employer.district_code,
                employer.contact,
                "intake_form",
            )
        return Registered(case_id, number, created=True)

    async def masked_case(self, number: str, districts: Sequence[str]) -> dict[str, Any] | None:
        """A case in ``districts`` as staff see it by default: names, mobiles and ID numbers
        masked. A case outside them is not found."""
        async with self._pool.acquire() as conn:
            case = await conn.fetchrow(
                """SELECT id, case_number, channel, channel_ref, district_code, employer_name,
                          employer_credit_code, claim_amount, reported_at, status,
                          assignee_id, assignee_name, assigned_at, sharing_consent,
                          sharing_consent_version, sharing_consent_at, voided_at, void_reason,
                          duplicate_of
                   FROM cases WHERE case_number = $1 AND district_code = ANY($2::text[])""",
                number,
                list(districts),
            )
            if case is None:
                return None
            workers = await conn.fetch(
                "SELECT id, name_enc, mobile_enc, id_number_enc FROM case_workers "
                "WHERE case_id = $1 ORDER BY position",
                case["id"],
            )
        return {
            **dict(case),
            "status": status_label(case["status"]),
            "workers": [self._masked_worker(w) for w in workers],
            "sharing_consent": list(case["sharing_consent"]),
            "voided": case["voided_at"] is not None,
        }

    def _masked_worker(self, row: asyncpg.Record) -> dict[str, str | None]:
        decrypt = self._cipher.decrypt
        worker_id = row["id"]
        id_number = (
            decrypt(row["id_number_enc"], f"case_workers.id_number:{worker_id}")
            if row["id_number_enc"]
            else None
        )
        return {
            "name": mask_name(decrypt(row["name_enc"], f"case_workers.name:{worker_id}")),
            "mobile": mask_mobile(decrypt(row["mobile_enc"], f"case_workers.mobile:{worker_id}")),
            "id_number": mask_id_number(id_number) if id_number else None,
        }

    async def search_by_mobile(
        self,
        actor: Actor,
        index: str,
        districts: Sequence[str],
        reason: str,
        limit: SearchLimit,
    ) -> MobileSearchOutcome:
        """Every case in ``districts`` a mobile appears in (found by its keyed hash), newest
        first, unless ``actor`` has used up their searches of the window. Refused or not,
        the search is audited with its reason.

        The limit is shared with the other searches by personal data (``within_search_limit``).
        """
        async with unit_of_work(self._pool, self._settings, actor) as uow:
            conn = uow.conn
            wait = await within_search_limit(uow, limit, "case.searched_by_mobile", reason)
            if wait is not None:
                return MobileSearchOutcome([], retry_after_s=wait)
            rows = await conn.fetch(
                """SELECT DISTINCT c.id, c.case_number, c.channel, c.district_code,
                          c.employer_name, c.reported_at, c.status
                   FROM case_workers w JOIN cases c ON c.id = w.case_id
                   WHERE w.mobile_index = $1 AND c.district_code = ANY($2::text[])
                   ORDER BY c.reported_at DESC LIMIT 200""",
                index,
                list(districts),
            )
            found = [r["case_number"] for r in rows]
            uow.audit(
                "case.searched_by_mobile",
                reason=reason,
                detail=f"{len(found)} cases: {', '.join(found[:20])}" if found else "0 cases",
            )
        return MobileSearchOutcome([{**dict(r), "status": status_label(r["status"])} for r in rows])

    async def reveal(
        self,
        actor: Actor,
        number: str,
        districts: Sequence[str],
        position: int,
        field: RevealableField,
        reason: str,
    ) -> Revealed | None:
        """One worker's clear value of ``field``, audited with the reason; None when the case
        (in ``districts``) or the worker is not found."""
        async with unit_of_work(self._pool, self._settings, actor) as uow:
            row = await uow.conn.fetchrow(
                f"""SELECT c.id AS case_id, c.district_code, w.id AS worker_id,
                           w.{field}_enc AS value_enc
                    FROM cases c JOIN case_workers w ON w.case_id = c.id
                    WHERE c.case_number = $1 AND c.district_code = ANY($2::text[])
                      AND w.position = $3""",
                number,
                list(districts),
                position,
            )
            if row is None:
                return None
            value = (
                self._cipher.decrypt(row["value_enc"], f"case_workers.{field}:{row['worker_id']}")
                if row["value_enc"]
                else None
            )
            uow.audit(
                "pii.revealed",
                case_id=row["case_id"],
                case_number=number,
                district_code=row["district_code"],
                reason=reason,
                detail=f"workers.{position}.{field}",
            )
        return Revealed(value)

    async def contacts(self, service: str, number: str, purpose: str) -> Contacts | None:
        """Every worker's mobile and the WeChat OpenID of a case, for a service that must
        reach the workers (notification, at send time); audited as the service with the
        purpose. None when there is no such case."""
        async with unit_of_work(self._pool, self._settings, Actor.system(service)) as uow:
            case = await uow.conn.fetchrow(
                "SELECT id, district_code, wechat_openid_enc, employer_contact_enc FROM cases "
                "WHERE case_number = $1",
                number,
            )
            if case is None:
                return None
            rows = await uow.conn.fetch(
                "SELECT id, position, mobile_enc FROM case_workers WHERE case_id = $1 "
                "ORDER BY position",
                case["id"],
            )
            decrypt = self._cipher.decrypt
            mobiles = {
                r["position"]: decrypt(r["mobile_enc"], f"case_workers.mobile:{r['id']}")
                for r in rows
            }
            openid = (
                decrypt(case["wechat_openid_enc"], f"cases.wechat_openid:{case['id']}")
                if case["wechat_openid_enc"]
                else None
            )
            employer = employer_contact.unseal(
                self._cipher, case["id"], case["employer_contact_enc"]
            )
            uow.audit(
                "pii.looked_up",
                case_id=case["id"],
                case_number=number,
                district_code=case["district_code"],
                reason=purpose[:50],
                detail=f"workers.mobile x{len(mobiles)}"
                + (", wechat_openid" if openid else "")
                + (", employer_contact" if employer else ""),
            )
        return Contacts(mobiles, openid, employer)

    async def parties(
        self, service: str, number: str, purpose: str, on_behalf_of: str
    ) -> Parties | None:
        """The workers' real names and ID numbers (with the ``worker_ref`` other services
        know them by) and the employer of a case, for a service that must put them on a
        document (mediation's 调解协议书, generated at a mediator's request); audited as the
        service, naming the purpose and the person it acts for. None: no such case."""
        async with unit_of_work(self._pool, self._settings, Actor.system(service)) as uow:
            case = await uow.conn.fetchrow(
                "SELECT id, district_code, employer_name, employer_credit_code "
                "FROM cases WHERE case_number = $1",
                number,
            )
            if case is None:
                return None
            rows = await uow.conn.fetch(
                "SELECT id, position, name_enc, mobile_enc, id_number_enc FROM case_workers "
                "WHERE case_id = $1 ORDER BY position",
                case["id"],
            )
            decrypt = self._cipher.decrypt
            workers = []
            for r in rows:
                mobile = decrypt(r["mobile_enc"], f"case_workers.mobile:{r['id']}")
                id_number = (
                    decrypt(r["id_number_enc"], f"case_workers.id_number:{r['id']}")
                    if r["id_number_enc"]
                    else None
                )
                workers.append(
                    Party(
                        position=r["position"],
                        worker_ref=self._cipher.blind_index(id_number or mobile, "worker"),
                        name=decrypt(r["name_enc"], f"case_workers.name:{r['id']}"),
                        id_number=id_number,
                    )
                )
            uow.audit(
                "pii.looked_up",
                case_id=case["id"],
                case_number=number,
                district_code=case["district_code"],
                reason=purpose[:50],
                detail=f"workers.name, workers.id_number x{len(workers)} for {on_behalf_of[:100]}",
            )
        return Parties(workers, case["employer_name"], case["employer_credit_code"])

    # ------------------------------------------------------------------ consultations

    async def record_consultation(
        self, consultation: ConsultationIn, actor: Actor
    ) -> RecordedConsultation:
        """Record once per channel reference, with its event; a retry changes nothing.

        The same reference with different content raises :class:`ReusedKey`.
        """
        consultation_id = uuid.uuid4()
        request_hash = self._request_hash(submission_digest(consultation))
        async with unit_of_work(self._pool, self._settings, actor) as uow:
            conn = uow.conn
            inserted = await conn.fetchval(
                """INSERT INTO consultations (id, channel, channel_ref, occurred_at, operator_id,
                       district_code, topic, question, answer, request_hash)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                   ON CONFLICT (channel, channel_ref) DO NOTHING RETURNING id""",
                consultation_id,
                consultation.channel,
                consultation.channel_ref,
                consultation.occurred_at,
                actor.id,
                consultation.district_code,
                consultation.topic,
                redact_text(consultation.question),
                redact_text(consultation.answer),
                request_hash,
            )
            if inserted is None:
                existing = await conn.fetchrow(
                    "SELECT id, request_hash FROM consultations "
                    "WHERE channel = $1 AND channel_ref = $2",
                    consultation.channel,
                    consultation.channel_ref,
                )
                if _conflicts(existing["request_hash"], request_hash):
                    raise ReusedKey(consultation.channel, consultation.channel_ref)
                return RecordedConsultation(existing["id"], created=False)
            uow.emit(
                consultation_recorded(consultation, consultation_id=consultation_id),
                subject=str(consultation_id),
            )
        return RecordedConsultation(consultation_id, created=True)

    # ------------------------------------------------------------------ WeChat

    async def wechat_waiting(self, openid_index: str, msg_id: str) -> tuple[bool, str | None]:
        """Whether this OpenID's dialog expects an answer (a registration in progress), and
        the reply already given to this message (WeChat's redelivery), if any. A read
        without locks: it decides only whether a survey answer is worth asking about."""
        async with self._pool.acquire() as conn:
            step_now = await conn.fetchval(
                "SELECT step FROM wechat_conversations WHERE openid_index = $1", openid_index
            )
            earlier = await conn.fetchval(
                "SELECT reply FROM wechat_messages WHERE openid_index = $1 AND msg_id = $2",
                openid_index,
                msg_id,
            )
        return (step_now is not None and step_now != IDLE, earlier)

    async def wechat_answered_elsewhere(
        self, openid_index: str, msg_id: str, received_at: datetime, reply: str
    ) -> str:
        """Keep the reply another service gave to a message (notification's to a survey
        answer), so WeChat's redelivery gets it again; the reply kept first wins."""
        async with self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO wechat_messages (msg_id, openid_index, reply, received_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                msg_id,
                openid_index,
                reply,
                received_at,
            )
            kept = await conn.fetchval(
                "SELECT reply FROM wechat_messages WHERE openid_index = $1 AND msg_id = $2",
                openid_index,
                msg_id,
            )
        return str(kept) if kept is not None else reply

    async def wechat_message(
        self,
        openid_index: str,
        msg_id: str,
        received_at: datetime,
        advance: Callable[[Conversation], Turn],
        identify: Callable[[DisputeIn], list[WorkerIdentity]],
        openid: str | None = None,
    ) -> str:
        """Handle one WeChat text message exactly once; returns the reply to send.

        ``advance(conversation) -> Turn`` is the pure conversation step; ``identify`` turns a
        completed dispute's workers into their keyed hashes. Messages of one OpenID are
        serialised by the conversation row's lock, so WeChat's redelivery of a message
        (same OpenID and MsgId) waits for the first delivery and then gets the same reply.
        A MsgId is only unique per sender: another OpenID's message with the same MsgId is
        a message of its own. The worker on WeChat is the actor (``public:wechat``).
        """
        async with unit_of_work(self._pool, self._settings, WECHAT_WORKER) as uow:
            conn = uow.conn
            await conn.execute(
                "INSERT INTO wechat_conversations (openid_index, step) VALUES ($1, 'idle') "
                "ON CONFLICT DO NOTHING",
                openid_index,
            )
            state = await conn.fetchrow(
                "SELECT step, answers_enc FROM wechat_conversations "
                "WHERE openid_index = $1 FOR UPDATE",
                openid_index,
            )
            earlier = await conn.fetchval(
                "SELECT reply FROM wechat_messages WHERE openid_index = $1 AND msg_id = $2",
                openid_index,
                msg_id,
            )
            if earlier is not None:
                return str(earlier)
            context = f"wechat_conversations.answers:{openid_index}"
            answers = (
                json.loads(self._cipher.decrypt(state["answers_enc"], context))
                if state["answers_enc"]
                else {}
            )
            turn = advance(Conversation(state["step"], answers))
            reply = turn.reply
            if turn.dispute is not None:
                report = CaseReport("wechat", msg_id, received_at, None, turn.dispute)
                registered = await self._insert(
                    uow, report, identify(turn.dispute), openid_index=openid_index, openid=openid
                )
                reply = registered_reply(registered.case_number)
            elif turn.query is not None:
                row = await conn.fetchrow(
                    "SELECT status, reported_at FROM cases "
                    "WHERE case_number = $1 AND wechat_openid_index = $2",
                    turn.query,
                    openid_index,
                )
                reply = status_reply(
                    turn.query,
                    status_label(row["status"]) if row else None,
                    f"{row['reported_at']:%Y-%m-%d}" if row else None,
                )
            kept = turn.conversation
            await conn.execute(
                "UPDATE wechat_conversations SET step = $2, answers_enc = $3, updated_at = now() "
                "WHERE openid_index = $1",
                openid_index,
                kept.step,
                self._cipher.encrypt(json.dumps(kept.answers, ensure_ascii=False), context)
                if kept.answers
                else None,
            )
            await conn.execute(
                "INSERT INTO wechat_messages (msg_id, openid_index, reply, received_at) "
                "VALUES ($1, $2, $3, $4)",
                msg_id,
                openid_index,
                reply,
                received_at,
            )
        return reply


def _conflicts(stored_hash: str | None, request_hash: str | None) -> bool:
    """Rows stored before request hashes existed (None) keep replaying."""
    return stored_hash is not None and stored_hash != request_hash


# A decision applies unless the case already holds a later one (see routes.decision_order).
_RECORD_ROUTES = """
UPDATE cases AS c SET status = CASE WHEN c.voided_at IS NULL THEN d.route ELSE c.status END,
    route_detail = d.route_detail,
    route_decision_seq = d.seq, route_decided_at = d.decided_at
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])
    AS d(case_id, route, route_detail, seq, decided_at)
WHERE c.id = d.case_id
  AND (c.route_decided_at IS NULL
       OR (c.route_decision_seq, c.route_decided_at) <= (d.seq, d.decided_at))
"""


async def record_routes(conn: asyncpg.Connection, decisions: list[RouteDecision]) -> None:
    """Record each case's current route (its status) from triage's decisions."""
    if decisions:
        await conn.execute(
            _RECORD_ROUTES,
            [d.case_id for d in decisions],
            [d.route for d in decisions],
            [d.route_detail for d in decisions],
            [d.decision_seq for d in decisions],
            [d.decided_at for d in decisions],
        )
