"""Prometheus metrics every service exposes at ``/metrics``."""

from prometheus_client import Counter, Histogram

EVENTS_CONSUMED = Counter(
    "weiquan_events_consumed_total",
    "Events taken off Kafka, by outcome (applied, duplicate, dead_lettered)",
    ["event_type", "outcome"],
)
HANDLER_RETRIES = Counter(
    "weiquan_handler_retries_total", "Handler attempts that failed and were retried", ["reason"]
)
OUTBOX_PUBLISHED = Counter(
    "weiquan_outbox_published_total", "Events the outbox relay published to Kafka", ["topic"]
)
HTTP_LATENCY = Histogram(
    "weiquan_http_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
