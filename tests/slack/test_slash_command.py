"""``/fact`` over HTTP: signed requests to the real Bolt app, answered inside the ack."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.slack.blocks import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.slack.deps import AnswerEngine
from tests.slack.conftest import ANSWERABLE, UNANSWERABLE
from tests.support.fake_slack import FakeSlack
from tests.support.recording_engine import RecordingEngine
from tests.support.slack_app import RunningApp


def _texts(reply: dict[str, Any]) -> list[str]:
    texts = []
    for block in reply["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def _slash(slack: RunningApp, fake_slack: FakeSlack, text: str) -> dict[str, Any]:
    reply = slack.sender.slash(text, response_url=fake_slack.response_url())
    assert reply.status == 200
    return reply.json()


def test_question_is_answered_privately_in_the_ack(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    expected = engine.ask(ANSWERABLE)
    assert expected.answered and expected.quote and expected.source

    reply = _slash(slack, fake_slack, ANSWERABLE)

    assert reply["response_type"] == "ephemeral"
    assert reply["unfurl_links"] is False and reply["unfurl_media"] is False
    assert expected.quote[:40] in reply["text"]
    texts = _texts(reply)
    assert ANSWERABLE in texts[0]  # a slash command leaves no visible question: repeat it
    assert any(t.startswith(">") and expected.quote[:40] in t for t in texts)
    assert any(
        f"paragraph {expected.source.paragraph}" in t and expected.source.title[:20] in t for t in texts
    )
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [SHARE_ACTION, VOTE_UP_ACTION, VOTE_DOWN_ACTION]
    # Answered inside the ack: nothing but Bolt's start-up auth.test went to the Web API.
    assert {call.method for call in fake_slack.calls()} == {"auth.test"}


def test_no_sourced_answer_says_so_and_suggests(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    expected = engine.ask(UNANSWERABLE)
    assert not expected.answered

    reply = _slash(slack, fake_slack, UNANSWERABLE)

    texts = _texts(reply)
    assert texts[0].startswith("I couldn't find a sourced answer to")
    assert not any(t.startswith(">") for t in texts)
    assert not any(b["type"] == "actions" for b in reply["blocks"])
    for suggestion in expected.suggestions:
        assert suggestion.replace("&", "&amp;") in texts[-1]


@pytest.mark.parametrize("text", ["", "help", "HELP"])
def test_usage(slack: RunningApp, fake_slack: FakeSlack, text: str) -> None:
    usage = "\n".join(_texts(_slash(slack, fake_slack, text)))
    for subcommand in ("/fact &lt;question&gt;", "/fact sources", "/fact topics", "/fact digest"):
        assert f"`{subcommand}" in usage
    assert "<question>" not in usage


def test_sources_lists_the_articles(slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine) -> None:
    listing = "\n".join(_texts(_slash(slack, fake_slack, "sources")))
    for article in engine.articles():
        assert article.title.replace("&", "&amp;")[:30] in listing
        assert f"({article.fact_count} facts)" in listing


def test_topics_lists_what_it_can_answer(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    listing = "\n".join(_texts(_slash(slack, fake_slack, "topics")))
    topics = engine.topics(12)
    assert topics
    for topic in topics:
        assert topic.replace("&", "&amp;") in listing


def test_digest_is_routed_to_its_hook(
    slack: RunningApp, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "not set up" in _texts(_slash(slack, fake_slack, "digest"))[0]  # deps without a digest service

    seen: list[tuple[str, str, str]] = []

    def fake_digest(args: str, *, channel_id: str, user_id: str, deps: object) -> Any:
        from bot.slack.blocks import notice_reply

        seen.append((args, channel_id, user_id))
        return notice_reply("digest hook reached")

    monkeypatch.setattr("bot.slack.commands.fact.handle_digest", fake_digest)
    assert _texts(_slash(slack, fake_slack, "Digest  daily at 09:00"))[0] == "digest hook reached"
    assert seen == [("daily at 09:00", "C0GENERAL", "U0ASKER")]


def test_broadcasts_in_a_question_are_stripped_and_nothing_quoted_can_ping(
    slack: RunningApp, fake_slack: FakeSlack, engine: RecordingEngine
) -> None:
    # <!channel> as Slack encodes @channel, and <!here> typed literally (which Slack escapes).
    raw = "<!channel> <@U0FACTBOT> " + ANSWERABLE + " &lt;!here&gt; &amp;"
    reply = _slash(slack, fake_slack, raw)

    assert engine.questions == [ANSWERABLE + " <!here> &"]
    everything = reply["text"] + "".join(_texts(reply))
    for ping in ("<!channel>", "<!here>", "<@U0FACTBOT>"):
        assert ping not in everything
    assert "&lt;!here&gt; &amp;" in _texts(reply)[0]


def test_overlong_question_is_refused(slack: RunningApp, fake_slack: FakeSlack) -> None:
    assert "too long" in _texts(_slash(slack, fake_slack, "why " * 400))[0]


def test_bad_signature_is_rejected(slack: RunningApp, fake_slack: FakeSlack) -> None:
    body = "command=%2Ffact&text=treaty&user_id=U1&channel_id=C1"
    reply = slack.sender.post(
        body, content_type="application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert reply.status == 401


def test_stale_timestamp_is_rejected(slack: RunningApp, fake_slack: FakeSlack) -> None:
    body = "command=%2Ffact&text=treaty&user_id=U1&channel_id=C1"
    stale = int(time.time()) - 6 * 60  # Bolt accepts requests up to 5 minutes old
    reply = slack.sender.post(body, content_type="application/x-www-form-urlencoded", timestamp=stale)
    assert reply.status == 401
    fresh = slack.sender.post(body, content_type="application/x-www-form-urlencoded")
    assert fresh.status == 200  # the same body, signed now, is accepted: only the age was wrong
