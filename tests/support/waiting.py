"""Waiting for an asynchronous pipeline to get somewhere, in tests.

Events reach Kafka a moment after the answer that caused them (the outbox relay publishes
after the commit), and consumers act a moment after that: a test polls for the state it
expects instead of sleeping a fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T], timeout_s: float = 120, what: str = "", interval_s: float = 0.3
) -> T:
    """Call ``check`` until it returns something truthy, and return that; fail the test
    after ``timeout_s`` saying ``what`` it waited for."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, (
            f"timed out after {timeout_s:g} s waiting for {what or check}"
        )
        time.sleep(interval_s)
