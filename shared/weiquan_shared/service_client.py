"""A service's own credentials toward another service (the client-credentials grant).

A service that must call another one as itself (notification asking intake for a worker's
mobile at send time) signs in at identity's token endpoint with its client id (its name)
and the secret in ``WEIQUAN_SERVICE_SECRET_<NAME>``, and sends the short-lived access
token it gets as ``Authorization: Bearer``. The token is kept until shortly before it
expires; the callee checks it offline (``weiquan_shared.auth.require_service``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import httpx

# The services that hold a client secret and may get a token of their own at identity.
SERVICE_CLIENTS: tuple[str, ...] = ("notification", "mediation", "intake")
# A token is renewed this long before it expires (clock skew, a slow call).
RENEW_BEFORE_S = 30.0


def service_secret_variable(service_name: str) -> str:
    """Where a service's client secret is kept: ``WEIQUAN_SERVICE_SECRET_NOTIFICATION``."""
    return f"WEIQUAN_SERVICE_SECRET_{service_name.upper()}"


class ServiceCredentialsError(Exception):
    """Identity refused the service's credentials, or could not be reached."""


class ServiceTokenClient:
    """Fetches and caches this service's access token from identity's token endpoint."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def for_service(cls, token_url: str, service_name: str) -> ServiceTokenClient:
        secret = os.environ.get(service_secret_variable(service_name), "")
        return cls(token_url, service_name, secret)

    @property
    def configured(self) -> bool:
        return bool(self._secret)

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    def forget(self) -> None:
        """Drop the cached token (the callee refused it: identity's keys rotated, say)."""
        self._token = None

    async def _fetch(self) -> None:
        if not self._secret:
            raise ServiceCredentialsError(
                f"{service_secret_variable(self.client_id)} is not set: no service credentials"
            )
        try:
            response = await self._http.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self._secret),
            )
        except httpx.HTTPError as exc:
            raise ServiceCredentialsError(f"token endpoint unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise ServiceCredentialsError(
                f"token endpoint answered {response.status_code}: {response.text[:200]}"
            )
        body = response.json()
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 300))
        self._renew_at = self._clock() + max(lifetime - RENEW_BEFORE_S, lifetime / 2)

    async def aclose(self) -> None:
        await self._http.aclose()
