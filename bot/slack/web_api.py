"""One Slack Web API post at a time, each outcome sorted; a tag to tell whether an unclear post landed.

Every ``chat.postMessage`` FactBot makes carries a tag in its message ``metadata``
(``event_type`` :data:`TAG_EVENT`, ``event_payload.post_id``). An attempt ends in one of:

- ``ok``: Slack answered with the message's ``ts``;
- ``rejected``: Slack refused it with an error a retry cannot fix (``not_in_channel``, ...);
- ``retry``: Slack certainly did not post it: a 429 (with ``Retry-After`` when valid), a 5xx or
  a transient error code, or the connection failed before the request was sent;
- ``unknown``: the request went out but no readable answer came back (the connection dropped,
  a time-out, a 200 whose body is not JSON or is cut off). Slack may have posted it.

An ``unknown`` post is never sent again blindly: :func:`find_tagged` looks for the tag in the
channel (or thread) first, and only a post that is not there is sent again. When the lookup
itself fails (no ``*:history`` scope, Slack unreachable), the post is given up and logged.
"""

from __future__ import annotations

import logging
import math
import random
import socket
import time
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    Jitter,
    RetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.slack import metrics

logger = logging.getLogger(__name__)

TAG_EVENT = "factbot_post"
"""The ``metadata.event_type`` of every message FactBot posts."""

OK, REJECTED, RETRY, UNKNOWN = "ok", "rejected", "retry", "unknown"

TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
"""``ok: false`` error codes that say Slack did not do it this time, and may next time."""

LOOKUP_WINDOW_S = 600.0
"""How far back (before the first attempt) a tag is looked for, allowing for clock skew."""

_NON_JSON_PREFIX = "Received a response in a non-JSON format"  # slack_sdk's error for a bad body


@dataclass(frozen=True)
class Attempt:
    """What one API call came to: ``outcome`` (ok, rejected, retry, unknown), ``ts`` when ok."""

    outcome: str
    error: str | None = None
    ts: str | None = None
    retry_after_s: float | None = None


def parse_retry_after(value: object) -> float | None:
    """``Retry-After`` as seconds, or None when missing or not a non-negative number (``abc``)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def bare_client(client: WebClient) -> WebClient:
    """A copy of ``client`` with no retry handlers: each call is one attempt, sorted by the caller."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        retry_handlers=[],
    )


def tag(post_id: str) -> dict[str, Any]:
    """The ``metadata`` argument that marks a post as ``post_id``."""
    return {"event_type": TAG_EVENT, "event_payload": {"post_id": post_id}}


def post_message(client: WebClient, channel: str, post_id: str, **message: Any) -> Attempt:
    """One tagged ``chat.postMessage`` with ``client`` (make it with :func:`bare_client`). Never raises."""
    try:
        response = client.chat_postMessage(channel=channel, metadata=tag(post_id), **message)
    except SlackApiError as error:
        return classify_api_error(error)
    except URLError:  # raised while connecting or sending: the request never arrived whole
        return Attempt(RETRY, "network_error")
    except (OSError, HTTPException) as error:  # after sending: reset, time-out, a cut-off body
        logger.debug("chat.postMessage in %s: no readable answer (%r)", channel, error)
        return Attempt(UNKNOWN, "no_response")
    except SlackRequestError as error:  # a malformed request or SLACK_API_URL: a retry cannot help
        logger.error("chat.postMessage in %s: bad request (%s)", channel, error)
        return Attempt(REJECTED, "bad_request")
    except ValueError:  # a body slack_sdk could not parse
        return Attempt(UNKNOWN, "bad_body")
    ts = response.get("ts")
    return Attempt(OK, ts=str(ts)) if ts else Attempt(UNKNOWN, "no_ts")


