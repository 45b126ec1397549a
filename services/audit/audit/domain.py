"""The audit trail's rules, without I/O: search filters, paging cursors, the Chinese words
a record is shown with, and which monthly partitions exist ahead and which have expired."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from weiquan_shared import labels

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PARTITION_PREFIX = "audit_records_"
_PARTITION_NAME = re.compile(rf"^{PARTITION_PREFIX}(\d{{4}})_(\d{{2}})$")
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")

# The Chinese name of each filter, for error messages (and the page's labels).
FILTER_LABELS = {
    "actor": "操作人",
    "role": "角色",
    "action": "操作",
    "case_number": "案件编号",
    "district": "区",
    "outcome": "结果",
    "from": "起始日期",
    "to": "截止日期",
    "limit": "每页条数",
    "cursor": "翻页位置",
}


def action_label(action: str) -> str:
    return labels.AUDIT_ACTIONS.get(action, action)


def reason_label(reason: str | None) -> str:
    return labels.AUDIT_REASONS.get(reason, reason) if reason else ""


def outcome_label(outcome: str) -> str:
    return labels.AUDIT_OUTCOMES.get(outcome, outcome)


def role_label(role: str | None) -> str:
    return labels.ROLES.get(role, role) if role else ""


# ---------------------------------------------------------------- search filters


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the last record shown (newest first)."""

    occurred_at: datetime
    record_id: uuid.UUID

    def encode(self) -> str:
        micros = (self.occurred_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.record_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        micros, _, record_id = text.partition("_")
        return cls(EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(record_id))


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    role: str | None = None
    action: str | None = None
    case_number: str | None = None
    district: str | None = None
    outcome: str | None = None
    since: datetime | None = None  # inclusive: the start of the ``from`` day, China time
    until: datetime | None = None  # exclusive: the start of the day after ``to``
    limit: int = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None


class InvalidFilters(ValueError):
    """Filters a person must correct; ``errors`` in the shape of every 422 answer."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def _china_day_start(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA)


def parse_filters(params: Mapping[str, str]) -> AuditFilters:
    """Read the search's query parameters (blank ones ignored); every wrong one is named."""
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}

    def problem(field: str, reason: str) -> None:
        label = FILTER_LABELS[field]
        errors.append(
            {"field": field, "path": field, "label": label, "message": f"{label}：{reason}"}
        )

    raw = {k: v.strip() for k, v in params.items() if k in FILTER_LABELS and v.strip()}
    for field, limit in (("actor", 200), ("case_number", 40)):
        if field in raw:
            if len(raw[field]) > limit:
                problem(field, f"内容过长（最多 {limit} 个字符）")
            else:
                values[field] = raw[field]
    if "action" in raw:
        if _ACTION.match(raw["action"]):
            values["action"] = raw["action"]
        else:
            known = "、".join(f"{name}（{code}）" for code, name in labels.AUDIT_ACTIONS.items())
            problem("action", f"不认识的操作 {raw['action'][:40]}，可选：{known}")
    for field, table in (("role", labels.ROLES), ("outcome", labels.AUDIT_OUTCOMES)):
        if field in raw:
            if raw[field] in table:
                values[field] = raw[field]
            else:
                known = "、".join(f"{name}（{code}）" for code, name in table.items())
                problem(field, f"取值无效，可选：{known}")
    if "district" in raw:
        trouble = labels.district_problem(raw["district"])
        if trouble:
            problem("district", trouble)
        else:
            values["district"] = raw["district"]
    days: dict[str, date] = {}
    for field in ("from", "to"):
        if field in raw:
            try:
                days[field] = date.fromisoformat(raw[field])
            except ValueError:
                problem(field, "日期格式不正确，应为 YYYY-MM-DD（如 2026-03-01）")
    if "from" in days and "to" in days and days["from"] > days["to"]:
        problem("to", "截止日期不能早于起始日期")
    elif days:
        if "from" in days:
            values["since"] = _china_day_start(days["from"])
        if "to" in days:
            values["until"] = _china_day_start(days["to"] + timedelta(days=1))
    if "limit" in raw:
        try:
            limit = int(raw["limit"])
        except ValueError:
            limit = 0
        if 1 <= limit <= MAX_PAGE_SIZE:
            values["limit"] = limit
        else:
            problem("limit", f"应为 1 到 {MAX_PAGE_SIZE} 之间的整数")
    if "cursor" in raw:
        try:
            values["cursor"] = Cursor.decode(raw["cursor"])
        except (ValueError, OverflowError):
            problem("cursor", "无效，请从第一页重新查询")
    if errors:
        raise InvalidFilters(errors)
    return AuditFilters(**values)


# ---------------------------------------------------------------- what a page shows


def record_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record as the API answers it: codes, and their Chinese names beside them."""
    occurred_at: datetime = row["occurred_at"]
    district = row["district_code"]
    return {
        "record_id": str(row["record_id"]),
        "occurred_at": occurred_at.isoformat(),
        "occurred_at_china": occurred_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        "actor_kind": row["actor_kind"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "actor_role_name": role_label(row["actor_role"]),
        "service": row["service"],
        "action": row["action"],
        "action_name": action_label(row["action"]),
        "outcome": row["outcome"],
        "outcome_name": outcome_label(row["outcome"]),
        "case_id": str(row["case_id"]) if row["case_id"] else None,
        "case_number": row["case_number"],
        "district_code": district,
        "district_name": labels.DISTRICTS.get(district, district) if district else "",
        "reason": row["reason"],
        "reason_name": reason_label(row["reason"]),
        "detail": row["detail"],
    }


# ---------------------------------------------------------------- partitions and retention


@dataclass(frozen=True)
class Partition:
    """One calendar month of records, China time: ``starts`` inclusive, ``ends`` exclusive."""

    name: str
    starts: datetime
    ends: datetime


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_partition(day: date) -> Partition:
    month = _month_start(day)
    return Partition(
        f"{PARTITION_PREFIX}{month:%Y_%m}",
        _china_day_start(month),
        _china_day_start(_next_month(month)),
    )


def partition_for(moment: datetime) -> Partition:
    return month_partition(moment.astimezone(CHINA).date())


def partitions_ahead(now: datetime, months_ahead: int) -> list[Partition]:
    """This month's partition and the next ``months_ahead`` (created before they are needed)."""
    month = _month_start(now.astimezone(CHINA).date())
    partitions = []
    for _ in range(months_ahead + 1):
        partitions.append(month_partition(month))
        month = _next_month(month)
    return partitions


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Records that occurred before this moment are past retention."""
    return now - timedelta(days=retention_days)


def expired_partitions(names: Iterable[str], cutoff: datetime) -> list[str]:
    """Partitions whose every record occurred before ``cutoff`` (whole months only: a month
    is dropped once its last day is past retention, so records live up to a month longer)."""
    expired = []
    for name in names:
        match = _PARTITION_NAME.match(name)
        if match is None:
            continue
        partition = month_partition(date(int(match[1]), int(match[2]), 1))
        if partition.ends <= cutoff:
            expired.append(name)
    return sorted(expired)
