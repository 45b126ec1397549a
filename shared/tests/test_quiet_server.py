"""The services' HTTP server (``weiquan_shared.service.QuietServer``) in a process of its own:
idle, it wakes about once a second, not uvicorn's ten; its Date header still moves on each
second; a SIGTERM stops it (gracefully) at once."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

SERVER = """
import sys
import uvicorn
from weiquan_shared.service import QuietServer

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                print("shut down", flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

QuietServer(uvicorn.Config(app, port=int(sys.argv[1]), log_config=None)).run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wakeups(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def test_idle_server_wakes_once_a_second_keeps_the_date_and_stops_at_once() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                first = httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert first.status_code == 200

        # Idle: uvicorn's own loop would wake 30 times in 3 s.
        before = wakeups(server.pid)
        time.sleep(3)
        idle = wakeups(server.pid) - before
        assert idle <= 12, f"{idle} wake-ups in 3 s of idling"

        # The Date header is refreshed once a second.
        second = httpx.get(url, timeout=1)
        assert parsedate_to_datetime(second.headers["date"]) > parsedate_to_datetime(
            first.headers["date"]
        )

        server.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.wait(5) == -signal.SIGTERM
        assert time.monotonic() - stopping < 1.0
        assert server.stdout is not None and server.stdout.read() == "shut down\n"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
