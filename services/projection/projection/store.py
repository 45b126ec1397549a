"""Projection's read models: writing facts, deriving rows, and the queries behind every figure.

Writes: :func:`apply` stores one event's facts and re-derives the cases it touched (the live
consumer, inside its inbox transaction); :mod:`projection.rebuild` COPYs facts in bulk and
calls ``rebuild_derived()``. Both derive with the SQL of migration 0003.

Reads: every figure is a :class:`Figure`, whose ``cases`` filter lists the cases behind it,
so the dashboard's drill-down and the report's detail sheets show exactly what was counted.
Every read is limited to the caller's districts in its SQL (``Filters.districts``, from
:class:`projection.scope.Scope`), never by filtering rows afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import asyncpg

from projection import labels, legal_aid, mediation
from projection.domain import FACT_COLUMNS, Facts
from projection.handling import HANDLING
from projection.periods import rate

# ---------------------------------------------------------------- writes


async def apply(conn: asyncpg.Connection, facts: Facts) -> None:
    """Store facts and re-derive the cases they change (caller holds a transaction)."""
    for table, rows in facts.rows.items():
        columns = FACT_COLUMNS[table]
        if table == "fact_consultation":
            await _record_consultations(conn, rows)
            continue
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
            "ON CONFLICT DO NOTHING",
            rows,
        )
    if facts.cases:
        await conn.execute("SELECT refresh_cases($1::uuid[])", sorted(facts.cases))


async def _record_consultations(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert consultations and count the new ones (not a replayed one) in the rollup."""
    columns = FACT_COLUMNS["fact_consultation"]
    await conn.execute(
        f"""WITH inserted AS (
                INSERT INTO fact_consultation ({", ".join(columns)})
                SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                     $6::timestamptz[], $7::date[])
                ON CONFLICT DO NOTHING RETURNING day, district_code, channel)
            INSERT INTO case_rollup AS r (day, district_code, dim, key, n, workers)
            SELECT day, district_code, 'consultation', channel, count(*), 0
            FROM inserted GROUP BY day, district_code, channel
            ON CONFLICT (day, district_code, dim, key) DO UPDATE SET n = r.n + excluded.n""",
        *(list(column) for column in zip(*rows, strict=True)),
    )


# The figures' plans cost enough to trigger PostgreSQL's JIT, whose compilation takes far
# longer (hundreds of ms) than the queries it would speed up (tens of ms).
NO_JIT = "SET LOCAL jit = off"


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """Which cases a figure or list covers: districts, report days [since, until), and more.

    ``districts`` is the caller's scope (narrowed to the district asked for, if any): the
    only districts read; ``None`` reads every district (an administrator). It has no
    default, so no query forgets it.
    """

    districts: tuple[str, ...] | None
    since: date | None = None
    until: date | None = None
    case_number: str | None = None
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    industry: str | None = None
    employer: str | None = None
    platform: bool | None = None
    grouped: bool | None = None
    repeat_employer: bool | None = None
    deadline_at_risk: bool | None = None
    today: date | None = None

    def where(self, alias: str = "s") -> tuple[str, list[Any]]:
        # A voided case is in no figure and no list behind one (it keeps its own page).
        clauses = [f"{alias}.reported_at IS NOT NULL", f"NOT {alias}.voided"]
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if self.districts is not None:
            clauses.append(f"{alias}.district_code = ANY({arg(list(self.districts))}::text[])")
        equal = {
            "status": self.status,
            "channel": self.channel,
        }
        for column, value in equal.items():
            if value is not None:
                clauses.append(f"{alias}.{column} = {arg(value)}")
        if self.category is not None:
            if self.category == "untriaged":
                clauses.append(f"{alias}.category IS NULL")
            else:
                clauses.append(f"{alias}.category = {arg(self.category)}")
        if self.industry is not None:
            if self.industry == "unknown":
                clauses.append(f"{alias}.industry IS NULL")
            else:
                clauses.append(f"{alias}.industry = {arg(self.industry)}")
        if self.since is not None:
            clauses.append(f"{alias}.report_day >= {arg(self.since)}")
        if self.until is not None:
            clauses.append(f"{alias}.report_day < {arg(self.until)}")
        if self.case_number:
            escaped = self.case_number.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            clauses.append(f"{alias}.case_number LIKE {arg(escaped + '%')}")
        if self.employer:
            escaped = self.employer.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            clauses.append(f"{alias}.employer_name ILIKE {arg('%' + escaped + '%')}")
        for column, flag in (
            ("is_platform", self.platform),
            ("repeat_employer", self.repeat_employer),
        ):
            if flag is not None:
                clauses.append(f"{alias}.{column} = {arg(flag)}")
        if self.grouped is not None:
            clauses.append(f"{alias}.group_id IS {'NOT ' if self.grouped else ''}NULL")
        if self.deadline_at_risk:
            today = arg(self.today or date.today())
            clauses.append(
                f"EXISTS (SELECT 1 FROM case_deadline d WHERE d.case_id = {alias}.case_id "
                f"AND d.at_risk_from <= {today} AND d.due_on >= {today})"
            )
        return " AND ".join(clauses), args

    def rollup_where(self, day: str = "day") -> tuple[str, list[Any]]:
        """The districts and days of a table keyed by district and ``day`` (the rollup,
        consultations, employer flags)."""
        clauses, args = ["true"], list[Any]()
        if self.districts is not None:
            args.append(list(self.districts))
            clauses.append(f"district_code = ANY(${len(args)}::text[])")
        for clause, value in ((f"{day} >= ", self.since), (f"{day} < ", self.until)):
            if value is not None:
                args.append(value)
                clauses.append(f"{clause}${len(args)}")
        return " AND ".join(clauses), args


