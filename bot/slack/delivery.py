"""Sending messages to Slack: retried where a retry can succeed, otherwise logged once, never raised.

Rate limits (HTTP 429) are retried after Slack's ``Retry-After``; connection errors are retried
quickly with a little jitter (a person is waiting). Errors a retry cannot fix (``not_in_channel``,
``channel_not_found``, an expired response_url, ...) are logged once with what to do about them.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.slack import metrics
from bot.slack.blocks import Reply

logger = logging.getLogger(__name__)

MEMBERSHIP_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
"""chat.postMessage errors that mean the bot cannot post there until someone changes the channel."""


class _ShortJitter(Jitter):
    """Up to a quarter second of jitter (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration + random.random() / 4


def retry_handlers() -> list[RetryHandler]:
    """Fresh retry handlers for one client: 2 retries on connection errors, 2 on rate limits."""
    return [
        ConnectionErrorRetryHandler(
            max_retry_count=2,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.25, jitter=_ShortJitter()),
        ),
        RateLimitErrorRetryHandler(max_retry_count=2),
    ]


@dataclass(frozen=True)
class Posted:
    """The outcome of a post: the message ``ts`` on success, else Slack's error code."""

    ts: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.ts is not None


def post_reply(client: WebClient, channel_id: str, reply: Reply, *, thread_ts: str | None = None) -> Posted:
    """Post ``reply`` in ``channel_id`` (in ``thread_ts`` if given). Never raises."""
    try:
        response = client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, **reply.message())
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        metrics.count_slack_api_error("chat.postMessage", code)
        if code in MEMBERSHIP_ERRORS:
            logger.warning(
                "cannot post in channel %s: %s (invite the bot to the channel with /invite)", channel_id, code
            )
        else:
            logger.error("chat.postMessage in channel %s failed: %s", channel_id, code)
        return Posted(error=code)
    except OSError as error:  # URLError, timeouts and connection resets, after the retries
        metrics.count_slack_api_error("chat.postMessage", "network_error")
        logger.error("chat.postMessage in channel %s failed: cannot reach Slack (%s)", channel_id, error)
        return Posted(error="network_error")
    return Posted(ts=str(response.get("ts") or "") or None, error=None if response.get("ts") else "no_ts")


def send_to_response_url(url: str | None, body: dict[str, Any]) -> bool:
    """POST ``body`` to an interaction's response_url. True on success; failures are logged, not raised."""
    if not url:
        logger.warning("cannot respond: the payload has no response_url")
        return False
    try:
        response = WebhookClient(url, retry_handlers=retry_handlers()).send_dict(body)
    except OSError as error:
        logger.error("response_url request failed: cannot reach Slack (%s)", error)
        metrics.count_slack_api_error("response_url", "network_error")
        return False
    if response.status_code != 200:
        metrics.count_slack_api_error("response_url", f"http_{response.status_code}")
        # 404 with "expired_url" / "used_url": response_urls last 30 minutes and 5 uses.
        logger.warning("response_url refused the message: HTTP %s %s", response.status_code, response.body)
        return False
    return True
