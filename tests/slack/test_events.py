"""@mentions and DMs over HTTP: threaded answers, ignored events, each event answered once."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.deps import AnswerEngine
from tests.slack.conftest import ANSWERABLE, UNANSWERABLE
from tests.support.fake_slack import BOT_ID, BOT_USER_ID, Call, FakeSlack
from tests.support.recording_engine import RecordingEngine
from tests.support.slack_app import RunningApp, wait_until
from tests.support.slack_requests import dm_event, mention_event


def _mrkdwn(call: Call) -> str:
    texts = []
    for block in call.body["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(texts)


def _posts_before_marker(slack: RunningApp, fake_slack: FakeSlack) -> list[Call]:
    """Send a mention in #marker, wait for its answer, and return every other post made so far.

    Work after the ack runs later, in a thread; the test app runs it in arrival order, so once the
    marker (sent last) is answered, everything sent before it has been handled.
    """
    slack.sender.event(mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="999.999", channel="C0MARKER"))
    wait_until(lambda: any(c.body.get("channel") == "C0MARKER" for c in fake_slack.calls("chat.postMessage")))
    return [c for c in fake_slack.calls("chat.postMessage") if c.body.get("channel") != "C0MARKER"]


def test_mention_is_answered_in_a_thread_under_it(
    slack: RunningApp, fake_slack: FakeSlack, engine: RecordingEngine
) -> None:
    reply = slack.sender.event(mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000001.000100"))
    assert reply.status == 200

    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "C0GENERAL"
    assert post.body["thread_ts"] == "1700000001.000100"
    assert post.body["unfurl_links"] is False and post.body["unfurl_media"] is False
    assert post.body["text"]
    expected = engine.ask(ANSWERABLE)
    assert engine.questions[0] == ANSWERABLE  # the bot's own mention was stripped before matching
    assert ">" + expected.quote[:40] in _mrkdwn(post)
    assert f"paragraph {expected.source.paragraph}" in _mrkdwn(post)  # type: ignore[union-attr]


def test_mention_inside_a_thread_answers_in_that_thread(slack: RunningApp, fake_slack: FakeSlack) -> None:
    event = mention_event(
        f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000009.000900", thread_ts="1700000001.000100"
    )
    slack.sender.event(event)
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["thread_ts"] == "1700000001.000100"


def test_direct_message_is_answered_in_the_dm(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    slack.sender.event(dm_event(ANSWERABLE, ts="1700000002.000200"))
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "D0ASKER"
    assert post.body.get("thread_ts") is None
    assert engine.ask(ANSWERABLE).quote[:40] in _mrkdwn(post)  # type: ignore[index]


def test_unanswerable_mention_declines_with_suggestions(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    slack.sender.event(mention_event(f"<@{BOT_USER_ID}> {UNANSWERABLE}", ts="1700000003.000300"))
    [post] = fake_slack.wait_for("chat.postMessage")
    shown = _mrkdwn(post)
    assert shown.startswith("I couldn't find a sourced answer")
    assert ">" not in shown.replace("&gt;", "")  # no quote: never an unsourced answer
    for suggestion in engine.ask(UNANSWERABLE).suggestions:
        assert suggestion in shown


def test_broadcast_in_a_mention_is_stripped_before_matching(
    slack: RunningApp, fake_slack: FakeSlack, engine: RecordingEngine
) -> None:
    text = f"<!channel> <@{BOT_USER_ID}> <!subteam^S0DEF|@defense> {ANSWERABLE} <https://example.com|see>"
    slack.sender.event(mention_event(text, ts="1700000004.000400"))
    [post] = fake_slack.wait_for("chat.postMessage")
    assert engine.questions == [f"{ANSWERABLE} see"]
    assert "<!" not in post.body["text"] + _mrkdwn(post)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            dm_event(ANSWERABLE, ts="5.1", bot_id="B0OTHERBOT", user="U0OTHERBOT"), id="another-bot"
        ),
        pytest.param(dm_event(ANSWERABLE, ts="5.2", user=BOT_USER_ID, bot_id=BOT_ID), id="itself"),
        pytest.param(dm_event(ANSWERABLE, ts="5.3", subtype="bot_message"), id="bot-message"),
        pytest.param(dm_event(ANSWERABLE, ts="5.4", subtype="message_changed"), id="edit"),
        pytest.param(dm_event("", ts="5.5", subtype="message_deleted"), id="deletion"),
        pytest.param(dm_event("joined", ts="5.6", subtype="channel_join"), id="join"),
        pytest.param({**dm_event(ANSWERABLE, ts="5.7"), "channel_type": "channel"}, id="channel-message"),
        pytest.param(
            {**mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="5.8"), "bot_id": "B0OTHERBOT"},
            id="mention-by-a-bot",
        ),
    ],
)
def test_ignored_events_are_acknowledged_and_not_answered(
    slack: RunningApp, fake_slack: FakeSlack, event: dict[str, Any]
) -> None:
    reply = slack.sender.event(event)
    assert reply.status == 200  # acked, so Slack does not retry it
    assert _posts_before_marker(slack, fake_slack) == []


def test_retried_delivery_is_not_answered_again(slack: RunningApp, fake_slack: FakeSlack) -> None:
    event = mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000006.000600")
    assert slack.sender.event(event, event_id="Ev0RETRIED").status == 200
    fake_slack.wait_for("chat.postMessage")

    retry_headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.sender.event(event, event_id="Ev0RETRIED", headers=retry_headers).status == 200
    assert slack.sender.event(event, event_id="Ev0RETRIED").status == 200  # same id, no header

    assert len(_posts_before_marker(slack, fake_slack)) == 1


def test_retry_of_a_never_seen_event_is_answered_once(slack: RunningApp, fake_slack: FakeSlack) -> None:
    # The first delivery never arrived (a reset, a restart): the retry is the only chance to answer.
    event = mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000007.000700")
    reply = slack.sender.event(event, event_id="Ev0ONLYRETRY", headers={"X-Slack-Retry-Num": "1"})
    assert reply.status == 200
    again = slack.sender.event(event, event_id="Ev0ONLYRETRY", headers={"X-Slack-Retry-Num": "2"})
    assert again.status == 200  # a true duplicate: acked, not answered

    [post] = _posts_before_marker(slack, fake_slack)
    assert post.body["thread_ts"] == "1700000007.000700"
