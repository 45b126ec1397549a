"""Mediation's HTTP API and the workbench page.

Mediators (调解员) and supervisors (督导, who act as the coordinator: 协调人) use it. Every
state change runs in a unit of work acting as the signed-in person, so it is audited and
its event names them. Errors answer in Chinese with something a person can act on: 404
for what does not exist or is out of the person's view, 409 for a conflict (a room or a
mediator already booked, a session already recorded), 422 for wrong input.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mediation import sessions as booking
from mediation import store, views
from mediation.assignment import header
from mediation.clocks import (
    ClockPolicy,
    ExtensionRefused,
    check_extension,
    china_date,
    compute_clocks,
)
from mediation.membership import CaseState, distinct_workers
from mediation.rules import FIVE_PARTY, ORGANISATIONS
from mediation.visibility import may_see_mediation
from weiquan_shared import labels
from weiquan_shared.access import allow, page_assets
from weiquan_shared.auth import Principal, Role, page_with_csrf
from weiquan_shared.consent import case_gate
from weiquan_shared.envelope import Actor
from weiquan_shared.events import (
    MediationAccepted,
    MediationAssigned,
    MediationClockExtended,
    MediationOrganisation,
    MediationSessionHeld,
    MediationSessionMoved,
    MediationSessionScheduled,
    Party,
    RoomKind,
    SessionPlace,
)
from weiquan_shared.events.mediation import MoveReason, NoShowParty
from weiquan_shared.legal_calendar import LegalCalendar
from weiquan_shared.pii import PiiCipher
from weiquan_shared.redaction import redact_text
from weiquan_shared.service import Runtime
from weiquan_shared.uow import UnitOfWork

STATIC = Path(__file__).with_name("static")
NOT_FOUND = "调解案件不存在，或不在您的工作范围内"
SESSION_NOT_FOUND = "调解安排不存在，或不在您的工作范围内"
REPRESENTATIVES_THRESHOLD = 10  # LDA Art. 7: ten or more workers elect representatives
MAX_SESSION = timedelta(hours=8)
BACKFILL = timedelta(days=30)  # a session may be entered afterwards (补录) within this
ADVANCE = timedelta(days=180)

WORK = allow(Role.MEDIATOR, Role.SUPERVISOR)
COORDINATOR = allow(Role.SUPERVISOR)


# ---------------------------------------------------------------- request bodies


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000: refuse it here rather than fail on storing.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("不能包含空字符（U+0000）")
        return value


class TimeRange(_Body):
    starts_at: AwareDatetime = Field(title="开始时间")
    ends_at: AwareDatetime = Field(title="结束时间")

    @model_validator(mode="after")
    def _sane(self) -> TimeRange:
        if self.ends_at <= self.starts_at:
            raise ValueError("结束时间须晚于开始时间")
        if self.ends_at - self.starts_at > MAX_SESSION:
            raise ValueError("一次调解最长8小时，请分次预约")
        now = datetime.now(UTC)
        if self.starts_at < now - BACKFILL:
            raise ValueError("只能补录30天内的调解")
        if self.starts_at > now + ADVANCE:
            raise ValueError("最多提前180天预约")
        return self


class SessionIn(TimeRange):
    room_id: uuid.UUID = Field(title="调解室")
    mediator_ids: list[str] | None = Field(
        default=None, title="调解员", description="默认：本案主持调解员"
    )
    workers: list[str] | None = Field(
        default=None,
        title="到场职工",
        description="worker_ref；默认全体职工，十人以上的群体争议默认为推举的代表",
    )
    employer_representative: bool = Field(default=True, title="用人单位派代表参加")
    organisations: list[MediationOrganisation] | None = Field(
        default=None, title="参加单位", description="默认：本案参与调解的单位"
    )


class MoveIn(TimeRange):
    room_id: uuid.UUID | None = Field(default=None, title="调解室", description="默认不换")
    mediator_ids: list[str] | None = Field(default=None, title="调解员", description="默认不换")
    reason: MoveReason = Field(title="改期原因")


class NextSessionIn(TimeRange):
    room_id: uuid.UUID = Field(title="续调调解室")


class RecordIn(_Body):
    outcome: Literal["held", "no_show", "adjourned"] = Field(title="调解情况")
    attended_workers: list[str] | None = Field(
        default=None, title="到场职工", description="默认：通知到场的职工全部到场"
    )
    employer_attended: bool = Field(default=True, title="用人单位代表到场")
    attended_mediators: list[str] | None = Field(default=None, title="到场调解员")
    no_show: NoShowParty | None = Field(default=None, title="未到场一方")
    record: str | None = Field(default=None, max_length=5000, title="调解笔录摘要")
    next_session: NextSessionIn | None = Field(default=None, title="续调安排")

    @model_validator(mode="after")
    def _consistent(self) -> RecordIn:
        if self.outcome == "no_show" and self.no_show is None:
            raise ValueError("当事人未到场时请选择未到场的一方")
        if self.outcome != "no_show" and self.no_show is not None:
            raise ValueError("只有“当事人未到场”才需选择未到场的一方")
        if self.next_session is not None and self.outcome == "held":
            raise ValueError("续调安排仅用于休会或当事人未到场")
        return self


class AcceptIn(_Body):
    accepted_on: date | None = Field(default=None, title="受理日期", description="默认今天")


class ExtensionIn(_Body):
    days: int = Field(ge=1, le=60, title="延长天数")
    workers_consented_on: date | None = Field(default=None, title="职工方同意日期")
    employer_consented_on: date | None = Field(default=None, title="用人单位方同意日期")


class AssignmentIn(_Body):
    lead_mediator_id: str = Field(min_length=1, max_length=200, title="主持调解员")
    organisations: list[MediationOrganisation] = Field(min_length=1, title="参加单位")
    sensitive: bool | None = Field(default=None, title="敏感案件")
    reason: str = Field(min_length=4, max_length=200, title="调整理由")


class RepresentativesIn(_Body):
    worker_refs: list[str] = Field(min_length=1, max_length=10, title="推举的代表")
    elected_on: date = Field(title="推举日期")


class MediatorIn(_Body):
    name: str = Field(min_length=1, max_length=100, title="姓名")
    organisation: MediationOrganisation = Field(title="所属单位")
    districts: list[str] = Field(min_length=1, title="负责区县")
    active: bool = Field(default=True, title="在岗")


class AwayIn(TimeRange):
    note: str = Field(min_length=1, max_length=50, title="事由", examples=["外出培训"])


class RoomIn(_Body):
    name: str = Field(min_length=2, max_length=100, title="名称")
    kind: RoomKind = Field(title="类型")
    district_code: str = Field(pattern=r"^\d{6}$", title="所在区")
    location: str = Field(min_length=2, max_length=200, title="地点")
    capacity: int = Field(ge=1, le=200, title="容纳人数")


def body_labels() -> dict[str, str]:
    from weiquan_shared.http import field_labels

    out: dict[str, str] = {}
    for model in (
        SessionIn,
        MoveIn,
        RecordIn,
        AcceptIn,
        ExtensionIn,
        AssignmentIn,
        RepresentativesIn,
        MediatorIn,
        AwayIn,
        RoomIn,
    ):
        out.update(field_labels(model))
    return out


# ---------------------------------------------------------------- helpers


def actor_of(principal: Principal) -> Actor:
    return Actor.user(principal.subject, principal.role.value)


async def register_self(uow_or_conn: Any, principal: Principal) -> None:
    """A mediator who uses the workbench is on the roster (name, organisation, districts
    as identity vouches for them), so rules and colleagues can assign and book them."""
    if principal.role is not Role.MEDIATOR or principal.organisation is None:
        return
    if principal.organisation.value not in ORGANISATIONS:
        return
    await store.upsert_mediator(
        uow_or_conn,
        principal.subject,
        principal.name or principal.subject,
        principal.organisation.value,
        list(principal.districts),
    )


class Loaded:
    """A mediation the person may see, locked for the request's transaction, with its cases."""

    def __init__(self, m: store.Mediation, cases: list[CaseState]) -> None:
        self.m = m
        self.cases = cases

    @property
    def header(self) -> dict[str, Any]:
        return header(self.m, self.cases)