# ---------------------------------------------------------------- figures

# Breakdowns: rollup dimension → (labels, title).
BREAKDOWNS: dict[str, tuple[str, dict[str, str], str]] = {
    "by_channel": ("channel", labels.CHANNELS, "按受理渠道"),
    "by_category": ("category", {**labels.CATEGORIES, "untriaged": labels.UNTRIAGED}, "按争议类别"),
    "by_district": ("district_code", labels.DISTRICTS, "按区县"),
    "by_industry": ("industry", {"unknown": labels.INDUSTRY_UNKNOWN}, "按行业"),
    "by_status": ("status", labels.STATUSES, "按办理状态"),
    "by_urgency": ("urgency", labels.URGENCIES, "按紧急程度"),
}

# Figures the issue asks for that need events no service publishes yet.
PENDING_FIGURES = [
    {
        "name": "全部案件平均办结时长、90%案件办结时长（调解案件的平均办结天数已单列）",
        "waiting_for": "案件层面的办结事件（目前调解、法律援助各自记录办结）",
    },
]


async def figures(conn: asyncpg.Connection, filters: Filters, today: date) -> dict[str, Any]:
    """Every figure for ``filters`` (district and period); deadlines are as of ``today``."""
    where, args = filters.rollup_where()
    rows = await conn.fetch(
        f"""SELECT dim, key, sum(n)::bigint AS n, sum(workers)::bigint AS workers
            FROM case_rollup WHERE {where} GROUP BY dim, key HAVING sum(n) > 0""",
        *args,
    )
    by_district = await conn.fetch(
        f"""SELECT district_code AS key, sum(n)::bigint AS n, sum(workers)::bigint AS workers
            FROM case_rollup WHERE {where} AND dim = 'total'
            GROUP BY district_code HAVING sum(n) > 0""",
        *args,
    )
    cells: dict[str, dict[str, asyncpg.Record]] = {}
    for row in rows:
        cells.setdefault(row["dim"], {})[row["key"]] = row
    cells["district_code"] = {r["key"]: r for r in by_district}

    def count(dim: str, key: str) -> tuple[int, int]:
        cell = cells.get(dim, {}).get(key)
        return (int(cell["n"]), int(cell["workers"])) if cell else (0, 0)

    case_where, case_args = filters.where()
    groups = await conn.fetchrow(
        f"""SELECT count(DISTINCT s.group_id) AS n FROM case_summary s
            WHERE {case_where} AND s.group_id IS NOT NULL""",
        *case_args,
    )
    at_risk_filters = Filters(filters.districts, today=today)
    risk_where, risk_args = at_risk_filters.where()
    risk_args.append(today)
    today_arg = f"${len(risk_args)}"
    at_risk = await conn.fetchval(
        f"""SELECT count(DISTINCT s.case_id) FROM case_deadline d
            JOIN case_summary s USING (case_id)
            WHERE {risk_where} AND d.at_risk_from <= {today_arg} AND d.due_on >= {today_arg}""",
        *risk_args,
    )
    flagged, repeat_args = _flagged_cases(filters)
    repeat = await conn.fetchval(
        f"WITH {flagged} SELECT count(DISTINCT employer_key) FROM flagged", *repeat_args
    )
    cases, workers = count("total", "all")
    group_cases, group_workers = count("group", "yes")
    platform_cases, platform_workers = count("platform", "yes")
    consultations = sum(int(r["n"]) for r in cells.get("consultation", {}).values())
    result: dict[str, Any] = {
        "totals": {
            "cases": cases,
            "workers": workers,
            "awaiting_triage": count("status", "awaiting_triage")[0],
            "group_disputes": int(groups["n"]),
        },
        "figures": {
            "consultations": consultations,
            "group_dispute_cases": group_cases,
            "group_dispute_workers": group_workers,
            "platform_cases": platform_cases,
            "platform_workers": platform_workers,
            "deadlines_at_risk": int(at_risk),
            "repeat_employers": int(repeat),
            "repeat_employer_cases": count("repeat_employer", "yes")[0],
        },
        "consultations_by_channel": _breakdown(cells.get("consultation", {}), labels.CHANNELS),
        "mediation": await mediation.figures(conn, filters.districts, filters.since, filters.until),
        "legal_aid": await legal_aid.figures(conn, filters.districts, filters.since, filters.until),
        "pending": PENDING_FIGURES,
    }
    for name, (dim, names, _) in BREAKDOWNS.items():
        result[name] = _breakdown(cells.get(dim, {}), names)
    return result


