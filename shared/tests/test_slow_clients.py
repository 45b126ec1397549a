"""Slow and oversized clients against a real server process started by ``serve()``.

A client that sends half its headers (or trickles them), or half its body, is answered 408
and disconnected within the configured timeout; headers past the size limit get 431; normal
requests, kept-alive connections and headers just under the limit still work.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
MAX_HEADER_BYTES = 4096

# A service's serve() with a two-route app: nothing else (no Kafka, no PostgreSQL) is needed
# to exercise the HTTP server itself.
SERVER = """
from fastapi import FastAPI, Request
from weiquan_shared.http import install_http_errors
from weiquan_shared.service import serve
from weiquan_shared.settings import Settings

app = FastAPI()
install_http_errors(app)

@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"pong": "ok"}

@app.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"received": len(await request.body())}

serve(app, Settings(service_name="slow-clients-test"))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slow-clients") / "server.log"


@pytest.fixture(scope="module")
def server(server_log: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "WEIQUAN_HTTP_PORT": str(port),
        "WEIQUAN_HTTP_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "WEIQUAN_HTTP_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "WEIQUAN_HTTP_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "WEIQUAN_CPU_NICENESS": "0",
    }
    log = server_log.open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, server_log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=5)
    sock.settimeout(5)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (5 s at most)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _status_and_message(response: bytes) -> tuple[int, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, orjson.loads(body)["message"]


def _read_response(sock: socket.socket) -> bytes:
    """One response (head and a body of content-length bytes) from a kept-alive connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _request(server: tuple[str, int], raw: bytes) -> bytes:
    with _connect(server) as sock:
        sock.sendall(raw)
        return _read_response(sock)


def test_half_sent_headers_are_cut_off_within_the_timeout(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: weiquan\r\nX-Half: ")
        started = time.monotonic()
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert HEADER_TIMEOUT_S * 0.8 <= elapsed < HEADER_TIMEOUT_S + 1.5
    status, message = _status_and_message(response)
    assert status == 408
    assert "请求头未在 1 秒内发送完整" in message


def test_headers_trickled_byte_by_byte_are_cut_off_too(server: tuple[str, int]) -> None:
    """A deadline for the whole header section, not an idle timeout a trickle resets."""
    with _connect(server) as sock:
        started = time.monotonic()
        for byte in b"GET /ping HTTP/1.1\r\nHost: weiquan\r\nX-Slow: 1234567890":
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # the server closed the connection
            time.sleep(0.1)
            if time.monotonic() - started > HEADER_TIMEOUT_S + 1.5:
                pytest.fail("the server still reads headers trickled past the timeout")
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert elapsed < HEADER_TIMEOUT_S + 1.5
    assert _status_and_message(response)[0] == 408


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 1.5


def test_half_sent_body_is_cut_off_within_the_timeout(
    server: tuple[str, int], server_log: Path
) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: weiquan\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"half": "'
        )
        started = time.monotonic()
        response = _read_until_closed(sock)
        elapsed = time.monotonic() - started
    assert BODY_TIMEOUT_S * 0.8 <= elapsed < BODY_TIMEOUT_S + 1.5
    status, message = _status_and_message(response)
    assert status == 408
    assert "请求内容未在 1 秒内发送完整" in message
    # The handler waiting for the body sees the client gone: logged as such, not as a crash.
    time.sleep(0.2)
    log = server_log.read_text()
    assert "client disconnected before its request was read" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("pieces", [1, 16], ids=["one write", "many writes"])
def test_oversized_headers_get_431(server: tuple[str, int], pieces: int) -> None:
    raw = b"GET /ping HTTP/1.1\r\nHost: weiquan\r\nCookie: " + b"c" * (2 * MAX_HEADER_BYTES)
    raw += b"\r\n\r\n"
    step = len(raw) // pieces + 1
    with _connect(server) as sock:
        try:
            for start in range(0, len(raw), step):
                sock.sendall(raw[start : start + step])
                time.sleep(0.01)
        except OSError:
            pass  # closed by the server before everything was sent
        response = _read_until_closed(sock)
    status, message = _status_and_message(response)
    assert status == 431
    assert "请求头过大（超过 4 KB）" in message


def test_normal_requests_still_work(server: tuple[str, int]) -> None:
    response = _request(server, b"GET /ping HTTP/1.1\r\nHost: weiquan\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b'{"pong":"ok"}')

    body = b'{"text": "' + "劳动争议".encode() * 300 + b'"}'
    response = _request(
        server,
        b"POST /echo HTTP/1.1\r\nHost: weiquan\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b'{"received":%d}' % len(body))


def test_headers_just_under_the_limit_and_a_body_in_the_same_write_work(
    server: tuple[str, int],
) -> None:
    head = b"POST /echo HTTP/1.1\r\nHost: weiquan\r\nContent-Length: 20000\r\nCookie: "
    head += b"c" * (MAX_HEADER_BYTES - len(head) - 4) + b"\r\n\r\n"
    assert len(head) == MAX_HEADER_BYTES
    response = _request(server, head + b"x" * 20000)
    assert response.startswith(b"HTTP/1.1 200 "), response
    assert response.endswith(b'{"received":20000}')


def test_a_kept_alive_connection_serves_requests_slower_than_the_header_timeout(
    server: tuple[str, int],
) -> None:
    """The header deadline starts with a request's first byte, not with the connection:
    a browser's kept-alive connection may wait between two requests (up to uvicorn's 5 s
    keep-alive), and its requests answered by a slow handler are not cut off either."""
    with _connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: weiquan\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(HEADER_TIMEOUT_S * 1.5)
