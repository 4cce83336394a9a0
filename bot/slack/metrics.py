"""Prometheus metrics for the Slack layer, served at ``GET /metrics`` in HTTP mode.

With several worker processes, each process counts in files under ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multiprocess mode, set up by ``bot.slack.http_server.serve_http`` before the
workers start) and ``/metrics`` on any worker sums them all. With one process the counts live in
memory. Only counters and histograms are used: they add up correctly across processes.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

QUESTIONS = Counter("factbot_questions", "Questions (slash command, mention or DM) that reached the engine")
ANSWERS = Counter("factbot_answers", "Questions answered with a sourced fact")
DECLINES = Counter("factbot_declines", "Questions declined: no fact answers them well enough")
ANSWER_SECONDS = Histogram(
    "factbot_answer_seconds", "Seconds to answer one question (engine and reply)", buckets=_FAST_BUCKETS
)
SLACK_REQUEST_SECONDS = Histogram(
    "factbot_slack_request_seconds",
    "Seconds from a Slack request's body being read to its HTTP response (the ack)",
    buckets=_FAST_BUCKETS,
)
SLACK_API_ERRORS = Counter(
    "factbot_slack_api_errors", "Slack Web API calls that failed, by method and error", ["method", "error"]
)
REJECTED_REQUESTS = Counter(
    "factbot_http_rejected_requests", "HTTP requests refused before the Bolt app, by reason", ["reason"]
)
DUPLICATE_EVENTS = Counter("factbot_duplicate_events", "Event deliveries skipped: their event_id was seen")
DELIVERY_FAILURES = Counter(
    "factbot_slack_delivery_failures",
    "Messages given up on (after bounded retries, or when whether Slack posted them is unknown)",
    ["method", "reason"],
)
DIGEST_POSTS = Counter(
    "factbot_digest_posts", "Digest post attempts by outcome: sent, retry, failed, paused", ["outcome"]
)
RELOADS = Counter("factbot_reloads", "Fact index loads into this process (start-up and any reload)")
LISTENER_ERRORS = Counter(
    "factbot_listener_errors",
    "Unexpected exceptions caught by the last-resort guard, by listener",
    ["listener"],
)


def count_answer(answered: bool, seconds: float) -> None:
    """Record one question the engine handled."""
    QUESTIONS.inc()
    (ANSWERS if answered else DECLINES).inc()
    ANSWER_SECONDS.observe(seconds)


def count_slack_api_error(method: str, error: str) -> None:
    SLACK_API_ERRORS.labels(method=method, error=error).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format and its content type (all processes' in multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return _generate_latest(registry), CONTENT_TYPE_LATEST
    return _generate_latest(REGISTRY), CONTENT_TYPE_LATEST
