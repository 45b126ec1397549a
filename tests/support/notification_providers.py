"""Local stand-ins for the providers notification talks to, speaking their protocols.

- :class:`TencentSmsServer`: Tencent Cloud's SendSms (API 2021-01-11) as the provider
  checks it: the TC3-HMAC-SHA256 signature over the canonical request (recomputed with the
  account's secret key), the timestamp, the action and version headers, the SDK app id,
  the signature name, the approved template and its parameter count, the E.164 number;
  and answers as it does (``SendStatusSet`` with ``Code: Ok``, a per-number error code, or
  a request-level ``Error``).
- :class:`WeChatServer`: the official account API: ``/cgi-bin/token`` (client_credential)
  and ``/cgi-bin/message/template/send``, with errcode 40001 for a token that is no longer
  the latest (``rotate_token``), 43004 for a worker who does not follow the account.
- :func:`smtp_server`: a real SMTP server *process* (aiosmtpd) delivering into a Maildir.

Each records what it accepted, and can be told to answer slowly or to hold a request
until released (a provider that has the message but has not answered yet).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import mailbox
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_binary_file, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.stack import free_port, port_open

SMS_SERVICE = "sms"
SMS_VERSION = "2021-01-11"


class _QuietServer(ThreadingHTTPServer):
    """A caller killed (kill -9) mid-connection is expected here, not worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class _Behaviour:
    delay_s: float = 0.0
    hold: threading.Event | None = None  # set: answer; unset: keep the caller waiting
    received: threading.Event = field(default_factory=threading.Event)


