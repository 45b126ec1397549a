"""Waiting for a dependency at start: one clear log line per failed attempt, then retry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from weiquan_shared.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)


class DependencyUnavailable(RuntimeError):
    pass


async def wait_for_dependency(
    component: str,
    target: str,
    attempt: Callable[[], Awaitable[T]],
    timeout_s: float,
    max_delay_s: float = 5.0,
) -> T:
    """Call ``attempt`` until it succeeds or ``timeout_s`` passes.

    ``component`` is what a person looks for ("PostgreSQL", "Kafka"); ``target`` where.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.5
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                raise DependencyUnavailable(
                    f"{component} at {target} still unreachable after {timeout_s:.0f}s: {exc}"
                ) from exc
            log.warning(
                "dependency unreachable, retrying",
                component=component,
                target=target,
                error=f"{type(exc).__name__}: {exc}",
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
