"""Answering questions asked by @mention (in a thread under the message) or by DM (in the DM)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.slack.delivery import post_reply
from bot.slack.deps import SlackDeps
from bot.slack.payloads import IncomingQuestion
from bot.slack.replies import reply_to_text

logger = logging.getLogger(__name__)


def is_question(event: dict[str, Any]) -> bool:
    """Listener matcher: a person's mention or DM (not a bot, an edit, a join, ...)."""
    return IncomingQuestion.parse(event) is not None


def skip_redeliveries(
    body: dict[str, Any], request: BoltRequest, next: Callable[[], None], *, deps: SlackDeps
) -> BoltResponse | None:
    """Listener middleware: ack Slack's retries and already-seen ``event_id``s without answering again.

    Slack retries an event it thinks failed (``X-Slack-Retry-Num``; Socket Mode's
    ``retry_attempt`` arrives as the same header); the first delivery has answered already, or
    is answering. ``deps.seen_events`` catches a redelivery that comes without the header.
    """
    retry_num = request.headers.get("x-slack-retry-num", ["0"])[0]
    event_id = str(body.get("event_id") or "")
    if retry_num not in ("", "0"):
        logger.info("skipping retry %s of event %s (%s)", retry_num, event_id, _retry_reason(request))
        if event_id:
            deps.seen_events.first_sighting(event_id)
        return BoltResponse(status=200, body="")
    if event_id and not deps.seen_events.first_sighting(event_id):
        logger.info("skipping event %s: already seen", event_id)
        return BoltResponse(status=200, body="")
    next()
    return None


def _retry_reason(request: BoltRequest) -> str:
    return request.headers.get("x-slack-retry-reason", ["unknown reason"])[0]


def acknowledge(ack: Ack) -> None:
    """Ack an event at once; any answer follows from a lazy listener."""
    ack()


def answer_question(event: dict[str, Any], client: WebClient, *, deps: SlackDeps) -> None:
    """Post the answer to a mention (threaded) or a DM. Runs after the ack."""
    incoming = IncomingQuestion.parse(event)
    if incoming is None:
        return
    reply = reply_to_text(incoming.question, deps, private=False)
    post_reply(client, incoming.channel_id, reply, thread_ts=incoming.reply_thread_ts)