async def load_visible(
    conn: Any, number: str, principal: Principal, *, lock: bool = False
) -> Loaded:
    m = None if "\x00" in number else await store.mediation_by_number(conn, number, lock=lock)
    if m is None or m.closed_result == "merged":
        raise HTTPException(404, NOT_FOUND)
    in_sessions = await views.session_mediators(conn, [m.mediation_id])
    if not may_see_mediation(
        principal,
        district_code=m.district_code,
        lead_mediator_id=m.lead_mediator_id,
        organisations=m.organisations,
        session_mediators=in_sessions.get(m.mediation_id, set()),
    ):
        raise HTTPException(404, NOT_FOUND)
    cases = [c for c in (await store.cases_of(conn, [m.mediation_id])).values()]
    return Loaded(m, cases)


def require_open(m: store.Mediation) -> None:
    if m.closed_at is not None:
        result = labels.MEDIATION_CLOSED_RESULTS.get(m.closed_result or "", m.closed_result)
        raise HTTPException(
            409, f"调解案件 {m.mediation_number} 已结案（{result}），不能再办理此事项"
        )


def require_running(m: store.Mediation) -> None:
    require_open(m)
    if m.status not in ("received", "accepted"):
        status = labels.MEDIATION_STATUSES.get(m.status, m.status)
        raise HTTPException(
            409, f"调解案件 {m.mediation_number} 当前状态为“{status}”，不能再预约调解"
        )


def require_personal_data(principal: Principal, cases: list[CaseState]) -> None:
    for case in cases:
        gate = case_gate(principal, case.consent_scopes)
        if not gate.allowed:
            raise HTTPException(403, f"案件 {case.case_number}：{gate.missing}")


async def mediator_names(conn: Any, ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT subject, name FROM mediators WHERE subject = ANY($1::text[]) AND active", ids
    )
    return {r["subject"]: r["name"] for r in rows}


async def room(conn: Any, room_id: uuid.UUID, district_code: str | None = None) -> Any:
    row = await conn.fetchrow(
        "SELECT room_id, name, kind, district_code, active FROM rooms WHERE room_id = $1",
        room_id,
    )
    if row is None or not row["active"]:
        raise HTTPException(422, "所选调解室不存在或已停用，请从调解室列表中选择")
    return row


def place(room_row: Any, starts_at: datetime, ends_at: datetime) -> SessionPlace:
    return SessionPlace(
        room_id=room_row["room_id"],
        room_name=room_row["name"],
        room_kind=room_row["kind"],
        starts_at=starts_at,
        ends_at=ends_at,
    )


