"""Intake's HTTP API (OpenAPI at /docs)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from intake.domain import HotlineCallIn, identify
from intake.store import CaseStore
from weiquan_shared.pii import PiiCipher


class CaseAccepted(BaseModel):
    case_id: uuid.UUID
    case_number: str = Field(
        description="向来电职工读出的案件编号", examples=["440305-2026-000123"]
    )
    duplicate: bool = Field(description="同一来电流水号此前已登记时为 true，案件编号不变")


class MaskedWorker(BaseModel):
    name: str = Field(examples=["王*国"])
    mobile: str = Field(examples=["139****5678"])


class CaseView(BaseModel):
    id: uuid.UUID
    case_number: str
    channel: str
    channel_ref: str
    district_code: str
    employer_name: str
    claim_amount: Decimal | None
    reported_at: datetime
    workers: list[MaskedWorker]


def build_router(store: Callable[[], CaseStore], cipher: PiiCipher) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post(
        "/hotline-calls",
        response_model=CaseAccepted,
        status_code=status.HTTP_201_CREATED,
        summary="登记12351热线来电",
        description="接线员在通话中登记职工诉求，返回案件编号。以来电流水号去重：重复提交返回同一案件编号（200）。",
        responses={
            200: {"description": "该来电流水号已登记，返回原案件编号", "model": CaseAccepted},
            422: {"description": "内容有误，message 用中文指出需要修改的字段"},
        },
    )
    async def register_hotline_call(call: HotlineCallIn, response: Response) -> CaseAccepted:
        identities = [identify(worker, cipher) for worker in call.workers]
        registered = await store().register_hotline_call(call, identities)
        if not registered.created:
            response.status_code = status.HTTP_200_OK
        return CaseAccepted(
            case_id=registered.case_id,
            case_number=registered.case_number,
            duplicate=not registered.created,
        )

    @router.get(
        "/cases/{case_number}",
        response_model=CaseView,
        summary="按案件编号查看案件（个人信息已脱敏）",
        responses={404: {"description": "没有这个案件编号"}},
    )
    async def get_case(case_number: str) -> CaseView:
        case = await store().masked_case(case_number)
        if case is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"未找到案件编号 {case_number}")
        return CaseView.model_validate(case)

    return router
