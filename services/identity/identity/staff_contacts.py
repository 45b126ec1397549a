"""Staff's work contacts for services: notification tells mediators and lawyers of their
cases (an assignment, tomorrow's session, a deadline at risk) and asks here, at send time,
where to write.

Only notification's own client-credentials token opens the route (a person's token gets
403: no colleague reads another's mobile here); every lookup is audited as
``system:notification`` with its purpose (``pii.looked_up``), like intake's contacts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from identity import store
from weiquan_shared.access import allow_services
from weiquan_shared.envelope import Actor
from weiquan_shared.pii import PiiCipher
from weiquan_shared.service import Runtime

NOTIFIER = allow_services("notification")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class StaffContactOut(BaseModel):
    subject: str = Field(description="The account's identifier (the tokens' sub)")
    name: str = Field(description="Display name, e.g. 张敏")
    role: str
    email: str | None = Field(description="Work email, null when none is on record")
    mobile: str | None = Field(description="Work mobile, null when none is on record")


def build_staff_contact_router(runtime: Runtime, cipher: PiiCipher) -> APIRouter:
    router = APIRouter(prefix="/api/v1/internal", tags=["services"], dependencies=[NOTIFIER])

    @router.get(
        "/staff/{subject}/contact",
        response_model=StaffContactOut,
        summary="工作人员的工作邮箱与工作手机（仅供通知服务调用，记入审计）",
        description="通知服务以自身的服务凭证（client_credentials）在向调解员、律师发送通知前"
        "取得其工作邮箱与手机号；不缓存，每次调用记入审计（purpose 为用途，即通知模板）。"
        "工作人员本人的令牌不能调用（403）。示例：GET /api/v1/internal/staff/"
        "0b8f…/contact?purpose=email/mediator_assigned",
        responses={404: {"description": "没有这个在职工作人员"}},
    )
    async def contact(
        subject: Annotated[str, Path(min_length=1, max_length=100)],
        response: Response,
        service: Annotated[str, NOTIFIER],
        purpose: Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[a-z0-9_./-]+$")],
    ) -> StaffContactOut:
        async with runtime.unit_of_work(Actor.system(service)) as uow:
            found = await store.work_contact(uow.conn, subject, cipher)
            if found is None:
                raise HTTPException(
                    status_code=404, detail="没有这个在职工作人员（账户不存在或已停用）"
                )
            held = [
                name
                for name, value in (("work_email", found.email), ("work_mobile", found.mobile))
                if value
            ]
            uow.audit(
                "pii.looked_up",
                district_code=found.districts[0] if len(found.districts) == 1 else None,
                reason=purpose,
                detail=f"users {found.subject}: {', '.join(held) or 'no contact on record'}",
            )
        response.headers.update(NO_STORE)
        return StaffContactOut(
            subject=found.subject,
            name=found.name,
            role=found.role,
            email=found.email,
            mobile=found.mobile,
        )

    return router
