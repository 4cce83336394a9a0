"""Answering questions asked by @mention (in a thread under the message) or by DM (in the DM)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.slack import metrics
from bot.slack.dedupe import first_sighting
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
    """Listener middleware: ack an ``event_id`` seen before without answering it again.

    Slack redelivers an event it thinks failed, with ``X-Slack-Retry-Num`` (Socket Mode's
    ``retry_attempt`` arrives as the same header). A retry is answered when its ``event_id`` was
    never seen here, since the first delivery may have been lost (a reset, a restart); it is
    skipped when the first delivery is answered or answering. The record is in the database, so it
    holds across processes and restarts; when the database fails, the event is answered (a rare
    duplicate rather than a lost question). The header only shapes the log line.
    """
    event_id = str(body.get("event_id") or "")
    retry_num = request.headers.get("x-slack-retry-num", ["0"])[0]
    if event_id and not first_sighting(deps.database, "event", event_id):
        logger.info("skipping event %s: already seen (retry %s)", event_id, retry_num)
        metrics.DUPLICATE_EVENTS.inc()
        return BoltResponse(status=200, body="")
    if retry_num not in ("", "0"):
        logger.info(
            "answering retry %s of event %s: its first delivery never arrived (%s)",
            retry_num,
            event_id,
            _retry_reason(request),
        )
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
    deps.replies.post(client, incoming.channel_id, reply, thread_ts=incoming.reply_thread_ts)
