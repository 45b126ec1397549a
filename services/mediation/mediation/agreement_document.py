"""The 调解协议书: a Chinese HTML template (``templates/agreement.html``, a file people can
edit) filled with Jinja2 and rendered to PDF by WeasyPrint with Debian's Noto CJK fonts.

It carries the parties' real names and ID numbers, which never cross Kafka: at generation
time :class:`IntakeParties` asks intake for them with mediation's own credentials (identity's
client-credentials grant, the mechanism notification uses for contacts), naming the
mediator it acts for; intake audits each lookup. The answer lives in memory for the one
rendering; the PDF is stored encrypted (``outcomes_store``), and each download is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mediation.outcomes import ITEM_LABELS, yuan
from weiquan_shared import labels
from weiquan_shared.service_client import ServiceCredentialsError, ServiceTokenClient

TEMPLATES = Path(__file__).parent / "templates"
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


@dataclass(frozen=True)
class PartyDetails:
    worker_ref: str
    name: str
    id_number: str | None


@dataclass(frozen=True)
class Parties:
    workers: list[PartyDetails]
    employer_name: str
    employer_credit_code: str | None


class PartiesUnavailable(Exception):
    """Intake could not be asked (down, or refused mediation's credentials)."""


class PartiesNotFound(Exception):
    """Intake has no such case."""


class IntakeParties:
    """Asks intake for the parties of a mediation's cases, as mediation itself."""

    def __init__(
        self, intake_url: str, credentials: ServiceTokenClient, timeout_s: float = 10.0
    ) -> None:
        self._credentials = credentials
        self._http = httpx.AsyncClient(base_url=intake_url.rstrip("/"), timeout=timeout_s)

    async def for_cases(self, case_numbers: list[str], on_behalf_of: str) -> Parties:
        workers: dict[str, PartyDetails] = {}
        employer: tuple[str, str | None] | None = None
        for number in case_numbers:
            body = await self._one(number, on_behalf_of)
            employer = employer or (body["employer_name"], body.get("employer_credit_code"))
            for w in body["workers"]:
                workers.setdefault(
                    w["worker_ref"], PartyDetails(w["worker_ref"], w["name"], w.get("id_number"))
                )
        if employer is None:
            raise PartiesNotFound("no case")
        return Parties(list(workers.values()), *employer)

    async def _one(self, case_number: str, on_behalf_of: str) -> dict[str, Any]:
        for attempt in range(2):
            try:
                token = await self._credentials.token()
                response = await self._http.get(
                    f"/api/v1/internal/cases/{quote(case_number, safe='')}/parties",
                    params={"purpose": "mediation_agreement", "on_behalf_of": on_behalf_of},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except ServiceCredentialsError as exc:
                raise PartiesUnavailable(f"service credentials: {exc}"[:300]) from exc
            except httpx.HTTPError as exc:
                raise PartiesUnavailable(f"intake unreachable: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                self._credentials.forget()
                continue
            if response.status_code == 404:
                raise PartiesNotFound(case_number)
            if response.status_code != 200:
                raise PartiesUnavailable(f"intake answered HTTP {response.status_code}")
            body: dict[str, Any] = response.json()
            return body
        raise PartiesUnavailable("intake refused the service token twice")

    async def aclose(self) -> None:
        await self._http.aclose()


# --------------------------------------------------------------------------- rendering

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def _section_words(section: int) -> str:
    """1..9999 in capitals, zeros between digits read once (1001 → 壹仟零壹)."""
    text, zero = "", False
    for position in (3, 2, 1, 0):
        digit = section // 10**position % 10
        if digit:
            text += ("零" if zero and text else "") + _DIGITS[digit] + _UNITS[position]
            zero = False
        else:
            zero = True
    return text


def amount_in_words(amount: Decimal) -> str:
    """Chinese capital numerals for money (大写金额): 10000.50 → 壹万元伍角整."""
    amount = amount.quantize(Decimal("0.01"))
    if amount < 0:
        raise ValueError("negative amount")
    integer = int(amount)
    jiao, fen = int(amount * 10) % 10, int(amount * 100) % 10
    words, gap, index = "", False, 0
    while integer:
        section = integer % 10000
        if section:
            words = _section_words(section) + _SECTIONS[index] + ("零" if gap else "") + words
            gap = section < 1000
        elif words:
            gap = True
        integer //= 10000
        index += 1
    if words:
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    return words + (_DIGITS[fen] + "分" if fen else "整")


@dataclass(frozen=True)
class AgreementFacts:
    """What the document says, apart from the parties' identities."""

    mediation_number: str
    district_code: str
    route_detail: str
    category: str
    received_on: date
    effective_on: date
    window_due_on: date | None
    mediator_name: str
    invited_court: str | None
    partial: bool
    representatives: bool
    items: list[dict[str, Any]]  # {worker_ref, item, amount, label}
    instalments: list[dict[str, Any]]  # {number, due_on, amount}


def render_html(facts: AgreementFacts, parties: Parties) -> str:
    names = {p.worker_ref: p.name for p in parties.workers}
    district = labels.DISTRICTS.get(facts.district_code, facts.district_code)
    room = labels.ROUTE_DETAILS.get(facts.route_detail, "劳动争议调解组织")
    total = sum((Decimal(str(i["amount"])) for i in facts.items), Decimal(0))
    referenced = {i["worker_ref"] for i in facts.items}
    workers = [p for p in parties.workers if p.worker_ref in referenced] or parties.workers
    context = {
        "mediation_number": facts.mediation_number,
        "workers": workers,
        "representatives": facts.representatives,
        "employer_name": parties.employer_name,
        "employer_credit_code": parties.employer_credit_code,
        "organisation": f"{district}{room}",
        "mediator_name": facts.mediator_name,
        "category": labels.CATEGORIES.get(facts.category, "劳动报酬等事项"),
        "received_on": _cn_date(facts.received_on),
        "partial": facts.partial,
        "items": [
            {
                "worker_name": names.get(i["worker_ref"], "（姓名待核实）"),
                "label": ITEM_LABELS.get(i["item"], i["item"])
                + (f"：{i['label']}" if i.get("label") else ""),
                "amount": yuan(Decimal(str(i["amount"]))),
            }
            for i in facts.items
        ],
        "total": yuan(total),
        "total_in_words": amount_in_words(total),
        "instalments": [
            {
                "number": i["number"],
                "due_on": _cn_date(_as_date(i["due_on"])),
                "amount": yuan(Decimal(str(i["amount"]))),
            }
            for i in facts.instalments
        ],
        "court_hint": facts.invited_court
        or "当事人住所地、标的物所在地或者调解组织所在地的基层人民法院",
        "effective_on": _cn_date(facts.effective_on),
        "window_due_on": _cn_date(facts.window_due_on) if facts.window_due_on else None,
        "copies": 4 if facts.invited_court else 3,
        "court_copy": bool(facts.invited_court),
    }
    return _environment.get_template("agreement.html").render(**context)


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (WeasyPrint; fonts from fontconfig: Debian's fonts-noto-cjk)."""
    from weasyprint import HTML  # heavy import: only when a document is made

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
