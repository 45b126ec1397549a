"""Intake's migration 0003 on a database with data: occupations stored in clear are encrypted."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest

from tests.support.stack import Deployment
from weiquan_shared import db
from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/intake/intake/migrations"


def test_occupations_in_clear_are_encrypted_and_the_clear_column_dropped(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in deployment.pii.items():
        monkeypatch.setenv(key, value)
    settings = deployment.settings("intake")
    for name in ("0001_cases.sql", "0002_channels.sql"):
        shutil.copy(MIGRATIONS / name, tmp_path / name)
    case_id, worker_id = uuid.uuid4(), uuid.uuid4()

    async def run() -> tuple[list[str], bytes]:
        await db.ensure_database(settings)
        await asyncio.to_thread(db.migrate, settings, tmp_path)  # the schema as it was
        conn = await deployment.connect("intake")
        try:
            await conn.execute(
                "INSERT INTO cases (id, case_number, channel, channel_ref, district_code, "
                "employer_name, description_enc, reported_at) "
                "VALUES ($1, '440305-2026-000001', 'hotline', 'c1', '440305', '某公司', "
                "'\\x00', now())",
                case_id,
            )
            await conn.execute(
                "INSERT INTO case_workers (id, case_id, position, name_enc, mobile_enc, "
                "mobile_index, is_migrant_worker, is_platform_worker, occupation) "
                "VALUES ($1, $2, 0, '\\x00', '\\x00', 'i', false, false, '塔吊信号工')",
                worker_id,
                case_id,
            )
            await asyncio.to_thread(db.migrate, settings, MIGRATIONS)
            columns = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'case_workers'"
            )
            stored = await conn.fetchval("SELECT occupation_enc FROM case_workers")
            return [c["column_name"] for c in columns], stored
        finally:
            await conn.close()

    columns, stored = asyncio.run(run())
    assert "occupation" not in columns and "塔吊".encode() not in stored
    cipher = PiiCipher.from_settings(PiiSettings())
    assert cipher.decrypt(stored, f"case_workers.occupation:{worker_id}") == "塔吊信号工"