class _JsonServer:
    def __init__(self) -> None:
        self.behaviour = _Behaviour()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle on, the caller's delayed ACK
            # would add some 40 ms to every answer, which no provider does.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                owner._dispatch(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                owner._dispatch(self, self.rfile.read(length))

            def log_message(self, *_: Any) -> None:
                return

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self.behaviour.hold is not None:
            self.behaviour.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def hold_answers(self) -> threading.Event:
        """From now on, requests are taken in and answered only once the event is set."""
        self.behaviour.hold = threading.Event()
        self.behaviour.received.clear()
        return self.behaviour.hold

    def _dispatch(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        status, answer = self.answer(handler, body)
        self.behaviour.received.set()
        if self.behaviour.delay_s:
            time.sleep(self.behaviour.delay_s)
        if self.behaviour.hold is not None:
            self.behaviour.hold.wait()
        data = json.dumps(answer, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the caller is gone (killed while waiting)

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


@dataclass(frozen=True)
class SmsSent:
    phone: str
    template_id: str
    params: list[str]
    sign_name: str
    session_context: str
    serial_no: str


def tc3_signature(
    secret_key: str,
    *,
    method: str,
    host: str,
    content_type: str,
    payload: bytes,
    timestamp: int,
    service: str = SMS_SERVICE,
    uri: str = "/",
    query: str = "",
) -> str:
    """Tencent Cloud's TC3-HMAC-SHA256, as its API documentation defines it."""
    canonical = "\n".join(
        [
            method,
            uri,
            query,
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    secret_date = sign(("TC3" + secret_key).encode(), day)
    secret_service = sign(secret_date, service)
    secret_signing = sign(secret_service, "tc3_request")
    return hmac.new(secret_signing, to_sign.encode(), hashlib.sha256).hexdigest()


class TencentSmsServer(_JsonServer):
    """SendSms as Tencent Cloud answers it. ``templates`` maps approved template ids to
    their number of parameters."""

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: dict[str, int],
    ) -> None:
        super().__init__()
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.templates = templates
        self.sent: list[SmsSent] = []
        self.refused: list[str] = []  # error codes answered
        self.failing_numbers: dict[str, str] = {}  # E.164 number -> status code
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _error(self, code: str, message: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refused.append(code)
        return 200, {
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": str(uuid.uuid4()),
            }
        }

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, Any]]:
        h = handler.headers
        if handler.command != "POST" or urlparse(handler.path).path != "/":
            return 404, {}
        if h.get("X-TC-Action") != "SendSms" or h.get("X-TC-Version") != SMS_VERSION:
            return self._error("InvalidAction", "action or version not supported")
        auth = h.get("Authorization", "")
        try:
            algorithm, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            secret_id, day, service, terminator = parts["Credential"].split("/")
            timestamp = int(h["X-TC-Timestamp"])
        except (ValueError, KeyError):
            return self._error("AuthFailure.InvalidAuthorization", "Authorization malformed")
        if algorithm != "TC3-HMAC-SHA256" or service != SMS_SERVICE or terminator != "tc3_request":
            return self._error("AuthFailure.InvalidAuthorization", "credential scope wrong")
        if secret_id != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound", "SecretId not found")
        if abs(time.time() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "signature expired")
        if parts.get("SignedHeaders") != "content-type;host":
            return self._error("AuthFailure.InvalidAuthorization", "signed headers wrong")
        expected = tc3_signature(
            self.secret_key,
            method="POST",
            host=h.get("Host", ""),
            content_type=h.get("Content-Type", ""),
            payload=body,
            timestamp=timestamp,
        )
        if day != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") or not (
            hmac.compare_digest(expected, parts.get("Signature", ""))
        ):
            return self._error("AuthFailure.SignatureFailure", "signature mismatch")
        request = json.loads(body)
        if request.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("FailedOperation.SmsSdkAppIdVerifyFail", "SdkAppId wrong")
        if request.get("SignName") != self.sign_name:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved", "sign name")
        template = request.get("TemplateId")
        if template not in self.templates:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "template")
        params = request.get("TemplateParamSet") or []
        if len(params) != self.templates[template]:
            return self._error(
                "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "parameters"
            )
        statuses = []
        for phone in request.get("PhoneNumberSet") or []:
            code = self.failing_numbers.get(phone)
            if code is None and not (phone.startswith("+86") and len(phone) == 14):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            serial = uuid.uuid4().hex
            if code is None:
                with self._lock:
                    self.sent.append(
                        SmsSent(
                            phone,
                            template,
                            list(params),
                            request["SignName"],
                            request.get("SessionContext", ""),
                            serial,
                        )
                    )
            statuses.append(
                {
                    "SerialNo": serial if code is None else "",
                    "PhoneNumber": phone,
                    "Fee": 1 if code is None else 0,
                    "SessionContext": request.get("SessionContext", ""),
                    "Code": code or "Ok",
                    "Message": "send success" if code is None else "send failed",
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}


@dataclass(frozen=True)
class WeChatSent:
    openid: str
    template_id: str
    data: dict[str, str]
    msgid: int


class WeChatServer(_JsonServer):
    def __init__(self, *, app_id: str, app_secret: str, templates: set[str]) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.templates = templates
        self.token: str | None = None
        self.tokens_issued = 0
        self.sent: list[WeChatSent] = []
        self.errcodes: list[int] = []
        self.not_following: set[str] = set()
        self._lock = threading.Lock()

    def rotate_token(self) -> None:
        """WeChat issued another token elsewhere: the one callers hold is no longer valid."""
        with self._lock:
            self.token = uuid.uuid4().hex

    def _err(self, code: int, message: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.errcodes.append(code)
        return 200, {"errcode": code, "errmsg": message}

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/cgi-bin/token" and handler.command == "GET":
            if query.get("grant_type") != "client_credential":
                return self._err(40002, "invalid grant_type")
            if query.get("appid") != self.app_id:
                return self._err(40013, "invalid appid")
            if query.get("secret") != self.app_secret:
                return self._err(40125, "invalid appsecret")
            with self._lock:
                self.token = uuid.uuid4().hex
                self.tokens_issued += 1
                return 200, {"access_token": self.token, "expires_in": 7200}
        if url.path == "/cgi-bin/message/template/send" and handler.command == "POST":
            if not self.token or query.get("access_token") != self.token:
                return self._err(40001, "invalid credential, access_token is invalid or not latest")
            message = json.loads(body)
            if message.get("template_id") not in self.templates:
                return self._err(40037, "invalid template_id")
            data = message.get("data")
            if not isinstance(data, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
            ):
                return self._err(47001, "data format error")
            openid = str(message.get("touser", ""))
            if openid in self.not_following:
                return self._err(43004, "require subscribe")
            with self._lock:
                msgid = len(self.sent) + 1000
                self.sent.append(
                    WeChatSent(
                        openid,
                        message["template_id"],
                        {k: v["value"] for k, v in data.items()},
                        msgid,
                    )
                )
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        return 404, {"errcode": 404, "errmsg": "not found"}


@contextlib.contextmanager
def running(server: _JsonServer) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class SmtpServer:
    host: str
    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        box = mailbox.Maildir(self.maildir, create=False)
        found = []
        for key in box.iterkeys():
            with box.get_file(key) as raw:
                parsed = message_from_binary_file(BytesIO(raw.read()), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


@contextlib.contextmanager
def smtp_server(directory: Path) -> Iterator[SmtpServer]:
    """aiosmtpd as its own process, delivering every message into a Maildir."""
    port = free_port()
    maildir = directory / "maildir"
    mailbox.Maildir(maildir, create=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"aiosmtpd did not start: {process.stderr and process.stderr.read()!r}"
                )
            time.sleep(0.05)
        yield SmtpServer("127.0.0.1", port, maildir)
    finally:
        process.terminate()
        process.wait(10)
