"""Intake's PostgreSQL store: a case, its workers and its ``case.reported`` in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from intake.domain import HotlineCallIn, WorkerIdentity, case_number, case_reported
from weiquan_shared.envelope import new_event
from weiquan_shared.outbox import add_to_outbox
from weiquan_shared.pii import PiiCipher, mask_mobile, mask_name
from weiquan_shared.settings import Settings


@dataclass(frozen=True)
class Registered:
    case_id: uuid.UUID
    case_number: str
    created: bool  # False when the same channel reference was registered before


class CaseStore:
    def __init__(self, pool: asyncpg.Pool, cipher: PiiCipher, settings: Settings) -> None:
        self._pool = pool
        self._cipher = cipher
        self._settings = settings

    async def register_hotline_call(
        self, call: HotlineCallIn, identities: list[WorkerIdentity]
    ) -> Registered:
        existing = await self._find("hotline", call.call_id)
        if existing:
            return existing
        try:
            return await self._insert(call, identities)
        except asyncpg.UniqueViolationError:
            # A concurrent retry of the same call committed first: answer with its case.
            existing = await self._find("hotline", call.call_id)
            if existing is None:
                raise
            return existing

    async def _find(self, channel: str, channel_ref: str) -> Registered | None:
        row = await self._pool.fetchrow(
            "SELECT id, case_number FROM cases WHERE channel = $1 AND channel_ref = $2",
            channel,
            channel_ref,
        )
        return Registered(row["id"], row["case_number"], created=False) if row else None

    async def _insert(self, call: HotlineCallIn, identities: list[WorkerIdentity]) -> Registered:
        case_id = uuid.uuid4()
        encrypt = self._cipher.encrypt
        async with self._pool.acquire() as conn, conn.transaction():
            sequence = await conn.fetchval(
                """
                INSERT INTO case_number_counters AS c (district_code, year, last_value)
                VALUES ($1, $2, 1)
                ON CONFLICT (district_code, year) DO UPDATE SET last_value = c.last_value + 1
                RETURNING last_value
                """,
                call.employer.district_code,
                call.called_at.year,
            )
            number = case_number(call.employer.district_code, call.called_at.year, sequence)
            await conn.execute(
                """
                INSERT INTO cases (id, case_number, channel, channel_ref, district_code,
                    employer_name, employer_credit_code, employer_industry, description_enc,
                    claim_amount, knew_of_infringement_on, employment_ended_on, reported_at,
                    operator_id)
                VALUES ($1, $2, 'hotline', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                """,
                case_id,
                number,
                call.call_id,
                call.employer.district_code,
                call.employer.name,
                call.employer.credit_code,
                call.employer.industry,
                encrypt(call.description, f"cases.description:{case_id}"),
                call.claim_amount,
                call.knew_of_infringement_on,
                call.employment_ended_on,
                call.called_at,
                call.operator_id,
            )
            rows = []
            for position, (worker, identity) in enumerate(
                zip(call.workers, identities, strict=True)
            ):
                worker_id = uuid.uuid4()
                rows.append(
                    (
                        worker_id,
                        case_id,
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
                    )
                )
            await conn.executemany(
                """
                INSERT INTO case_workers (id, case_id, position, name_enc, mobile_enc,
                    mobile_index, id_number_enc, id_number_index, is_migrant_worker,
                    is_platform_worker)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """,
                rows,
            )
            event = new_event(
                case_reported(call, case_id=case_id, number=number, identities=identities),
                subject=str(case_id),
                producer=self._settings.service_name,
            )
            await add_to_outbox(conn, self._settings, event)
        return Registered(case_id, number, created=True)

    async def masked_case(self, number: str) -> dict[str, object] | None:
        """A case as operators see it by default: names and mobiles masked."""
        case = await self._pool.fetchrow(
            """SELECT id, case_number, channel, channel_ref, district_code, employer_name,
                      claim_amount, reported_at FROM cases WHERE case_number = $1""",
            number,
        )
        if case is None:
            return None
        workers = await self._pool.fetch(
            "SELECT id, name_enc, mobile_enc FROM case_workers "
            "WHERE case_id = $1 ORDER BY position",
            case["id"],
        )
        decrypt = self._cipher.decrypt
        return {
            **dict(case),
            "workers": [
                {
                    "name": mask_name(decrypt(w["name_enc"], f"case_workers.name:{w['id']}")),
                    "mobile": mask_mobile(
                        decrypt(w["mobile_enc"], f"case_workers.mobile:{w['id']}")
                    ),
                }
                for w in workers
            ],
        }
