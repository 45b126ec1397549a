"""Notification's HTTP surface: a case's delivery log, and the channels' state."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from notification import store
from notification.channels.base import Channel
from notification.rules import SEND_TIME_SHOWN, render
from weiquan_shared import labels
from weiquan_shared.access import allow
from weiquan_shared.auth import Principal, Role

# Those who work cases (and read them): the same people who see the case's timeline.
CASE_WORKERS = allow(
    Role.OPERATOR,
    Role.WALK_IN_CLERK,
    Role.TRIAGE_OFFICER,
    Role.MEDIATOR,
    Role.LEGAL_AID_OFFICER,
    Role.SUPERVISOR,
    Role.ADMIN,
)
OPERATORS_OF_THE_SYSTEM = allow(Role.ADMIN, Role.SUPERVISOR)

CHANNEL_NAMES = labels.NOTIFICATION_CHANNELS
STATUS_NAMES = labels.NOTIFICATION_STATUSES
RECIPIENT_NAMES = labels.RECIPIENT_KINDS


class DeliveryOut(BaseModel):
    message_id: uuid.UUID
    event_type: str
    template_id: str
    text: str
    recipient_kind: str
    recipient: str
    recipient_to: str | None
    channel: str
    channel_name: str
    status: str
    status_name: str
    attempts: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    last_error: str | None


class ChannelOut(BaseModel):
    channel: str
    channel_name: str
    configured: bool
    missing_settings: list[str]
    pending: int
    failed: int


def _delivery(row: Any) -> DeliveryOut:
    position = row["worker_position"]
    who = RECIPIENT_NAMES.get(row["recipient_kind"], row["recipient_kind"])
    return DeliveryOut(
        message_id=row["id"],
        event_type=row["event_type"],
        template_id=row["template_id"],
        text=render(row["template_id"], {**SEND_TIME_SHOWN, **row["variables"]}),
        recipient_kind=row["recipient_kind"],
        recipient=f"{who}{position + 1}" if position is not None else who,
        recipient_to=row["recipient_masked"],
        channel=row["channel"],
        channel_name=CHANNEL_NAMES.get(row["channel"], row["channel"]),
        status=row["status"],
        status_name=STATUS_NAMES.get(row["status"], row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        sent_at=row["sent_at"],
        failed_at=row["failed_at"],
        last_error=row["last_error"],
    )


def build_routers(pool: Callable[[], asyncpg.Pool], channels: Sequence[Channel]) -> list[APIRouter]:
    cases = APIRouter(prefix="/api/v1", tags=["notification"], dependencies=[CASE_WORKERS])
    ops = APIRouter(prefix="/api/v1", tags=["ops"], dependencies=[OPERATORS_OF_THE_SYSTEM])

    @cases.get(
        "/cases/{case_number}/deliveries",
        response_model=list[DeliveryOut],
        summary="案件的通知记录（发送内容、时间、对象（已遮蔽）、渠道、状态）",
        responses={404: {"description": "没有这个案件，或不在您的工作范围内"}},
    )
    async def deliveries(
        case_number: Annotated[str, Path(max_length=40)],
        principal: Annotated[Principal, CASE_WORKERS],
    ) -> list[DeliveryOut]:
        district, rows = await store.deliveries(pool(), case_number)
        if district is None or not principal.covers(district):
            raise HTTPException(404, f"没有案件 {case_number}，或该案件不在您的工作范围内")
        return [_delivery(row) for row in rows]

    @ops.get(
        "/channels",
        response_model=list[ChannelOut],
        summary="各发送渠道的配置与积压（未配置的渠道消息保留待发）",
    )
    async def channel_state() -> list[ChannelOut]:
        counts = {
            (r["channel"], r["status"]): r["n"]
            for r in await pool().fetch(
                "SELECT channel, status, count(*) AS n FROM messages "
                "WHERE status <> 'sent' GROUP BY channel, status"
            )
        }
        return [
            ChannelOut(
                channel=c.name,
                channel_name=CHANNEL_NAMES[c.name],
                configured=not c.missing,
                missing_settings=c.missing,
                pending=counts.get((c.name, "pending"), 0),
                failed=counts.get((c.name, "failed"), 0),
            )
            for c in channels
        ]

    return [cases, ops]
