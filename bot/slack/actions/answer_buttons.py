""" "Share in channel", 👍 and 👎 under an answer.

Share: Slack cannot turn an ephemeral message public, so FactBot posts the answer with
chat.postMessage and then deletes the ephemeral one through its response_url
(``delete_original``, which Slack supports for ephemeral messages). Where the bot is not a member
(``not_in_channel`` / ``channel_not_found``, e.g. a private channel or someone else's DM) it posts
through the response_url instead (``response_type: in_channel``), which needs no membership.

Votes are stored with the question, fact id, user and click time; an ephemeral answer is updated
in place to say so, a public one gets a note only the voter sees.

A click is handled once: its ``delivery_key`` is recorded in the database first, so the same signed
payload sent again (a replay, a redelivery to another replica) neither posts nor counts again.
Changing one's vote is another click, with its own key.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.slack.blocks import VOTE_EMOJI, VOTES, Reply, answer_reply, notice_reply
from bot.slack.dedupe import first_sighting
from bot.slack.delivery import MEMBERSHIP_ERRORS, Posted, send_to_response_url
from bot.slack.deps import SlackDeps
from bot.slack.payloads import ButtonClick
from bot.storage import DatabaseError

logger = logging.getLogger(__name__)


def acknowledge(ack: Ack) -> None:
    """Ack a click at once; the work follows in a lazy listener."""
    ack()


def share_answer(body: dict[str, Any], client: WebClient, *, deps: SlackDeps) -> None:
    """Post the clicked ephemeral answer publicly, then remove the ephemeral copy."""
    click = ButtonClick.parse(body)
    if click is None or not _first_time(click, deps):
        return
    answer = deps.engine.ask(click.ref.question)
    if not answer.answered:
        _tell_clicker(click, "That answer is no longer available, so I can't share it.")
        return
    public = answer_reply(answer, shared_by=click.user_id)
    if not click.channel_id:
        _after_share(click, public, Posted(error="no_channel"))
        return
    deps.replies.post(
        client, click.channel_id, public, then=lambda posted: _after_share(click, public, posted)
    )


def _after_share(click: ButtonClick, public: Reply, posted: Posted) -> None:
    """Once the public post is settled: fall back to the response_url, then remove the ephemeral copy."""
    shared = posted.ok
    if not shared and posted.error in MEMBERSHIP_ERRORS:
        shared = send_to_response_url(
            click.response_url,
            {"response_type": "in_channel", "replace_original": False, **public.message()},
        )
    if shared:
        send_to_response_url(click.response_url, {"delete_original": True})
    else:
        _tell_clicker(
            click, "I couldn't share that here. Invite me to the channel with `/invite` and try again."
        )


def record_vote(body: dict[str, Any], *, deps: SlackDeps) -> None:
    """Store a 👍 / 👎 and tell the voter it counted."""
    click = ButtonClick.parse(body)
    if click is None or click.action_id not in VOTES or not _first_time(click, deps):
        return
    vote = VOTES[click.action_id]
    try:
        deps.database.record_feedback(
            question=click.ref.question,
            fact_id=click.ref.fact_id,
            user_id=click.user_id,
            vote=vote,
            channel_id=click.channel_id,
            at=click.clicked_at,
        )
    except DatabaseError as error:
        logger.error("could not record a %s vote in %s: %s", vote, deps.database.description, error)
        _tell_clicker(click, "Sorry, I couldn't record your feedback just now.")
        return
    logger.info("recorded a %s vote on fact %s", vote, click.ref.fact_id)
    if click.is_ephemeral:
        answer = deps.engine.ask(click.ref.question)
        if answer.answered:
            updated = answer_reply(answer, repeat_question=True, shareable=True, voted=vote)
            send_to_response_url(click.response_url, {"replace_original": True, **updated.message()})
            return
    _tell_clicker(click, f"{VOTE_EMOJI[vote]} Thanks, your feedback is recorded.")


def _first_time(click: ButtonClick, deps: SlackDeps) -> bool:
    """True unless this very click was handled before (by any process sharing the database)."""
    if click.delivery_key is None or first_sighting(deps.database, "action", click.delivery_key):
        return True
    logger.info("ignoring a replay of a %s click by %s", click.action_id, click.user_id)
    return False


def _tell_clicker(click: ButtonClick, text: str) -> None:
    """A note only the person who clicked sees, leaving the original message alone."""
    note = notice_reply(text)
    send_to_response_url(
        click.response_url, {"response_type": "ephemeral", "replace_original": False, **note.message()}
    )