def classify_api_error(error: SlackApiError) -> Attempt:
    """Sort an error response: rate limit, server trouble, unreadable body, or a refusal."""
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429 or code == "ratelimited":
        headers = {str(k).lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
        return Attempt(RETRY, "ratelimited", retry_after_s=parse_retry_after(headers.get("retry-after")))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return Attempt(RETRY, code if code in TRANSIENT_ERRORS else f"http_{status}")
    if code.startswith(_NON_JSON_PREFIX) or " " in code:  # Slack's own codes never hold spaces
        return Attempt(UNKNOWN if status == 200 else RETRY, "bad_body")
    return Attempt(REJECTED, code)


class LookupFailed(Exception):
    """Whether a post landed could not be found out."""


def find_tagged(
    client: WebClient, channel: str, post_id: str, *, thread_ts: str | None, since: float
) -> str | None:
    """The ``ts`` of the message tagged ``post_id`` in ``channel`` (or its thread), else None.

    Reads ``conversations.replies`` for a thread, ``conversations.history`` otherwise (scopes
    ``channels:history``, ``groups:history``, ``im:history``, ``mpim:history``). Raises
    :class:`LookupFailed` when Slack does not answer clearly.
    """
    oldest = f"{max(0.0, since - LOOKUP_WINDOW_S):.6f}"
    method = "conversations.replies" if thread_ts else "conversations.history"
    try:
        if thread_ts:
            response = client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200
            )
        else:
            response = client.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200
            )
    except SlackApiError as error:
        code = classify_api_error(error).error or "unknown_error"
        metrics.count_slack_api_error(method, code)
        raise LookupFailed(f"{method}: {code}") from None
    except (OSError, HTTPException, SlackRequestError, ValueError) as error:
        metrics.count_slack_api_error(method, "network_error")
        raise LookupFailed(f"{method}: {type(error).__name__}") from None
    for message in response.get("messages") or ():
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == TAG_EVENT and payload.get("post_id") == post_id:
            return str(message.get("ts") or "") or None
    return None


class SafeRateLimitRetryHandler(RetryHandler):
    """slack_sdk's rate-limit retry, surviving a ``Retry-After`` that is not a number.

    slack_sdk's ``RateLimitErrorRetryHandler`` does ``int(header)`` and raises on ``abc``. Here an
    invalid or missing value waits one second; a wait over ``max_wait_s`` is not retried at all
    (the 429 reaches the caller), so no thread ever sleeps long inside a call.
    """

    def __init__(self, max_retry_count: int = 1, max_wait_s: float = 2.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    def _wait_s(self, response: HttpResponse | None) -> float:
        headers = {str(k).lower(): v for k, v in ((response.headers if response else None) or {}).items()}
        seconds = parse_retry_after(headers.get("retry-after"))
        return 1.0 if seconds is None else seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None and response.status_code == 429 and self._wait_s(response) <= self.max_wait_s
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(self._wait_s(response) + random.random() / 4)
        state.increment_current_attempt()


class _ShortJitter(Jitter):
    """Up to a quarter second of jitter (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration + random.random() / 4


def _not_sent(error: Exception) -> bool:
    """True for errors raised before the request could reach Slack (refused, no DNS)."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class RefusedConnectionRetryHandler(RetryHandler):
    """Retry a call whose connection was refused (or had no DNS): the request never reached Slack.

    slack_sdk's ``ConnectionErrorRetryHandler`` also retries a connection reset after sending,
    which posts a message twice when Slack had accepted it.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and error is not None and _not_sent(error)


def safe_retry_handlers() -> list[RetryHandler]:
    """Retry handlers for the app's WebClient and response_url calls that cannot duplicate a post.

    Only a refused connection is retried (twice, quickly); rate limits only for a short
    ``Retry-After`` (see :class:`SafeRateLimitRetryHandler`).
    """
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.25, jitter=_ShortJitter())
    return [
        RefusedConnectionRetryHandler(max_retry_count=2, interval_calculator=backoff),
        SafeRateLimitRetryHandler(),
    ]