def _breakdown(cells: dict[str, asyncpg.Record], names: dict[str, str]) -> list[dict[str, Any]]:
    ordered = sorted(cells.values(), key=lambda r: (-int(r["n"]), r["key"]))
    return [
        {
            "code": r["key"],
            "name": names.get(r["key"], r["key"]),
            "cases": int(r["n"]),
            "workers": int(r["workers"]),
        }
        for r in ordered
    ]


def _flagged_cases(filters: Filters) -> tuple[str, list[Any]]:
    """The CTE ``flagged``: one row per employer flag of the period and case it names, kept
    when the case's district (the flag's district while the case is unknown here) is in
    ``filters.districts``. An employer with cases in two districts is a repeat employer in
    each, with that district's cases only."""
    # The period picks the flags; the districts pick their cases (below).
    where, args = replace(filters, districts=None).rollup_where("f.flagged_day")
    args.append(None if filters.districts is None else list(filters.districts))
    scope = f"${len(args)}::text[]"
    return (
        f"""flagged AS (
            SELECT f.event_id, f.employer_key, f.employer_name, f.industry, f.window_days,
                   f.reason, f.flagged_at, c.case_id, s.case_number,
                   coalesce(s.district_code, f.district_code) AS district_code
            FROM fact_employer_flag f
            CROSS JOIN unnest(f.case_ids) AS c(case_id)
            LEFT JOIN case_summary s ON s.case_id = c.case_id
            WHERE {where}
              AND NOT coalesce(s.voided, false)
              AND ({scope} IS NULL
                   OR coalesce(s.district_code, f.district_code) = ANY({scope})))""",
        args,
    )


# ---------------------------------------------------------------- lists behind the figures

CASE_COLUMNS = (
    """s.case_number, s.channel, s.district_code, s.employer_name, s.industry,
    s.worker_count, s.platform_worker_count, s.claim_amount, s.reported_at, s.report_day,
    s.category, s.urgency, s.route, s.route_detail, s.status, s.group_id, s.group_number,
    s.repeat_employer, s.is_platform, s.assignee_name, s.voided,
    """
    + HANDLING
    + " AS handling"
)


def describe_case(row: asyncpg.Record) -> dict[str, Any]:
    case = dict(row)
    case["channel_name"] = labels.CHANNELS.get(row["channel"], row["channel"])
    case["district_name"] = labels.DISTRICTS.get(row["district_code"], row["district_code"])
    case["category_name"] = labels.CATEGORIES.get(row["category"], labels.UNTRIAGED)
    case["urgency_name"] = labels.URGENCIES.get(row["urgency"], labels.UNTRIAGED)
    case["status_name"] = labels.STATUSES.get(row["status"], row["status"])
    case["industry_name"] = row["industry"] or labels.INDUSTRY_UNKNOWN
    case["state"] = labels.case_status(
        voided=row["voided"], route=row["route"], handling=row["handling"]
    )
    case["state_name"] = labels.CASE_STATUSES[case["state"]]
    return case


