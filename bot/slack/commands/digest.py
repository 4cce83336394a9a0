"""``/fact digest <args>``: the hook for daily digests (a placeholder until the digest lands).

Contract for the replacement: ``handle_digest`` receives the text after ``digest`` (stripped,
possibly empty), the channel and user it was typed in/by, and the listeners' ``SlackDeps``; it
returns the ``Reply`` shown ephemerally to the user. It runs inside the slash command's ack, so it
must return quickly (well under Slack's 3 s): store a subscription, don't send a digest from here.
"""

from __future__ import annotations

import logging

from bot.slack.blocks import Reply, notice_reply
from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)


def handle_digest(args: str, *, channel_id: str, user_id: str, deps: SlackDeps) -> Reply:
    """Reply to ``/fact digest <args>`` typed by ``user_id`` in ``channel_id``."""
    logger.info("digest requested in %s by %s (not available yet)", channel_id, user_id)
    return notice_reply(
        "Daily digests are coming soon: I'll post a few facts here every day. "
        f"Until then, ask me anything with `{deps.command} <question>`."
    )
