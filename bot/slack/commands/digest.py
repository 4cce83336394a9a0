"""``/fact digest <args>``: parse, call the digest service, render (the logic is in bot.digest).

``handle_digest`` receives the text after ``digest`` (stripped, possibly empty), the channel and
user it was typed in/by, and the listeners' ``SlackDeps``; it returns the ``Reply`` shown
ephemerally to the user. It runs inside the slash command's ack, so it only touches the database:
it never sends a digest itself (the scheduler does).
"""

from __future__ import annotations

import logging

from bot.digest.command import run_digest_command
from bot.digest.timing import utc_now
from bot.slack.blocks import Reply, notice_reply
from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)


def handle_digest(args: str, *, channel_id: str, user_id: str, deps: SlackDeps) -> Reply:
    """Reply to ``/fact digest <args>`` typed by ``user_id`` in ``channel_id``."""
    if deps.digest is None:
        logger.warning("digest requested in %s, but this process has no digest service", channel_id)
        return notice_reply("Daily digests are not set up in this FactBot.")
    text = run_digest_command(
        deps.digest, args, channel_id=channel_id, user_id=user_id, now=utc_now(), command=deps.command
    )
    return notice_reply(text)