async def list_cases(
    conn: asyncpg.Connection, filters: Filters, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """One page of the cases matching ``filters``, newest first."""
    where, args = filters.where()
    rows = await conn.fetch(
        f"""SELECT {CASE_COLUMNS} FROM case_summary s WHERE {where}
            ORDER BY s.reported_at DESC, s.case_id LIMIT {int(limit)} OFFSET {int(offset)}""",
        *args,
    )
    return [describe_case(r) for r in rows]


async def count_cases(conn: asyncpg.Connection, filters: Filters) -> int:
    where, args = filters.where()
    return int(await conn.fetchval(f"SELECT count(*) FROM case_summary s WHERE {where}", *args))


async def all_cases(conn: asyncpg.Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every case matching ``filters``, oldest first (the report's detail sheets)."""
    where, args = filters.where()
    rows = await conn.fetch(
        f"""SELECT {CASE_COLUMNS} FROM case_summary s WHERE {where}
            ORDER BY s.reported_at, s.case_number""",
        *args,
    )
    return [describe_case(r) for r in rows]


async def repeat_employers(conn: asyncpg.Connection, filters: Filters) -> list[dict[str, Any]]:
    """Employers flagged in the period, newest flag first: one row per employer as the figure
    counts them (``employer_key``: credit code, else normalised name), with every district
    and case behind its flags; name, window and reason are those of its newest flag."""
    flagged, args = _flagged_cases(filters)
    rows = await conn.fetch(
        f"""WITH {flagged},
            newest AS (
                SELECT DISTINCT ON (employer_key) employer_key, employer_name, industry,
                       window_days, reason, flagged_at
                FROM flagged ORDER BY employer_key, flagged_at DESC, event_id DESC)
            SELECT n.*,
                   (SELECT count(DISTINCT f.event_id) FROM flagged f
                    WHERE f.employer_key = n.employer_key) AS flags,
                   ARRAY(SELECT DISTINCT f.district_code FROM flagged f
                         WHERE f.employer_key = n.employer_key ORDER BY 1) AS district_codes,
                   (SELECT count(DISTINCT f.case_id) FROM flagged f
                    WHERE f.employer_key = n.employer_key) AS case_count,
                   ARRAY(SELECT DISTINCT f.case_number FROM flagged f
                         WHERE f.employer_key = n.employer_key AND f.case_number IS NOT NULL
                         ORDER BY 1) AS case_numbers
            FROM newest n""",
        *args,
    )
    employers = []
    for r in rows:
        employer = dict(r)
        del employer["employer_key"]  # internal: the normalised name is no label
        names = [labels.DISTRICTS.get(code, code) for code in r["district_codes"]]
        employers.append({**employer, "district_names": names, "district_name": "、".join(names)})
    return sorted(employers, key=lambda e: (e["flagged_at"], e["employer_name"]), reverse=True)


async def consultations(conn: asyncpg.Connection, filters: Filters) -> list[dict[str, Any]]:
    """Every consultation in the period and districts (they have no case number)."""
    where, args = filters.rollup_where()
    clauses = [where]
    if filters.channel is not None:
        args.append(filters.channel)
        clauses.append(f"channel = ${len(args)}")
    rows = await conn.fetch(
        f"""SELECT consultation_id, channel, district_code, topic, occurred_at
            FROM fact_consultation WHERE {" AND ".join(clauses)} ORDER BY occurred_at""",
        *args,
    )
    return [
        {
            **dict(r),
            "channel_name": labels.CHANNELS.get(r["channel"], r["channel"]),
            "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "topic_name": labels.CATEGORIES.get(r["topic"], r["topic"]),
        }
        for r in rows
    ]


async def deadlines(
    conn: asyncpg.Connection, filters: Filters, today: date
) -> list[dict[str, Any]]:
    """The clocks at risk today (at_risk_from ≤ today ≤ due_on), soonest first."""
    where, args = replace(filters, since=None, until=None, deadline_at_risk=None).where()
    args.append(today)
    rows = await conn.fetch(
        f"""SELECT s.case_number, s.district_code, s.employer_name, d.kind, d.due_on,
                   d.at_risk_from, d.note, s.assignee_id, s.assignee_name
            FROM case_deadline d JOIN case_summary s USING (case_id)
            WHERE {where} AND d.at_risk_from <= ${len(args)} AND d.due_on >= ${len(args)}
            ORDER BY d.due_on, s.case_number, d.kind""",
        *args,
    )
    return [
        {
            **dict(r),
            "kind_name": labels.CLOCKS.get(r["kind"], r["kind"]),
            "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "days_left": (r["due_on"] - today).days,
        }
        for r in rows
    ]


def deadline_state(due_on: date, at_risk_from: date | None, today: date) -> dict[str, Any]:
    """A deadline as of ``today``: running, at risk (with the days left) or expired.

    An expired deadline has no days left to show, not a negative number of them.
    """
    if due_on < today:
        state, left = "expired", None
    elif at_risk_from is not None and at_risk_from <= today:
        state, left = "at_risk", (due_on - today).days
    else:
        state, left = "running", (due_on - today).days
    return {"state": state, "state_name": labels.DEADLINE_STATES[state], "days_left": left}


# What the case page reads beyond a list row (shaped by case_file, not shown raw).
CASE_FILE_FIELDS = (
    "case_id",
    "reasons",
    "clocks",
    "assignee_id",
    "assigned_at",
    "consent_scopes",
    "consent_wording",
    "consent_obtained_by",
    "consent_at",
    "voided_at",
    "void_reason",
    "duplicate_of",
    "next_action_on",
    "review_open",
)
CASE_FILE_COLUMNS = ", ".join(f"s.{field}" for field in CASE_FILE_FIELDS)


def _clock_view(clock: dict[str, Any], today: date) -> dict[str, Any]:
    """One statutory clock as the case page shows it: its state today, its review flags."""
    due = date.fromisoformat(clock["due_on"]) if clock.get("due_on") else None
    at_risk_from = date.fromisoformat(clock["at_risk_from"]) if clock.get("at_risk_from") else None
    view: dict[str, Any] = {
        "kind": clock["kind"],
        "kind_name": labels.CLOCKS.get(clock["kind"], clock["kind"]),
        "due_on": due,
        "at_risk_from": at_risk_from,
        "note": clock.get("note", ""),
        "review": [
            {"code": code, "text": labels.CLOCK_REVIEWS.get(code, code)}
            for code in clock.get("review") or ()
        ],
    }
    if due is None:
        return {**view, "state": "not_computed", "state_name": "未计算", "days_left": None}
    return {**view, **deadline_state(due, at_risk_from, today)}


def case_file(row: asyncpg.Record, today: date) -> dict[str, Any]:
    """What projection knows of a case beyond its list row: urgency's reasons, every clock,
    the responsible person, consent, voiding."""
    scopes = list(row["consent_scopes"] or ())
    return {
        "urgency_reasons": list(row["reasons"] or ()),
        "clocks": [_clock_view(c, today) for c in row["clocks"] or ()],
        "review_open": row["review_open"],
        "responsible": (
            {
                "id": row["assignee_id"],
                "name": row["assignee_name"] or row["assignee_id"],
                "since": row["assigned_at"],
            }
            if row["assignee_id"]
            else None
        ),
        "consent": {
            "scopes": scopes,
            "scope_names": [labels.CONSENT_SCOPES.get(x, x) for x in scopes],
            "text": (
                "职工同意向" + "、".join(labels.CONSENT_SCOPES.get(x, x) for x in scopes) + "提供"
                if scopes
                else labels.NO_CONSENT
            ),
            "wording_version": row["consent_wording"],
            "obtained_by": row["consent_obtained_by"],
            "recorded_at": row["consent_at"],
        },
        "voided": (
            {
                "at": row["voided_at"],
                "reason": row["void_reason"],
                "reason_name": labels.VOID_REASONS.get(row["void_reason"], row["void_reason"]),
                "duplicate_of": row["duplicate_of"],
            }
            if row["voided_at"] is not None
            else None
        ),
        "next_action_on": row["next_action_on"],
    }


async def timeline(
    conn: asyncpg.Connection, case_number: str, districts: tuple[str, ...] | None, today: date
) -> dict[str, Any] | None:
    """A case with its events, deadlines and case file; ``None`` if there is none of that
    number in ``districts`` (every district for ``None``). A voided case is found: its page
    says it was voided."""
    row = await conn.fetchrow(
        f"""SELECT {CASE_FILE_COLUMNS}, {CASE_COLUMNS} FROM case_summary s
            WHERE s.case_number = $1 AND ($2::text[] IS NULL OR s.district_code = ANY($2))""",
        case_number,
        None if districts is None else list(districts),
    )
    if row is None:
        return None
    # The case's own events, and mediation's and legal aid's about it (by its number).
    events = await conn.fetch(
        """SELECT event_type, occurred_at, text FROM (
               SELECT event_id, event_type, occurred_at, text FROM case_timeline
               WHERE case_id = $1
               UNION ALL
               SELECT event_id, event_type, occurred_at, text FROM case_handling_line
               WHERE case_number = $2) AS lines
           ORDER BY occurred_at, event_id""",
        row["case_id"],
        row["case_number"],
    )
    clocks = await conn.fetch(
        "SELECT kind, due_on, at_risk_from, note FROM case_deadline WHERE case_id = $1 "
        "ORDER BY due_on, kind",
        row["case_id"],
    )
    case = describe_case(row)
    for field in CASE_FILE_FIELDS:
        case.pop(field)
    return {
        "case": case,
        **case_file(row, today),
        "events": [dict(e) for e in events],
        "deadlines": [
            {
                **dict(c),
                "kind_name": labels.CLOCKS.get(c["kind"]),
                **deadline_state(c["due_on"], c["at_risk_from"], today),
            }
            for c in clocks
        ],
    }


# ---------------------------------------------------------------- work queues

# The rules of projection.queues, in SQL ($1 the person's subject, $2 their districts or
# NULL for every district, $3 today). Voided cases and cases without a report are in none.
_BASE = "s.reported_at IS NOT NULL AND NOT s.voided"
_IN_SCOPE = "($2::text[] IS NULL OR s.district_code = ANY($2::text[]))"
# labels.case_status: answered on the spot, or concluded by mediation or legal aid = closed
_OPEN = f"s.route IS DISTINCT FROM 'consultation' AND {HANDLING} IS DISTINCT FROM 'closed'"
_AT_RISK = (
    "EXISTS (SELECT 1 FROM case_deadline d WHERE d.case_id = s.case_id "
    "AND d.at_risk_from <= $3::date AND d.due_on >= $3::date)"
)
QUEUE_WHERE = {
    "mine": f"s.assignee_id = $1 AND {_OPEN}",
    "review": f"{_IN_SCOPE} AND s.review_open",
    "at_risk": f"{_IN_SCOPE} AND {_AT_RISK}",
    "unassigned": f"{_IN_SCOPE} AND s.assignee_id IS NULL AND {_OPEN}",
}
QUEUE_ORDER = {
    "mine": "s.next_action_on NULLS LAST, s.reported_at",
    "review": "s.reported_at",
    "at_risk": "(SELECT min(d.due_on) FROM case_deadline d WHERE d.case_id = s.case_id), "
    "s.reported_at",
    "unassigned": "array_position(ARRAY['critical','urgent','normal'], s.urgency), s.reported_at",
}
QUEUE_LIMIT = 200


async def queue_counts(
    conn: asyncpg.Connection, subject: str, districts: tuple[str, ...] | None, today: date
) -> dict[str, int]:
    """How many cases each of the person's queues holds."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {where}) AS {name}" for name, where in QUEUE_WHERE.items()
    )
    row = await conn.fetchrow(
        f"""SELECT {counts} FROM case_summary s
            WHERE {_BASE} AND (s.assignee_id = $1 OR {_IN_SCOPE})""",
        subject,
        None if districts is None else list(districts),
        today,
    )
    return {name: int(row[name]) for name in QUEUE_WHERE}


async def queue_items(
    conn: asyncpg.Connection,
    queue: str,
    subject: str,
    districts: tuple[str, ...] | None,
    today: date,
) -> list[dict[str, Any]]:
    """The cases of one queue (at most ``QUEUE_LIMIT``), each with why it is there."""
    rows = await conn.fetch(
        # Every parameter typed, whether this queue's rule reads it or not.
        f"""WITH params AS (SELECT $1::text, $2::text[], $3::date)
            SELECT {CASE_FILE_COLUMNS}, {CASE_COLUMNS} FROM case_summary s
            WHERE {_BASE} AND {QUEUE_WHERE[queue]}
            ORDER BY {QUEUE_ORDER[queue]}, s.case_number LIMIT {QUEUE_LIMIT}""",
        subject,
        None if districts is None else list(districts),
        today,
    )
    items = []
    for row in rows:
        case = describe_case(row)
        file = case_file(row, today)
        item = {
            key: case[key]
            for key in (
                "case_number",
                "district_name",
                "employer_name",
                "category_name",
                "urgency_name",
                "state",
                "state_name",
                "reported_at",
            )
        }
        item["responsible"] = file["responsible"]
        item["next_action_on"] = file["next_action_on"]
        item["reviews"] = [
            {"kind_name": c["kind_name"], "text": r["text"], "code": r["code"]}
            for c in file["clocks"]
            for r in c["review"]
        ]
        item["deadlines_at_risk"] = [
            {"kind_name": c["kind_name"], "due_on": c["due_on"], "days_left": c["days_left"]}
            for c in file["clocks"]
            if c["state"] == "at_risk"
        ]
        items.append(item)
    return items


# ---------------------------------------------------------------- satisfaction

# Satisfaction rate: surveys answered 4 (满意) or 5 (很满意) over all surveys answered, in
# the period (the answer's local day) and districts; each survey once (distinct survey id,
# whatever events carried it); a voided case's answers count nowhere.
SATISFIED_FROM = 4
# Mediation's surveys (and answers older than ``about``, all mediations'): legal aid's
# answers count in legal aid's figure (``legal_aid.figures``), recorded by legal aid.
_SURVEYS = """
    FROM fact_survey f
    WHERE {where} AND f.about IS DISTINCT FROM 'legal_aid'
      AND NOT EXISTS (SELECT 1 FROM fact_void v WHERE v.case_id = f.case_id)
"""


async def satisfaction(conn: asyncpg.Connection, filters: Filters) -> dict[str, Any]:
    """The satisfaction rate of the scope and period, and by district."""
    where, args = filters.rollup_where()
    rows = await conn.fetch(
        f"""SELECT district_code, count(DISTINCT survey_id) AS answers,
                   count(DISTINCT survey_id) FILTER (WHERE score >= {SATISFIED_FROM})
                       AS satisfied
            {_SURVEYS.format(where=where)}
            GROUP BY district_code ORDER BY district_code""",
        *args,
    )
    by_district = [
        {
            "code": r["district_code"],
            "name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
            "answers": r["answers"],
            "satisfied": r["satisfied"],
            "rate": rate(r["satisfied"], r["answers"]),
        }
        for r in rows
    ]
    answers = sum(d["answers"] for d in by_district)
    satisfied = sum(d["satisfied"] for d in by_district)
    return {
        "answers": answers,
        "satisfied": satisfied,
        "rate": rate(satisfied, answers),
        "definition": "调解结案后的满意度调查：评价为“满意”或“很满意”（4–5分）的份数 ÷ "
        "收回的评价份数（每份调查计一次）；法律援助的满意率见法律援助（每件申请计一次）",
        "by_district": by_district,
    }


async def satisfaction_cases(
    conn: asyncpg.Connection, filters: Filters, *, satisfied: bool | None = None
) -> list[dict[str, Any]]:
    """The answers behind the rate (one per survey, its first answer), each with its case."""
    where, args = filters.rollup_where("f.day")
    where = where.replace("district_code", "f.district_code")
    if satisfied is not None:
        where += f" AND f.score {'>=' if satisfied else '<'} {SATISFIED_FROM}"
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (f.survey_id) f.survey_id, f.case_number, f.district_code,
                   f.score, f.answered_at, f.day
            {_SURVEYS.format(where=where)}
            ORDER BY f.survey_id, f.answered_at""",
        *args,
    )
    return sorted(
        (
            {
                "case_number": r["case_number"],
                "district_code": r["district_code"],
                "district_name": labels.DISTRICTS.get(r["district_code"], r["district_code"]),
                "score": r["score"],
                "score_name": labels.SURVEY_SCORES[r["score"]],
                "answered_day": r["day"],
            }
            for r in rows
        ),
        key=lambda a: (a["answered_day"], a["case_number"]),
    )
