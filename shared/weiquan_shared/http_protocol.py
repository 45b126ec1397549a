"""uvicorn's HTTP/1.1 protocol with the limits it lacks against slow and oversized clients.

uvicorn (with httptools, the parser it picks up) has no deadline for a request's headers or
body and no limit on the size of its headers: a client that opens a socket and sends half
its headers, or trickles one byte a second, holds a connection for ever, and one that sends
endless headers makes the server buffer them. :class:`LimitedHttpProtocol` arms a timer
when a connection opens (or a request's first byte arrives on a kept-alive connection) and
disarms it once the headers are complete, then one for the body; it counts the bytes of the
request line and headers. A client past a limit gets a short Chinese answer (408 or 431)
and the connection is closed. Between requests uvicorn's own keep-alive timeout applies.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Callable
from typing import Any, ClassVar

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from weiquan_shared.logging import get_logger
from weiquan_shared.settings import Settings

log = get_logger(__name__)


class LimitedHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with header and body deadlines and a header size limit.

    The limits are class attributes: :func:`limited_http_protocol` makes a subclass with a
    deployment's settings, since uvicorn instantiates the protocol class itself.
    """

    header_timeout_s: ClassVar[float] = 10.0
    body_timeout_s: ClassVar[float] = 30.0
    max_header_bytes: ClassVar[int] = 32 * 1024

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # "headers" until a request's headers are complete, then "body" until it is.
        self._reading = "headers"
        self._request_begun = False  # a byte of the request being read has arrived
        self._header_bytes = 0  # received while reading headers, since the last request
        self._headers_completed = 0  # requests whose headers were complete
        self._deadline: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A connection that sends nothing at all is as slow a client as any.
        self._arm(self.header_timeout_s, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading == "refused":
            return  # answered and closing: nothing more is read
        if self._reading == "headers":
            room = self.max_header_bytes - self._header_bytes
            if len(data) > room:
                self._feed_past_header_limit(data, room)
                return
            self._header_bytes += len(data)
        super().data_received(data)
        self._arm_for_what_is_awaited()

    # --- parser callbacks (httptools) --------------------------------------------------

    def on_message_begin(self) -> None:
        self._request_begun = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading = "body"
        self._header_bytes = 0
        self._headers_completed += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading = "headers"  # whatever comes next starts the next request
        self._request_begun = False
        super().on_message_complete()

    # --- limits ------------------------------------------------------------------------

    def _feed_past_header_limit(self, data: bytes, room: int) -> None:
        """``data`` holds more than the headers being read may still take: feed what fits.
        If those headers are still incomplete they are too large; otherwise the rest belongs
        to the body or to the next request and is fed as usual."""
        completed = self._headers_completed
        if room > 0:
            super().data_received(data[:room])
            if self.transport.is_closing():
                return
        if self._reading == "headers" and self._headers_completed == completed:
            log.info("http request refused: headers too large", limit_bytes=self.max_header_bytes)
            self._refuse(
                http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"请求头过大（超过 {self.max_header_bytes // 1024} KB），"
                "请删除多余的 Cookie 或缩短地址后重试",
            )
            return
        self.data_received(data[room:])

    def _arm_for_what_is_awaited(self) -> None:
        if self._deadline is not None or self.transport.is_closing():
            return
        if self._reading == "body":
            self._arm(self.body_timeout_s, self._body_too_slow)
        elif self._request_begun:
            self._arm(self.header_timeout_s, self._headers_too_slow)

    def _arm(self, delay_s: float, on_expiry: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay_s, on_expiry)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if not self._request_begun or self._response_in_progress():
            self.transport.close()  # nothing to answer, or an answer already under way
            return
        log.info("http request refused: headers too slow", timeout_s=self.header_timeout_s)
        self._refuse(
            http.HTTPStatus.REQUEST_TIMEOUT,
            f"请求超时：请求头未在 {self.header_timeout_s:g} 秒内发送完整，请重试",
        )

    def _body_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("http request refused: body too slow", timeout_s=self.body_timeout_s)
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()
            return
        self._refuse(
            http.HTTPStatus.REQUEST_TIMEOUT,
            f"请求超时：请求内容未在 {self.body_timeout_s:g} 秒内发送完整，请重试",
        )

    def _response_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _refuse(self, status: http.HTTPStatus, message: str) -> None:
        """Answers in the service's error format and closes the connection. The request's
        handler, if one waits for the body, sees the client gone and answers nobody."""
        self._disarm()
        self._reading = "refused"
        body = orjson.dumps({"message": message})
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def limited_http_protocol(settings: Settings) -> type[LimitedHttpProtocol]:
    """The protocol class for uvicorn's ``http=`` with the limits of ``settings``."""
    return type(
        "LimitedHttpProtocol",
        (LimitedHttpProtocol,),
        {
            "header_timeout_s": settings.http_header_timeout_s,
            "body_timeout_s": settings.http_body_timeout_s,
            "max_header_bytes": settings.http_max_header_bytes,
        },
    )
