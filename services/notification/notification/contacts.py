"""Where a recipient's address comes from, asked at send time: a worker's mobile or OpenID
and the employer's contact person's mobile or email of intake, a mediator's or lawyer's
work email or mobile of identity.

Contact data never crosses Kafka: events name workers by a keyed hash (``worker_ref``).
Just before a send, the sender asks intake for the case's contacts with this service's
own credentials (a client-credentials token from identity; see
``weiquan_shared.service_client``); intake audits each lookup with its purpose (the
template). The answer lives in memory for the one send and is never written down here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from notification.channels.base import TransientFailure
from weiquan_shared.service_client import ServiceCredentialsError, ServiceTokenClient


@dataclass(frozen=True)
class EmployerContact:
    name: str | None
    mobile: str | None
    email: str | None


@dataclass(frozen=True)
class CaseContacts:
    mobiles: dict[int, str]
    wechat_openid: str | None
    employer: EmployerContact | None = None


def _employer(found: object) -> EmployerContact | None:
    """The employer's contact from intake's answer, read tolerantly: absent, null, or any
    field missing or blank is simply not known (an older intake sends none)."""
    if not isinstance(found, dict):
        return None

    def text(key: str) -> str | None:
        value = found.get(key)
        return value.strip() or None if isinstance(value, str) else None

    contact = EmployerContact(text("name"), text("mobile"), text("email"))
    return contact if contact.mobile or contact.email else None


class ContactNotFound(Exception):
    """Intake has no such case (voided and erased, or never registered)."""


class IntakeContacts:
    def __init__(
        self, intake_url: str, credentials: ServiceTokenClient, timeout_s: float = 10.0
    ) -> None:
        self._credentials = credentials
        self._http = httpx.AsyncClient(base_url=intake_url.rstrip("/"), timeout=timeout_s)

    async def for_case(self, case_number: str, purpose: str) -> CaseContacts:
        for attempt in range(2):
            try:
                token = await self._credentials.token()
                response = await self._http.get(
                    f"/api/v1/internal/cases/{quote(case_number, safe='')}/contacts",
                    params={"purpose": purpose},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except ServiceCredentialsError as exc:
                raise TransientFailure(f"service credentials: {exc}"[:300]) from exc
            except httpx.HTTPError as exc:
                raise TransientFailure(f"intake unreachable: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                self._credentials.forget()  # identity's keys rotated, say: a new token
                continue
            if response.status_code == 404:
                raise ContactNotFound(case_number)
            if response.status_code != 200:
                raise TransientFailure(f"intake answered HTTP {response.status_code}")
            body = response.json()
            return CaseContacts(
                {int(w["position"]): str(w["mobile"]) for w in body["workers"]},
                body.get("wechat_openid"),
                _employer(body.get("employer")),
            )
        raise TransientFailure("intake refused the service token twice")

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass(frozen=True)
class StaffContact:
    email: str | None
    mobile: str | None


class StaffContacts:
    """Mediators' and lawyers' work email and mobile, asked of identity at send time
    (``GET /api/v1/internal/staff/{subject}/contact``) with this service's token; identity
    keeps them encrypted and audits each lookup with its purpose (the template)."""

    def __init__(
        self, identity_url: str, credentials: ServiceTokenClient, timeout_s: float = 10.0
    ) -> None:
        self._credentials = credentials
        self._http = httpx.AsyncClient(base_url=identity_url.rstrip("/"), timeout=timeout_s)

    async def for_staff(self, subject: str, purpose: str) -> StaffContact:
        for attempt in range(2):
            try:
                token = await self._credentials.token()
                response = await self._http.get(
                    f"/api/v1/internal/staff/{quote(subject, safe='')}/contact",
                    params={"purpose": purpose},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except ServiceCredentialsError as exc:
                raise TransientFailure(f"service credentials: {exc}"[:300]) from exc
            except httpx.HTTPError as exc:
                raise TransientFailure(f"identity unreachable: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                self._credentials.forget()
                continue
            if response.status_code == 404:
                raise ContactNotFound(f"no active staff account {subject}")
            if response.status_code != 200:
                raise TransientFailure(f"identity answered HTTP {response.status_code}")
            body = response.json()
            return StaffContact(body.get("email"), body.get("mobile"))
        raise TransientFailure("identity refused the service token twice")

    async def aclose(self) -> None:
        await self._http.aclose()
