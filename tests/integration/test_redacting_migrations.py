"""Migrations that remove personal data kept in clear before, run on databases holding some."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import Deployment
from weiquan_shared import db
from weiquan_shared.pii import PiiCipher
from weiquan_shared.settings import PiiSettings

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).resolve().parents[2] / "services"
MIGRATIONS = SERVICES / "intake/intake/migrations"


def test_occupations_in_clear_are_encrypted_and_the_clear_column_dropped(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in deployment.pii.items():
        monkeypatch.setenv(key, value)
    settings = deployment.settings("intake")
    for name in ("0001_cases.sql", "0002_channels.sql"):
        shutil.copy(MIGRATIONS / name, tmp_path / name)
    case_id, worker_id = uuid.uuid4(), uuid.uuid4()
    cipher = PiiCipher.from_settings(PiiSettings())
    name_enc = cipher.encrypt("欧阳 修文", f"case_workers.name:{worker_id}")

    async def run() -> tuple[list[str], bytes, str]:
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
                "VALUES ($1, $2, 0, $3, '\\x00', 'i', false, false, '塔吊信号工')",
                worker_id,
                case_id,
                name_enc,
            )
            await asyncio.to_thread(db.migrate, settings, MIGRATIONS)
            columns = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'case_workers'"
            )
            stored = await conn.fetchval("SELECT occupation_enc FROM case_workers")
            name_index = await conn.fetchval("SELECT name_index FROM case_workers")
            return [c["column_name"] for c in columns], stored, name_index
        finally:
            await conn.close()

    columns, stored, name_index = asyncio.run(run())
    assert "occupation" not in columns and "塔吊".encode() not in stored
    assert cipher.decrypt(stored, f"case_workers.occupation:{worker_id}") == "塔吊信号工"
    # Migration 0008 indexed the name registered before it (decrypted, without spaces).
    assert name_index == cipher.blind_index("欧阳修文", "name")


def test_officers_reasons_stored_in_clear_are_redacted(
    deployment: Deployment, tmp_path: Path
) -> None:
    settings = deployment.settings("triage")
    migrations = SERVICES / "triage/triage/migrations"
    for name in ("0001_decisions.sql", "0002_groups_employers_clocks.sql"):
        shutil.copy(migrations / name, tmp_path / name)
    reason = "职工本人王建国来电（139 1234 0003），转法律援助"
    reasons = [
        {"rule": "route.mediation", "text": "转工会劳动争议调解"},
        {"rule": "override.officer", "text": f"分流员op-017改判：{reason}"},
    ]

    async def run() -> list[dict[str, Any]]:
        await asyncio.to_thread(db.migrate, settings, tmp_path)  # the schema as it was
        conn = await deployment.connect("triage")
        try:
            for kind, note in (("initial", None), ("override", reason)):
                await conn.execute(
                    "INSERT INTO decisions (case_id, case_number, kind, category, "
                    "secondary_categories, urgency, route, reasons, source_event_id, note) "
                    "VALUES ($1, '440305-2026-000001', $2, 'wage_arrears', '{}', 'normal', "
                    "'legal_aid', $3::jsonb, $4, $5)",
                    uuid.UUID(int=1),
                    kind,
                    json.dumps(reasons[:1] if kind == "initial" else reasons),
                    uuid.uuid4(),
                    note,
                )
            await asyncio.to_thread(db.migrate, settings, migrations)
            rows = await conn.fetch("SELECT kind, note, reasons::text FROM decisions ORDER BY id")
            return [dict(r) for r in rows]
        finally:
            await conn.close()

    initial, override = asyncio.run(run())
    assert initial["note"] is None and "转工会劳动争议调解" in initial["reasons"]
    assert override["note"] == "职工本人王某来电（[手机号已隐去]），转法律援助"
    for text in (override["note"], override["reasons"]):
        assert "王建国" not in text and "1234" not in text
    assert "转工会劳动争议调解" in override["reasons"]
