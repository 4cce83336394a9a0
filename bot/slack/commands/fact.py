"""``/fact``: answered inside the ack, so the reply travels back in the HTTP (or socket) response.

``/fact`` or ``/fact help`` shows usage, ``/fact sources`` the articles, ``/fact topics`` what can
be asked, ``/fact digest ...`` goes to ``commands.digest``; anything else is a question, answered
ephemerally to the asker.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.slack.blocks import Reply
from bot.slack.commands.digest import handle_digest
from bot.slack.deps import SlackDeps
from bot.slack.markup import clean_question
from bot.slack.payloads import SlashCommand
from bot.slack.replies import reply_to_text

logger = logging.getLogger(__name__)


def fact_command(ack: Ack, command: dict[str, Any], *, deps: SlackDeps) -> None:
    """Reply to one ``/fact`` invocation, visible only to the person who typed it."""
    reply = reply_to_command(SlashCommand.parse(command), deps)
    ack(response_type="ephemeral", **reply.message())


def reply_to_command(request: SlashCommand, deps: SlackDeps) -> Reply:
    """Route ``/fact <text>`` to its subcommand or to the engine."""
    first_word, _, rest = request.text.partition(" ")
    if first_word.lower() == "digest":
        return handle_digest(rest.strip(), channel_id=request.channel_id, user_id=request.user_id, deps=deps)
    return reply_to_text(clean_question(request.text), deps, private=True)