def session_parties(row: Any) -> Party:
    return Party(
        workers=list(row["workers"]),
        representatives_elected=row["representatives_elected"],
        employer_representative=row["employer_representative"],
        mediator_ids=list(row["mediator_ids"]),
        organisations=list(row["organisations"]),
    )


SESSION_COLUMNS = (
    "s.session_id, s.mediation_id, s.room_id, s.starts_at, s.ends_at, s.status, s.workers, "
    "s.representatives_elected, s.employer_representative, s.mediator_ids, s.organisations, "
    "s.record_enc, s.no_show, s.attended_workers, s.attended_employer, s.attended_mediators, "
    "s.recorded_by, s.recorded_at, s.next_session_id, s.moves, m.mediation_number"
)


async def load_session(
    conn: Any, session_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> tuple[Any, Loaded]:
    row = await conn.fetchrow(
        f"SELECT {SESSION_COLUMNS} FROM sessions s JOIN mediations m USING (mediation_id) "
        "WHERE s.session_id = $1" + (" FOR UPDATE OF s" if lock else ""),
        session_id,
    )
    if row is None:
        raise HTTPException(404, SESSION_NOT_FOUND)
    try:
        loaded = await load_visible(conn, row["mediation_number"], principal, lock=lock)
    except HTTPException as exc:
        raise HTTPException(404, SESSION_NOT_FOUND) from exc
    return row, loaded


async def choose_mediators(conn: Any, asked: list[str] | None, m: store.Mediation) -> list[str]:
    ids = asked or ([m.lead_mediator_id] if m.lead_mediator_id else [])
    if not ids:
        raise HTTPException(422, "本案尚未指派主持调解员，请先由协调人指派，或在预约时选择调解员")
    ids = list(dict.fromkeys(ids))
    known = await mediator_names(conn, ids)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise HTTPException(
            422, f"以下调解员不在调解员名册中或已停岗：{'、'.join(unknown)}，请从名册中选择"
        )
    return ids


def choose_workers(loaded: Loaded, asked: list[str] | None) -> tuple[list[str], bool]:
    """Who is called for the workers: all of them, or for ten or more, their elected
    representatives (LDA Art. 7)."""
    everyone = [w["worker_ref"] for w in distinct_workers(loaded.cases)]
    large = len(everyone) >= REPRESENTATIVES_THRESHOLD
    if asked is None:
        if not large:
            return everyone, False
        if not loaded.m.representatives:
            raise HTTPException(
                422,
                f"本案涉及{len(everyone)}名职工（十人以上），调解由推举的代表参加"
                "（劳动争议调解仲裁法第七条）：请先记录职工推举的代表",
            )
        return list(loaded.m.representatives), True
    strangers = [w for w in asked if w not in everyone]
    if strangers:
        raise HTTPException(
            422, f"到场职工须为本案职工，以下不是：{'、'.join(w[:6] for w in strangers)}"
        )
    if large:
        reps = set(loaded.m.representatives)
        if not reps or not set(asked) <= reps:
            raise HTTPException(
                422,
                "十人以上的集体争议由推举的代表参加调解（劳动争议调解仲裁法第七条）："
                "到场职工须为已记录的代表",
            )
        return list(dict.fromkeys(asked)), True
    return list(dict.fromkeys(asked)), False


# ---------------------------------------------------------------- routers


def build_routers(
    runtime: Runtime, policy: ClockPolicy, calendar: LegalCalendar, cipher: PiiCipher
) -> list[APIRouter]:
    work = APIRouter(tags=["mediation"], dependencies=[WORK])
    coordinating = APIRouter(tags=["mediation"], dependencies=[COORDINATOR])
    naming = APIRouter(tags=["mediation"], dependencies=[allow()])
    assets = page_assets(
        "/static/{name}",
        {name: STATIC / name for name in ("workbench.js", "workbench.css")},
    )

    def today() -> date:
        return china_date(datetime.now(UTC))

    # ------------------------------------------------------------ reading

    @naming.get("/api/v1/labels", summary="代码的中文名称（全系统一张表）")
    async def code_labels() -> dict[str, Any]:
        return labels.all_labels()

    @work.get("/api/v1/me", summary="当前用户（调解员自动登记到调解员名册）")
    async def me(principal: Annotated[Principal, WORK]) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            await register_self(conn, principal)
        return {
            "subject": principal.subject,
            "name": principal.name,
            "role": principal.role.value,
            "role_name": principal.role.label,
            "organisation": principal.organisation.value if principal.organisation else None,
            "organisation_name": principal.organisation.label if principal.organisation else None,
            "coordinator": principal.role is Role.SUPERVISOR,
        }

    @work.get("/api/v1/mediations", summary="我的调解案件（含两个期限）")
    async def list_mediations(
        principal: Annotated[Principal, WORK],
        scope: Annotated[Literal["mine", "all"], Query(title="范围")] = "mine",
        closed: Annotated[bool, Query(title="包括近60天结案的")] = False,
    ) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            await register_self(conn, principal)
            visible = await views.visible_mediations(conn, principal, include_closed=closed)
            ids = [m.mediation_id for m, _ in visible]
            upcoming = await views.next_sessions(conn, ids)
            in_sessions = await views.session_mediators(conn, ids)
        day = today()
        items = []
        for m, cases in visible:
            mine = m.lead_mediator_id == principal.subject or principal.subject in in_sessions.get(
                m.mediation_id, set()
            )
            if scope == "mine" and principal.role is Role.MEDIATOR and not mine:
                continue
            items.append(views.summary(m, cases, principal, day, upcoming.get(m.mediation_id)))
        items.sort(key=_urgency_key)
        return {"today": day.isoformat(), "mediations": items}

    @work.get(
        "/api/v1/mediations/{number}",
        summary="调解案件详情：案件、职工、期限、指派、调解安排",
        responses={404: {"description": NOT_FOUND}},
    )
    async def mediation_detail(
        number: str, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            loaded = await load_visible(conn, number, principal)
            m = loaded.m
            upcoming = await views.next_sessions(conn, [m.mediation_id])
            sessions = await views.sessions_of(conn, m.mediation_id)
            changes = await conn.fetch(
                "SELECT actor_id, actor_role, previous_lead_id, lead_mediator_id, organisations, "
                "reason, changed_at FROM assignment_changes WHERE mediation_id = $1 "
                "ORDER BY changed_at",
                m.mediation_id,
            )
            extensions = await conn.fetch(
                "SELECT days, workers_consented_on, employer_consented_on, recorded_by, "
                "recorded_at FROM clock_extensions WHERE mediation_id = $1 ORDER BY recorded_at",
                m.mediation_id,
            )
        gates = [case_gate(principal, c.consent_scopes) for c in loaded.cases]
        all_shown = all(g.allowed for g in gates)
        return {
            **views.summary(m, loaded.cases, principal, today(), upcoming.get(m.mediation_id)),
            "cases": [
                views.case_view(c, g)
                for c, g in sorted(
                    zip(loaded.cases, gates, strict=True), key=lambda x: x[0].case_number or ""
                )
            ],
            "representatives": (
                [{"worker_ref": w, "label": views.worker_label(w)} for w in m.representatives]
                if all_shown
                else None
            ),
            "representatives_on": m.representatives_on.isoformat()
            if m.representatives_on
            else None,
            "needs_representatives": len(distinct_workers(loaded.cases))
            >= REPRESENTATIVES_THRESHOLD,
            "sessions": sessions,
            "assignment_changes": [
                {
                    **dict(r),
                    "changed_at": r["changed_at"].isoformat(),
                    "organisations": list(r["organisations"]),
                }
                for r in changes
            ],
            "extensions": [
                {
                    "days": r["days"],
                    "workers_consented_on": r["workers_consented_on"].isoformat(),
                    "employer_consented_on": r["employer_consented_on"].isoformat(),
                    "recorded_by": r["recorded_by"],
                    "recorded_at": r["recorded_at"].isoformat(),
                }
                for r in extensions
            ],
        }

    @work.get("/api/v1/schedule", summary="调解室日程（按日或按周）")
    async def room_schedule(
        principal: Annotated[Principal, WORK],
        day: Annotated[date | None, Query(alias="from", title="起始日期")] = None,
        days: Annotated[int, Query(ge=1, le=7, title="天数")] = 1,
    ) -> dict[str, Any]:
        async with runtime.pool().acquire() as conn:
            await register_self(conn, principal)
            visible = await views.visible_mediations(conn, principal, include_closed=True)
            return await views.schedule(
                conn, principal, day or today(), days, {m.mediation_id for m, _ in visible}
            )

    @work.get("/api/v1/rooms", summary="调解室列表")
    async def rooms(principal: Annotated[Principal, WORK]) -> list[dict[str, Any]]:
        async with runtime.pool().acquire() as conn:
            rows = await conn.fetch(
                "SELECT room_id, name, kind, district_code, location, capacity FROM rooms "
                "WHERE active AND district_code = ANY($1::text[]) ORDER BY kind, name",
                list(principal.districts),
            )
        return [
            {**dict(r), "room_id": str(r["room_id"]), "kind_name": labels.ROOM_KINDS[r["kind"]]}
            for r in rows
        ]

    @work.get("/api/v1/mediators", summary="调解员名册")
    async def mediators(principal: Annotated[Principal, WORK]) -> list[dict[str, Any]]:
        async with runtime.pool().acquire() as conn:
            await register_self(conn, principal)
            rows = await conn.fetch(
                "SELECT subject, name, organisation, districts FROM mediators "
                "WHERE active AND districts && $1::text[] ORDER BY organisation, name",
                list(principal.districts),
            )
        return [
            {
                "subject": r["subject"],
                "name": r["name"],
                "organisation": r["organisation"],
                "organisation_name": labels.ORGANISATIONS.get(r["organisation"]),
                "districts": list(r["districts"]),
            }
            for r in rows
        ]

    @work.get(
        "/api/v1/sessions/{session_id}",
        summary="调解记录（含笔录摘要；查看笔录记入审计）",
        responses={404: {"description": SESSION_NOT_FOUND}},
    )
    async def session_detail(
        session_id: uuid.UUID, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            row, loaded = await load_session(uow.conn, session_id, principal)
            room_row = await room(uow.conn, row["room_id"])
            names = await mediator_names(uow.conn, list(row["mediator_ids"]))
            gates = [case_gate(principal, c.consent_scopes) for c in loaded.cases]
            withheld = next((g.missing for g in gates if not g.allowed), None)
            record = None
            if row["record_enc"] is not None and withheld is None:
                record = cipher.decrypt(row["record_enc"], f"sessions.record:{session_id}")
                uow.audit(
                    "mediation.session_record_viewed",
                    case_id=loaded.cases[0].case_id if loaded.cases else None,
                    case_number=loaded.m.mediation_number,
                    district_code=loaded.m.district_code,
                    reason="case_handling",
                    detail=f"session {session_id}",
                )
        return {
            "session_id": str(session_id),
            "mediation_number": row["mediation_number"],
            "status": row["status"],
            "status_name": labels.SESSION_STATUSES.get(row["status"], row["status"]),
            "room_name": room_row["name"],
            "starts_at": row["starts_at"].isoformat(),
            "ends_at": row["ends_at"].isoformat(),
            "workers": (
                [views.worker_label(w) for w in row["workers"]] if withheld is None else None
            ),
            "worker_count": len(row["workers"]),
            "representatives_elected": row["representatives_elected"],
            "employer_representative": row["employer_representative"],
            "mediators": [names.get(i, i) for i in row["mediator_ids"]],
            "organisation_names": [labels.ORGANISATIONS.get(o, o) for o in row["organisations"]],
            "no_show": row["no_show"],
            "no_show_name": labels.NO_SHOW_PARTIES.get(row["no_show"] or ""),
            "attended_workers": (
                len(row["attended_workers"]) if row["attended_workers"] is not None else None
            ),
            "attended_employer": row["attended_employer"],
            "attended_mediators": [names.get(i, i) for i in row["attended_mediators"] or []],
            "record": record,
            "record_withheld": withheld if row["record_enc"] is not None else None,
            "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else None,
            "next_session_id": str(row["next_session_id"]) if row["next_session_id"] else None,
            "moves": row["moves"],
            "history": [
                {
                    "action": h["action"],
                    "starts_at": h["starts_at"].isoformat(),
                    "ends_at": h["ends_at"].isoformat(),
                    "reason_name": labels.SESSION_MOVE_REASONS.get(h["reason"] or "", h["reason"]),
                    "at": h["at"].isoformat(),
                }
                for h in await _history(runtime, session_id)
            ],
        }

    # ------------------------------------------------------------ acting

    @work.post(
        "/api/v1/mediations/{number}/accept",
        summary="受理调解申请（规章期限起算）",
        responses={404: {"description": NOT_FOUND}, 409: {"description": "已受理或已结案"}},
    )
    async def accept(
        number: str, principal: Annotated[Principal, WORK], body: AcceptIn | None = None
    ) -> dict[str, Any]:
        body = body or AcceptIn()
        on = body.accepted_on or today()
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            loaded = await load_visible(uow.conn, number, principal, lock=True)
            m = loaded.m
            require_open(m)
            if m.status != "received":
                raise HTTPException(409, f"调解案件 {number} 已于{m.accepted_on}受理")
            if on > today():
                raise HTTPException(422, "受理日期不能晚于今天")
            if on < m.received_on:
                raise HTTPException(422, f"受理日期不能早于收到申请的日期（{m.received_on}）")
            m.status, m.accepted_on = "accepted", on
            m.clocks = compute_clocks(
                policy, calendar, received_on=m.received_on, accepted_on=on,
                extended_days=m.extended_days,
            )  # fmt: skip
            await store.save_mediations(uow.conn, [m])
            uow.emit(
                MediationAccepted(
                    **loaded.header,
                    accepted_on=on,
                    clocks=m.clocks,
                    accepted_at=datetime.now(UTC),
                ),
                subject=str(m.mediation_id),
            )
        return {"mediation_number": number, "clocks": views.clock_view(m, today())}

    @work.post(
        "/api/v1/mediations/{number}/extensions",
        summary="延长规章调解期限（须记录双方同意）",
        responses={404: {"description": NOT_FOUND}, 409: {"description": "不能延长"}},
    )
    async def extend(
        number: str, body: ExtensionIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            loaded = await load_visible(uow.conn, number, principal, lock=True)
            m = loaded.m
            require_running(m)
            try:
                check_extension(
                    policy,
                    accepted_on=m.accepted_on,
                    extended_days=m.extended_days,
                    days=body.days,
                    workers_consented_on=body.workers_consented_on,
                    employer_consented_on=body.employer_consented_on,
                    today=today(),
                )
            except ExtensionRefused as exc:
                raise HTTPException(409, str(exc)) from exc
            assert body.workers_consented_on and body.employer_consented_on
            extension_id = uuid.uuid4()
            await uow.conn.execute(
                """INSERT INTO clock_extensions (extension_id, mediation_id, days,
                       workers_consented_on, employer_consented_on, recorded_by)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                extension_id,
                m.mediation_id,
                body.days,
                body.workers_consented_on,
                body.employer_consented_on,
                principal.subject,
            )
            m.extended_days += body.days
            m.clocks = compute_clocks(
                policy, calendar, received_on=m.received_on, accepted_on=m.accepted_on,
                extended_days=m.extended_days,
            )  # fmt: skip
            await store.save_mediations(uow.conn, [m])
            uow.emit(
                MediationClockExtended(
                    **loaded.header,
                    extension_id=extension_id,
                    days=body.days,
                    workers_consented_on=body.workers_consented_on,
                    employer_consented_on=body.employer_consented_on,
                    clocks=m.clocks,
                    extended_at=datetime.now(UTC),
                ),
                subject=str(m.mediation_id),
            )
        return {"mediation_number": number, "clocks": views.clock_view(m, today())}

    @work.put(
        "/api/v1/mediations/{number}/representatives",
        summary="记录职工推举的代表（十人以上，调解仲裁法第七条）",
        responses={404: {"description": NOT_FOUND}},
    )
    async def representatives(
        number: str, body: RepresentativesIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            loaded = await load_visible(uow.conn, number, principal, lock=True)
            require_running(loaded.m)
            require_personal_data(principal, loaded.cases)
            everyone = {w["worker_ref"] for w in distinct_workers(loaded.cases)}
            strangers = [w for w in body.worker_refs if w not in everyone]
            if strangers:
                raise HTTPException(422, "代表须为本案职工")
            if body.elected_on > today():
                raise HTTPException(422, "推举日期不能晚于今天")
            await uow.conn.execute(
                "UPDATE mediations SET representatives = $2, representatives_on = $3 "
                "WHERE mediation_id = $1",
                loaded.m.mediation_id,
                list(dict.fromkeys(body.worker_refs)),
                body.elected_on,
            )
            uow.audit(
                "mediation.representatives_recorded",
                case_number=number,
                district_code=loaded.m.district_code,
                detail=f"{len(body.worker_refs)} representatives",
            )
        return {"mediation_number": number, "representatives": len(body.worker_refs)}

    @work.post(
        "/api/v1/mediations/{number}/sessions",
        status_code=201,
        summary="预约调解（调解室与调解员不能重复占用）",
        responses={
            404: {"description": NOT_FOUND},
            409: {"description": "调解室或调解员在该时间已被占用（中文说明冲突的安排）"},
        },
    )
    async def schedule_session(
        number: str, body: SessionIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            conn = uow.conn
            await register_self(conn, principal)
            loaded = await load_visible(conn, number, principal, lock=True)
            m = loaded.m
            require_running(m)
            room_row = await room(conn, body.room_id)
            mediators_ = await choose_mediators(conn, body.mediator_ids, m)
            workers, elected = choose_workers(loaded, body.workers)
            organisations = list(body.organisations or m.organisations or ["union"])
            session_id = await _book(
                uow, loaded, room_row, body.starts_at, body.ends_at, workers, elected,
                body.employer_representative, mediators_, organisations, principal,
            )  # fmt: skip
        return {"session_id": str(session_id), "mediation_number": number}

    @work.post(
        "/api/v1/sessions/{session_id}/move",
        summary="调整调解时间、调解室或调解员",
        responses={404: {"description": SESSION_NOT_FOUND}, 409: {"description": "冲突"}},
    )
    async def move_session(
        session_id: uuid.UUID, body: MoveIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            conn = uow.conn
            row, loaded = await load_session(conn, session_id, principal, lock=True)
            require_running(loaded.m)
            if row["status"] != "scheduled":
                status = labels.SESSION_STATUSES.get(row["status"], row["status"])
                raise HTTPException(409, f"该次调解已{status}，不能再改期；请预约新的调解")
            old_room = await room(conn, row["room_id"])
            new_room = await room(conn, body.room_id) if body.room_id else old_room
            mediators_ = (
                await choose_mediators(conn, body.mediator_ids, loaded.m)
                if body.mediator_ids
                else list(row["mediator_ids"])
            )
            if (
                new_room["room_id"] == row["room_id"]
                and body.starts_at == row["starts_at"]
                and body.ends_at == row["ends_at"]
                and mediators_ == list(row["mediator_ids"])
            ):
                raise HTTPException(409, "时间、调解室和调解员都没有变化")
            try:
                await booking.move(
                    conn,
                    session_id=session_id,
                    slot=booking.Slot(new_room["room_id"], body.starts_at, body.ends_at),
                    mediator_ids=mediators_,
                    reason=body.reason,
                    actor=principal.subject,
                )
            except booking.BookingConflict as exc:
                raise HTTPException(409, str(exc)) from exc
            parties = session_parties(row).model_copy(update={"mediator_ids": mediators_})
            uow.emit(
                MediationSessionMoved(
                    **loaded.header,
                    session_id=session_id,
                    previous=place(old_room, row["starts_at"], row["ends_at"]),
                    place=place(new_room, body.starts_at, body.ends_at),
                    parties=parties,
                    reason=body.reason,
                    moved_at=datetime.now(UTC),
                ),
                subject=str(loaded.m.mediation_id),
            )
        return {"session_id": str(session_id), "moved": True}

    @work.post(
        "/api/v1/sessions/{session_id}/record",
        summary="记录调解情况：已调解、当事人未到场或休会（可同时预约续调）",
        responses={404: {"description": SESSION_NOT_FOUND}, 409: {"description": "已记录"}},
    )
    async def record_session(
        session_id: uuid.UUID, body: RecordIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            conn = uow.conn
            row, loaded = await load_session(conn, session_id, principal, lock=True)
            require_open(loaded.m)
            if row["status"] != "scheduled":
                status = labels.SESSION_STATUSES.get(row["status"], row["status"])
                raise HTTPException(409, f"该次调解已记录为“{status}”，不能重复记录")
            if row["starts_at"] > datetime.now(UTC):
                raise HTTPException(
                    409, "该次调解尚未开始，开始后才能记录调解情况；如需改期请用“改期”"
                )
            if body.record or body.attended_workers is not None:
                require_personal_data(principal, loaded.cases)
            called = list(row["workers"])
            attended = (
                body.attended_workers
                if body.attended_workers is not None
                else ([] if body.no_show in ("workers", "both") else called)
            )
            stray = [w for w in attended if w not in called]
            if stray:
                raise HTTPException(422, "到场职工须为通知参加本次调解的职工或代表")
            mediators_at = body.attended_mediators or list(row["mediator_ids"])
            if not set(mediators_at) <= set(row["mediator_ids"]):
                raise HTTPException(422, "到场调解员须为本次调解安排的调解员")
            record_enc = (
                cipher.encrypt(redact_text(body.record), f"sessions.record:{session_id}")
                if body.record
                else None
            )
            next_id = None
            room_row = await room(conn, row["room_id"])
            if body.next_session is not None:
                nxt = body.next_session
                next_room = await room(conn, nxt.room_id)
                next_id = await _book(
                    uow, loaded, next_room, nxt.starts_at, nxt.ends_at, called,
                    row["representatives_elected"], row["employer_representative"],
                    list(row["mediator_ids"]), list(row["organisations"]), principal,
                )  # fmt: skip
            await conn.execute(
                """UPDATE sessions SET status = $2, attended_workers = $3,
                       attended_employer = $4, attended_mediators = $5, no_show = $6,
                       record_enc = $7, next_session_id = $8, recorded_by = $9,
                       recorded_at = now()
                   WHERE session_id = $1""",
                session_id,
                body.outcome,
                attended,
                body.employer_attended and body.no_show not in ("employer", "both"),
                mediators_at,
                body.no_show,
                record_enc,
                next_id,
                principal.subject,
            )
            await conn.execute(
                """INSERT INTO session_history (session_id, action, starts_at, ends_at, room_id,
                       reason, actor_id) VALUES ($1, $2, $3, $4, $5, NULL, $6)""",
                session_id,
                body.outcome,
                row["starts_at"],
                row["ends_at"],
                row["room_id"],
                principal.subject,
            )
            uow.emit(
                MediationSessionHeld(
                    **loaded.header,
                    session_id=session_id,
                    outcome=body.outcome,
                    place=place(room_row, row["starts_at"], row["ends_at"]),
                    attended=Party(
                        workers=attended,
                        representatives_elected=row["representatives_elected"],
                        employer_representative=body.employer_attended
                        and body.no_show not in ("employer", "both"),
                        mediator_ids=mediators_at,
                        organisations=list(row["organisations"]),
                    ),
                    no_show=body.no_show,
                    next_session_id=next_id,
                    recorded_at=datetime.now(UTC),
                ),
                subject=str(loaded.m.mediation_id),
            )
        return {
            "session_id": str(session_id),
            "status": body.outcome,
            "next_session_id": str(next_id) if next_id else None,
        }

    @work.post(
        "/api/v1/mediators/{subject}/away",
        status_code=201,
        summary="登记调解员不在岗时间（外出、休假）",
        responses={409: {"description": "与已有安排冲突"}},
    )
    async def away(
        subject: str, body: AwayIn, principal: Annotated[Principal, WORK]
    ) -> dict[str, Any]:
        if "\x00" in subject:
            raise HTTPException(404, "调解员名册中没有此人")
        if principal.role is Role.MEDIATOR and subject != principal.subject:
            raise HTTPException(403, "调解员只能登记本人的不在岗时间；他人的请由协调人登记")
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            await register_self(uow.conn, principal)
            if not await mediator_names(uow.conn, [subject]):
                raise HTTPException(404, "调解员名册中没有此人")
            try:
                booking_id = await booking.block_time(
                    uow.conn,
                    mediator_id=subject,
                    starts_at=body.starts_at,
                    ends_at=body.ends_at,
                    note=redact_text(body.note),
                )
            except booking.BookingConflict as exc:
                raise HTTPException(409, str(exc)) from exc
        return {"booking_id": str(booking_id)}

    # ------------------------------------------------------------ the coordinator

    @coordinating.put(
        "/api/v1/mediations/{number}/assignment",
        summary="协调人调整主持调解员与参加单位（记录操作人与理由）",
        responses={404: {"description": NOT_FOUND}},
    )
    async def reassign(
        number: str, body: AssignmentIn, principal: Annotated[Principal, COORDINATOR]
    ) -> dict[str, Any]:
        reason = redact_text(body.reason)
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            conn = uow.conn
            loaded = await load_visible(conn, number, principal, lock=True)
            m = loaded.m
            require_open(m)
            lead = await conn.fetchrow(
                "SELECT subject, name, organisation, districts FROM mediators "
                "WHERE subject = $1 AND active",
                body.lead_mediator_id,
            )
            if lead is None:
                raise HTTPException(422, "主持调解员不在调解员名册中或已停岗")
            if m.district_code not in lead["districts"]:
                district = labels.DISTRICTS.get(m.district_code, m.district_code)
                raise HTTPException(422, f"{lead['name']}不负责{district}的调解")
            organisations: list[str] = [o for o in ORGANISATIONS if o in set(body.organisations)]
            if lead["organisation"] not in organisations:
                org = labels.ORGANISATIONS.get(lead["organisation"], lead["organisation"])
                raise HTTPException(422, f"主持调解员所属的{org}须在参加单位之中")
            previous_lead, previous_orgs = m.lead_mediator_id, list(m.organisations)
            m.lead_mediator_id, m.lead_mediator_name = lead["subject"], lead["name"]
            m.lead_organisation = lead["organisation"]
            m.organisations = organisations
            m.five_party = frozenset(organisations) == FIVE_PARTY
            m.assigned_by, m.assignment_rules = "coordinator", []
            if body.sensitive is not None:
                m.sensitive = body.sensitive
            await store.save_mediations(conn, [m])
            await conn.execute(
                """INSERT INTO assignment_changes (change_id, mediation_id, actor_id, actor_role,
                       previous_lead_id, lead_mediator_id, previous_orgs, organisations, reason)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                uuid.uuid4(),
                m.mediation_id,
                principal.subject,
                principal.role.value,
                previous_lead,
                lead["subject"],
                previous_orgs,
                organisations,
                reason,
            )
            uow.emit(
                MediationAssigned(
                    **loaded.header,
                    lead_mediator_id=lead["subject"],
                    lead_mediator_name=lead["name"],
                    lead_organisation=lead["organisation"],
                    organisations=organisations,
                    five_party=m.five_party,
                    rule_ids=[],
                    assigned_by="coordinator",
                    previous_lead_mediator_id=previous_lead,
                    reason=reason,
                    assigned_at=datetime.now(UTC),
                ),
                subject=str(m.mediation_id),
            )
        return {
            "mediation_number": number,
            "lead_mediator_name": lead["name"],
            "organisations": organisations,
            "five_party": m.five_party,
        }

    @coordinating.put("/api/v1/mediators/{subject}", summary="登记或更新调解员名册")
    async def put_mediator(
        subject: str, body: MediatorIn, principal: Annotated[Principal, COORDINATOR]
    ) -> dict[str, Any]:
        if "\x00" in subject or len(subject) > 200:
            raise HTTPException(422, "调解员标识须为身份认证服务中的用户标识（不超过200字符）")
        unknown = [d for d in body.districts if labels.district_problem(d)]
        if unknown:
            raise HTTPException(422, labels.district_problem(unknown[0]) or "区县代码有误")
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            changed = await store.upsert_mediator(
                uow.conn, subject, body.name, body.organisation, body.districts, body.active
            )
            uow.audit("mediation.mediator_registered", detail=f"mediator {subject}")
        return {"subject": subject, "changed": changed}

    @coordinating.post("/api/v1/rooms", status_code=201, summary="登记调解室")
    async def add_room(
        body: RoomIn, principal: Annotated[Principal, COORDINATOR]
    ) -> dict[str, Any]:
        problem = labels.district_problem(body.district_code)
        if problem:
            raise HTTPException(422, problem)
        if not principal.covers(body.district_code):
            raise HTTPException(403, "只能登记本人工作范围内区县的调解室")
        room_id = uuid.uuid4()
        async with runtime.unit_of_work(actor_of(principal)) as uow:
            inserted = await uow.conn.fetchval(
                """INSERT INTO rooms (room_id, name, kind, district_code, location, capacity)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING
                   RETURNING room_id""",
                room_id,
                body.name,
                body.kind,
                body.district_code,
                body.location,
                body.capacity,
            )
            if inserted is None:
                raise HTTPException(409, f"已有名为“{body.name}”的调解室")
            uow.audit("mediation.room_added", district_code=body.district_code, detail=body.name)
        return {"room_id": str(room_id)}

    # ------------------------------------------------------------ the page

    @work.get("/workbench", response_class=HTMLResponse, summary="调解工作台", tags=["pages"])
    async def workbench(request: Request) -> Response:
        html = (STATIC / "workbench.html").read_text(encoding="utf-8")
        return page_with_csrf(request, html)

    async def _history(rt: Runtime, session_id: uuid.UUID) -> list[Any]:
        async with rt.pool().acquire() as conn:
            return list(
                await conn.fetch(
                    "SELECT action, starts_at, ends_at, reason, at FROM session_history "
                    "WHERE session_id = $1 ORDER BY id",
                    session_id,
                )
            )

    return [work, coordinating, naming, assets]


async def _book(
    uow: UnitOfWork,
    loaded: Loaded,
    room_row: Any,
    starts_at: datetime,
    ends_at: datetime,
    workers: list[str],
    elected: bool,
    employer_representative: bool,
    mediator_ids: list[str],
    organisations: list[str],
    principal: Principal,
) -> uuid.UUID:
    session_id = uuid.uuid4()
    try:
        await booking.book(
            uow.conn,
            session_id=session_id,
            mediation_id=loaded.m.mediation_id,
            slot=booking.Slot(room_row["room_id"], starts_at, ends_at),
            workers=workers,
            representatives_elected=elected,
            employer_representative=employer_representative,
            mediator_ids=mediator_ids,
            organisations=organisations,
            actor=principal.subject,
        )
    except booking.BookingConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    uow.emit(
        MediationSessionScheduled(
            **loaded.header,
            session_id=session_id,
            place=place(room_row, starts_at, ends_at),
            parties=Party(
                workers=workers,
                representatives_elected=elected,
                employer_representative=employer_representative,
                mediator_ids=mediator_ids,
                organisations=organisations,
            ),
            scheduled_at=datetime.now(UTC),
        ),
        subject=str(loaded.m.mediation_id),
    )
    return session_id


def _urgency_key(item: dict[str, Any]) -> tuple[int, str]:
    lefts = [c["days_left"] for c in item["clocks"] if c["days_left"] is not None]
    return (min(lefts) if lefts else 10_000, item["mediation_number"])
