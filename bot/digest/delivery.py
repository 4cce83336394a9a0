"""Posting a digest to Slack, and sorting failures into retry-later, give-up and channel problems."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.errors import FactBotError

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
    """Something that posts a message and returns its ts, or raises DeliveryError."""

    def post(self, channel_id: str, text: str, blocks: list[dict[str, Any]]) -> str | None: ...


def classify_slack_error(error: SlackApiError) -> DeliveryFailure:
    """Map a Web API error response to a DeliveryFailure."""
    response = error.response
    status = getattr(response, "status_code", 0) or 0
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or f"http_{status}")
    retry_after: float | None = None
    if status == 429 or code == "ratelimited":
        headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
        raw = headers.get("retry-after")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        try:
            retry_after = float(raw) if raw is not None else None
        except ValueError:
            retry_after = None
        return DeliveryFailure("ratelimited", retryable=True, retry_after_seconds=retry_after)
    if code in CHANNEL_ERRORS:
        return DeliveryFailure(code, retryable=False, channel_problem=True)
    if code in TRANSIENT_ERRORS or status >= 500:
        return DeliveryFailure(code, retryable=True)
    return DeliveryFailure(code, retryable=False)


class SlackPoster:
    """Posts digests with the Slack Web API (``chat.postMessage``)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel_id: str, text: str, blocks: list[dict[str, Any]]) -> str | None:
        try:
            response = self.client.chat_postMessage(
                channel=channel_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            raise DeliveryError(classify_slack_error(exc)) from exc
        except (OSError, HTTPException) as exc:  # URLError, timeouts, connection resets
            raise DeliveryError(DeliveryFailure(f"network error: {exc}", retryable=True)) from exc
        except SlackRequestError as exc:  # a malformed request or SLACK_API_URL: retrying cannot help
            raise DeliveryError(DeliveryFailure(f"bad request: {exc}", retryable=False)) from exc
        ts = response.get("ts")
        return str(ts) if ts is not None else None
