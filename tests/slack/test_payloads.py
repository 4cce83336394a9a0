"""Payload parsing decides what FactBot answers and what it ignores."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.slack.payloads import AnswerRef, ButtonClick, IncomingQuestion, SlashCommand
from tests.support.slack_requests import block_actions, dm_event, mention_event


def test_mention_is_answered_in_a_thread_under_it() -> None:
    parsed = IncomingQuestion.parse(mention_event("<@U0FACTBOT> treaty?", ts="10.1"))
    assert parsed is not None
    assert (parsed.question, parsed.reply_thread_ts, parsed.is_direct_message) == ("treaty?", "10.1", False)


def test_mention_inside_a_thread_stays_in_that_thread() -> None:
    parsed = IncomingQuestion.parse(mention_event("<@U0FACTBOT> treaty?", ts="10.5", thread_ts="10.1"))
    assert parsed is not None and parsed.reply_thread_ts == "10.1"


def test_top_level_dm_is_answered_in_the_dm() -> None:
    parsed = IncomingQuestion.parse(dm_event("treaty?", ts="10.1"))
    assert parsed is not None
    assert (parsed.channel_id, parsed.reply_thread_ts, parsed.is_direct_message) == ("D0ASKER", None, True)


@pytest.mark.parametrize(
    "event",
    [
        dm_event("from a bot", ts="1.1", bot_id="B0OTHER"),
        dm_event("bot message", ts="1.1", subtype="bot_message"),
        dm_event("edited", ts="1.1", subtype="message_changed"),
        dm_event("", ts="1.1", subtype="message_deleted"),
        dm_event("joined", ts="1.1", subtype="channel_join"),
        {**dm_event("in a channel", ts="1.1"), "channel_type": "channel"},
        {**mention_event("<@U0FACTBOT> hi", ts="1.1"), "bot_id": "B0OTHER"},
        {"type": "reaction_added", "user": "U1", "ts": "1.1"},
        {"type": "message", "channel_type": "im", "text": "no user", "ts": "1.1", "channel": "D1"},
    ],
)
def test_ignored_events(event: dict[str, object]) -> None:
    assert IncomingQuestion.parse(event) is None


def test_slash_command_fields() -> None:
    parsed = SlashCommand.parse(
        {"text": "  treaty? ", "user_id": "U1", "channel_id": "C1", "response_url": ""}
    )
    assert parsed == SlashCommand(text="treaty?", user_id="U1", channel_id="C1", response_url=None)


def test_button_click_round_trips_the_answer_ref() -> None:
    ref = AnswerRef("what <b> & “c”?", "fact-1")
    body = block_actions("fact_vote_up", ref.to_value(), response_url="http://x/r", is_ephemeral=False)
    click = ButtonClick.parse(body)
    assert click is not None
    assert click.ref == ref
    assert (click.user_id, click.channel_id, click.is_ephemeral) == ("U0ASKER", "C0GENERAL", False)
    assert click.clicked_at == datetime.fromtimestamp(1700000100.0002, tz=UTC)


@pytest.mark.parametrize("value", ["not json", "[1]", '{"f": "x"}'])
def test_button_click_with_unreadable_value_is_ignored(value: str) -> None:
    assert ButtonClick.parse(block_actions("fact_vote_up", value, response_url="http://x/r")) is None


def test_a_replayed_click_has_the_same_delivery_key_and_another_click_another() -> None:
    payload = block_actions("fact_vote_up", AnswerRef("q", "f1").to_value(), response_url="http://x/r")
    key = ButtonClick.parse(payload).delivery_key  # type: ignore[union-attr]
    assert key and ButtonClick.parse(json.loads(json.dumps(payload))).delivery_key == key  # type: ignore[union-attr]
    again = block_actions("fact_vote_up", AnswerRef("q", "f1").to_value(), response_url="http://x/r")
    down = block_actions("fact_vote_down", AnswerRef("q", "f1").to_value(), response_url="http://x/r")
    keys = {key, ButtonClick.parse(again).delivery_key, ButtonClick.parse(down).delivery_key}  # type: ignore[union-attr]
    assert len(keys) == 3
