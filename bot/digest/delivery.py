"""Posting a digest to Slack, and sorting failures into retry-later, give-up and channel problems."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import FactBotError
from bot.slack import metrics
from bot.slack.web_api import (
    OK,
    RETRY,
    UNKNOWN,
    Attempt,
    LookupFailed,
    bare_client,
    classify_api_error,
    find_tagged,
    post_message,
)

logger = logging.getLogger(__name__)

# The channel itself is the problem: retrying will not help until someone fixes it in Slack.
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
# Slack-side trouble that usually passes.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)

LOOKBACK_S = 86_400.0
"""How far back a retry looks for an earlier attempt's post (a digest retries within its day)."""

ERROR_HINTS = {
    "not_in_channel": "invite me to the channel (`/invite @FactBot`), then run `/fact digest on` again",
    "channel_not_found": "the channel is gone, or private without me; invite me, then run `/fact digest on`",
    "is_archived": "the channel is archived; unarchive it, then run `/fact digest on` again",
}


@dataclass(frozen=True)
class DeliveryFailure:
    """Why a post did not go through, and what to do about it."""

    error: str
    retryable: bool
    channel_problem: bool = False
    retry_after_seconds: float | None = None


class DeliveryError(FactBotError):
    """Slack did not accept a post."""

    def __init__(self, failure: DeliveryFailure) -> None:
        self.failure = failure
        super().__init__(f"Slack did not accept the digest: {failure.error}")


class DigestPoster(Protocol):
    """Something that posts a message and returns its ts, or raises DeliveryError.

    ``key`` names the post across attempts; with ``check_first`` (a retry) the poster first makes
    sure an earlier attempt did not land after all.
    """

    def post(
        self, channel_id: str, text: str, blocks: list[dict[str, Any]], *, key: str, check_first: bool = False
    ) -> str | None: ...


def classify_slack_error(error: SlackApiError) -> DeliveryFailure:
    """Map a Web API error response to a DeliveryFailure."""
    return _failure(classify_api_error(error))


def _failure(attempt: Attempt) -> DeliveryFailure:
    code = attempt.error or "unknown_error"
    if attempt.outcome == RETRY:
        return DeliveryFailure(code, retryable=True, retry_after_seconds=attempt.retry_after_s)
    if code in CHANNEL_ERRORS:
        return DeliveryFailure(code, retryable=False, channel_problem=True)
    return DeliveryFailure(code, retryable=code in TRANSIENT_ERRORS)


class SlackPoster:
    """Posts digests with the Slack Web API (``chat.postMessage``), one attempt per call, tagged.

    A post whose answer was lost (a dropped connection, a body that is not JSON or is cut off)
    is looked up by its tag (``bot.slack.web_api``): found, it counts as sent; not found, it is
    retried later; when Slack cannot tell, the retry looks again before posting. Never raises
    anything but DeliveryError.
    """

    def __init__(self, client: WebClient) -> None:
        self.client = bare_client(client)

    def post(
        self, channel_id: str, text: str, blocks: list[dict[str, Any]], *, key: str, check_first: bool = False
    ) -> str | None:
        if check_first:
            found = self._find(channel_id, key)
            if found is not None:
                logger.info("digest %s in %s had been posted after all", key, channel_id)
                return found
        attempt = post_message(
            self.client, channel_id, key, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        if attempt.outcome == OK:
            return attempt.ts
        metrics.count_slack_api_error("chat.postMessage", attempt.error or "unknown_error")
        if attempt.outcome == UNKNOWN:
            found = self._find(channel_id, key)
            if found is not None:
                logger.info("digest %s in %s was posted although its answer was lost", key, channel_id)
                return found
            raise DeliveryError(DeliveryFailure(attempt.error or "no_response", retryable=True))
        raise DeliveryError(_failure(attempt))

    def _find(self, channel_id: str, key: str) -> str | None:
        """The ts of the post tagged ``key``; DeliveryError (retry later) when Slack cannot say."""
        try:
            return find_tagged(self.client, channel_id, key, thread_ts=None, since=time.time() - LOOKBACK_S)
        except LookupFailed as error:
            raise DeliveryError(
                DeliveryFailure(f"unknown whether posted ({error})", retryable=True)
            ) from None
