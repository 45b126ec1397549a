"""Composition root for the audit service: the consumer, the search API and page, and
the daily partition and retention task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from audit import store
from audit.api import build_page_routers, build_router
from audit.domain import partitions_ahead, retention_cutoff
from audit.handlers import register_handlers
from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.logging import get_logger
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.settings import Settings

log = get_logger(__name__)


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_AUDIT_", extra="ignore")

    # How long audit records are kept: the union's policy choice (3 years by default).
    # Whole months are dropped once their last day is older than this.
    retention_days: int = Field(default=1095, ge=1, le=36500)
    # Monthly partitions made ahead of need, besides the current month's.
    partitions_ahead_months: int = Field(default=2, ge=1)
    # How often partitions are made ahead and expired ones dropped.
    retention_interval_s: float = Field(default=24 * 3600.0, gt=0)


async def keep_partitions(runtime: Runtime, own: AuditSettings) -> None:
    """Make next months' partitions and drop expired ones, at start and then daily."""
    while True:
        try:
            now = datetime.now(UTC)
            async with runtime.pool().acquire() as conn, conn.transaction():
                made = await store.add_partitions(
                    conn, partitions_ahead(now, own.partitions_ahead_months)
                )
                dropped = await store.drop_expired_partitions(
                    conn, retention_cutoff(now, own.retention_days)
                )
            log.info(
                "audit partitions kept",
                created=made,
                dropped=dropped,
                retention_days=own.retention_days,
            )
            await asyncio.sleep(own.retention_interval_s)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("audit partitions: database unavailable, retrying", error=repr(exc))
            await asyncio.sleep(30)


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("audit")
    own = AuditSettings()
    runtime = Runtime(settings)
    consumer = runtime.consumer()
    register_handlers(consumer, own.retention_days)

    async def retention() -> None:
        await keep_partitions(runtime, own)

    app = create_service_app(
        runtime,
        title="维权 · 审计服务 (audit)",
        description="记录每一次状态变更与每一次查看个人信息；只增不改，系统管理员可查询。",
        migrations=Path(__file__).parent / "migrations",
        routers=[build_router(runtime), *build_page_routers()],
        consumer=consumer,
        background=[("audit-retention", retention)],
    )
    return app, settings
