"""Sending replies to Slack: retried where a retry can succeed, never twice, never raised.

A reply (:meth:`ReplyPoster.post`) is tried at once in the listener's thread. When it must be
tried again (a 429, a 5xx, a connection that failed before sending), the next attempt is put on
a timer (:class:`RetryTimer`) and the listener returns: a reply waiting out a rate limit holds no
listener thread, so it never delays the others. Attempts are bounded (:data:`MAX_ATTEMPTS`, and
no wait over :data:`MAX_WAIT_S`); a reply that runs out of them is logged as failed and counted in
``factbot_slack_delivery_failures_total``.

A post whose answer was lost (the connection dropped after sending, a body that is not JSON or is
cut off) is looked up by its tag before it is sent again (``bot.slack.web_api``), so Slack
accepting it and the answer going astray never shows a reply twice. Errors a retry cannot fix
(``not_in_channel``, an expired response_url, ...) are logged once with what to do about them.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry import BackoffRetryIntervalCalculator, RetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.slack import metrics
from bot.slack.blocks import Reply
from bot.slack.web_api import (
    OK,
    REJECTED,
    RETRY,
    UNKNOWN,
    Attempt,
    LookupFailed,
    bare_client,
    find_tagged,
    post_message,
    safe_retry_handlers,
)

logger = logging.getLogger(__name__)

MEMBERSHIP_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
"""chat.postMessage errors that mean the bot cannot post there until someone changes the channel."""

MAX_ATTEMPTS = 4
"""Tries per reply, the first included."""
BACKOFF_S = (0.5, 2.0, 5.0)
"""Waits before the 2nd, 3rd, 4th try after a 5xx, a network error or a 429 without a valid Retry-After."""
MAX_WAIT_S = 30.0
"""A reply Slack asks to hold longer than this (or longer in all) is given up rather than kept waiting."""
MAX_PENDING = 1000
"""Replies waiting for a retry at once; beyond this a new one is given up."""


def retry_handlers() -> list[RetryHandler]:
    """Retry handlers for a WebClient or WebhookClient: none can post twice or sleep long."""
    return safe_retry_handlers()


def _webhook_retry_handlers() -> list[RetryHandler]:
    server_errors = ServerErrorRetryHandler(
        max_retry_count=1, interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.25)
    )
    return [*safe_retry_handlers(), server_errors]


@dataclass(frozen=True)
class Posted:
    """The outcome of a post: the message ``ts`` on success, else Slack's error code."""

    ts: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.ts is not None


class RetryTimer:
    """Runs functions after a delay: one timer thread keeps the heap, a small pool runs what is due.

    Waiting takes no thread of the caller's or the pool's. Threads start on first use.
    """

    def __init__(self, workers: int = 4, max_pending: int = MAX_PENDING) -> None:
        self._workers = workers
        self.max_pending = max_pending
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def call_later(self, delay_s: float, function: Callable[[], None]) -> bool:
        """Run ``function`` in about ``delay_s`` seconds; False (not scheduled) when full or closed."""
        with self._changed:
            if self._closed or len(self._heap) >= self.max_pending:
                return False
            if self._thread is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="slack-retry")
                self._thread = threading.Thread(target=self._run, name="slack-retry-timer", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._order), function))
            self._changed.notify()
        return True

    def pending(self) -> int:
        with self._changed:
            return len(self._heap)

    @property
    def closed(self) -> bool:
        with self._changed:
            return self._closed

    def close(self) -> None:
        """Drop what is waiting and stop (a retry already running finishes)."""
        with self._changed:
            self._closed = True
            dropped = len(self._heap)
            self._heap.clear()
            self._changed.notify()
        if dropped:
            logger.warning("stopping with %d Slack post(s) waiting for a retry: not sent", dropped)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._changed.wait(timeout)
                if self._closed:
                    return
                _, _, function = heapq.heappop(self._heap)
            assert self._pool is not None
            self._pool.submit(_guarded, function)


def _guarded(function: Callable[[], None]) -> None:
    try:
        function()
    except Exception:  # last resort: a retry must never kill the pool thread silently
        logger.exception("a Slack post retry failed unexpectedly")


@dataclass(frozen=True)
class _Reply:
    client: WebClient
    channel_id: str
    message: dict[str, Any]
    thread_ts: str | None
    post_id: str
    started: float
    then: Callable[[Posted], None] | None


