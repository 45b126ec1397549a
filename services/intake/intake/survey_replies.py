"""A worker's answer to the satisfaction survey, received on the union's one official account.

A union has one WeChat official account, and an account has one server address: intake's
callback. The survey, though, is notification's: it sent it after the case closed and
keeps (as a keyed hash) the OpenID it went to. So when a text message looks like an answer
(a digit 1–5, optionally followed by a comment: :mod:`weiquan_shared.survey_reply`) and
the OpenID has no dialog in progress here that expects an answer, intake asks
notification, synchronously and with its own service token (identity's client-credentials
grant): ``POST /api/v1/internal/wechat-replies`` ``{openid, text, msg_id}``. A 200 carries
the Chinese text to reply; a 404 means this OpenID has no survey open, and the message goes
on to intake's dialog as any other.

A notification outage must never break case registration: the whole exchange (token and
call) is bounded by a short timeout (``WEIQUAN_INTAKE_SURVEY_REPLY_TIMEOUT_S``, 2 s; WeChat
waits 5 s for a reply), and any failure is logged (never the OpenID) and the message goes
on to the dialog. Intake reads no personal data for this and audits nothing; the OpenID
crosses to notification over HTTP only, never Kafka.
"""

from __future__ import annotations

import asyncio
import os

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from weiquan_shared.logging import get_logger
from weiquan_shared.service_client import (
    ServiceCredentialsError,
    ServiceTokenClient,
    service_secret_variable,
)

log = get_logger(__name__)


class SurveyReplySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_INTAKE_", extra="ignore")

    # Where survey answers are handed over (notification), and where intake gets its token.
    notification_url: str = "http://127.0.0.1:8105"
    token_url: str = "http://127.0.0.1:8107/api/v1/token"
    # The whole exchange (a token if needed, then the call); past it, the dialog goes on.
    survey_reply_timeout_s: float = Field(default=2.0, gt=0, le=4)


class SurveyReplies:
    """Hands a worker's WeChat reply to notification; None when it is not a survey answer
    there (no open survey) or notification cannot say (down, slow, refusing)."""

    def __init__(self, settings: SurveyReplySettings, service_name: str = "intake") -> None:
        self._timeout = settings.survey_reply_timeout_s
        secret = os.environ.get(service_secret_variable(service_name), "")
        self._credentials = ServiceTokenClient(
            settings.token_url,
            service_name,
            secret,
            http=httpx.AsyncClient(timeout=self._timeout),
        )
        self._http = httpx.AsyncClient(
            base_url=settings.notification_url.rstrip("/"), timeout=self._timeout
        )
        if not self._credentials.configured:
            log.warning(
                "no service credentials: WeChat survey answers go to the dialog",
                missing=service_secret_variable(service_name),
            )

    @property
    def configured(self) -> bool:
        return self._credentials.configured

    async def answer(self, openid: str, text: str, msg_id: str) -> str | None:
        """Notification's reply text to the worker, or None to go on with the dialog."""
        if not self.configured:
            return None
        try:
            return await asyncio.wait_for(self._ask(openid, text, msg_id), self._timeout)
        except TimeoutError:
            log.warning("survey answer not handed over: notification too slow", msg_id=msg_id)
        except ServiceCredentialsError as exc:
            log.warning(
                "survey answer not handed over: no service token",
                msg_id=msg_id,
                reason=str(exc)[:200],
            )
        except httpx.HTTPError as exc:
            log.warning(
                "survey answer not handed over: notification unreachable",
                msg_id=msg_id,
                error=type(exc).__name__,
            )
        return None

    async def _ask(self, openid: str, text: str, msg_id: str) -> str | None:
        for attempt in range(2):
            token = await self._credentials.token()
            response = await self._http.post(
                "/api/v1/internal/wechat-replies",
                json={"openid": openid, "text": text, "msg_id": msg_id},
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 401 and attempt == 0:
                self._credentials.forget()  # identity's keys rotated, say: a new token
                continue
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                log.warning(
                    "survey answer not handed over: notification refused",
                    msg_id=msg_id,
                    status=response.status_code,
                )
                return None
            reply = response.json().get("reply")
            return reply if isinstance(reply, str) and reply else None
        log.warning("survey answer not handed over: service token refused twice", msg_id=msg_id)
        return None

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._credentials.aclose()
