"""Structured JSON logs (structlog), with personal data masked before anything is written."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import structlog

from weiquan_shared.redaction import redact_text

# Keys whose values are personal data wherever they appear in a log event.
PERSONAL_KEYS = frozenset(
    {"name", "worker_name", "mobile", "phone", "id_number", "id_card", "openid", "address"}
)


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank personal fields and scrub phone/ID patterns from strings."""
    for key, value in list(event_dict.items()):
        if key in PERSONAL_KEYS:
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


class RepeatLimiter(logging.Filter):
    """Lets one copy of a repeated message through per ``interval_s``.

    While a broker is down, aiokafka logs the same connection error about a thousand
    times a second; one line every few seconds says as much.
    """

    def __init__(self, interval_s: float = 10.0) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self._last.get(key, -self._interval_s) < self._interval_s:
            return False
        self._last[key] = now
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stdout, for the service and every library it uses."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handler.addFilter(RepeatLimiter())
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