class ReplyPoster:
    """Posts replies with ``chat.postMessage``: bounded retries on a timer, exactly once or logged."""

    def __init__(self, timer: RetryTimer | None = None) -> None:
        self.timer = timer or RetryTimer()
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Replies started and not yet settled (posted, refused or given up)."""
        with self._lock:
            return self._in_flight

    def post(
        self,
        client: WebClient,
        channel_id: str,
        reply: Reply,
        *,
        thread_ts: str | None = None,
        then: Callable[[Posted], None] | None = None,
    ) -> None:
        """Post ``reply`` in ``channel_id`` (in ``thread_ts`` if given); never raises.

        ``then`` receives the final outcome, in this thread or, after a retry, in a retry thread.
        """
        job = _Reply(
            client=bare_client(client),
            channel_id=channel_id,
            message={"thread_ts": thread_ts, **reply.message()},
            thread_ts=thread_ts,
            post_id=uuid.uuid4().hex,
            started=time.time(),
            then=then,
        )
        with self._lock:
            self._in_flight += 1
        self._attempt(job, 1)

    def close(self) -> None:
        self.timer.close()

    def _attempt(self, job: _Reply, number: int) -> None:
        attempt = post_message(job.client, job.channel_id, job.post_id, **job.message)
        code = attempt.error or "unknown_error"
        if attempt.outcome != OK:
            metrics.count_slack_api_error("chat.postMessage", code)
        if attempt.outcome == UNKNOWN:
            try:
                ts = find_tagged(
                    job.client, job.channel_id, job.post_id, thread_ts=job.thread_ts, since=job.started
                )
            except LookupFailed as error:
                self._give_up(job, code, f"{code}, and whether Slack posted it is unknown ({error})")
                return
            if ts is not None:
                logger.info("reply in %s was posted although its answer was lost (%s)", job.channel_id, code)
                self._finish(job, Posted(ts=ts))
                return
            attempt = Attempt(RETRY, code)  # not there: sending it again cannot duplicate it
        if attempt.outcome == OK:
            self._finish(job, Posted(ts=attempt.ts))
            return
        if attempt.outcome == REJECTED:
            if code in MEMBERSHIP_ERRORS:
                logger.warning(
                    "cannot post in channel %s: %s (invite the bot to the channel with /invite)",
                    job.channel_id,
                    code,
                )
            else:
                logger.error("chat.postMessage in channel %s failed: %s", job.channel_id, code)
            self._finish(job, Posted(error=code))
            return
        if number >= MAX_ATTEMPTS:
            self._give_up(job, code, f"{code} after {number} attempts")
            return
        wait = attempt.retry_after_s if attempt.retry_after_s is not None else BACKOFF_S[number - 1]
        if wait > MAX_WAIT_S or time.time() + wait - job.started > 2 * MAX_WAIT_S:
            self._give_up(
                job, code, f"{code}: Slack asked to wait {wait:g} s, over the {MAX_WAIT_S:g} s allowed"
            )
            return
        logger.info("chat.postMessage in %s: %s; try %d in %.1f s", job.channel_id, code, number + 1, wait)
        if not self.timer.call_later(wait, lambda: self._attempt(job, number + 1)):
            why = (
                "FactBot is stopping"
                if self.timer.closed
                else f"{self.timer.max_pending} replies are already waiting"
            )
            self._give_up(job, code, f"{code}, and no retry: {why}")

    def _give_up(self, job: _Reply, reason: str, why: str) -> None:
        metrics.DELIVERY_FAILURES.labels(method="chat.postMessage", reason=reason).inc()
        logger.error("reply in channel %s not delivered: %s", job.channel_id, why)
        self._finish(job, Posted(error=reason))

    def _finish(self, job: _Reply, posted: Posted) -> None:
        try:
            if job.then is not None:
                job.then(posted)
        except Exception:  # last resort: the follow-up of a post must not escape into a pool thread
            logger.exception("handling the outcome of a post in %s failed", job.channel_id)
        finally:
            with self._lock:
                self._in_flight -= 1


def send_to_response_url(url: str | None, body: dict[str, Any]) -> bool:
    """POST ``body`` to an interaction's response_url. True on success; failures are logged, not raised.

    A refused connection, a short rate limit and one 5xx are retried; nothing that may have
    arrived is sent again (a response_url has no way to check).
    """
    if not url:
        logger.warning("cannot respond: the payload has no response_url")
        return False
    try:
        response = WebhookClient(url, retry_handlers=_webhook_retry_handlers()).send_dict(body)
    except (OSError, HTTPException, ValueError) as error:
        logger.error("response_url request failed: cannot reach Slack (%s)", error)
        metrics.count_slack_api_error("response_url", "network_error")
        metrics.DELIVERY_FAILURES.labels(method="response_url", reason="network_error").inc()
        return False
    if response.status_code != 200:
        metrics.count_slack_api_error("response_url", f"http_{response.status_code}")
        metrics.DELIVERY_FAILURES.labels(method="response_url", reason=f"http_{response.status_code}").inc()
        # 404 with "expired_url" / "used_url": response_urls last 30 minutes and 5 uses.
        logger.warning("response_url refused the message: HTTP %s %s", response.status_code, response.body)
        return False
    return True
