"""The buttons under an answer: share in channel, 👍 / 👎 stored in a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.slack.blocks import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.slack.deps import AnswerEngine
from bot.storage import SQLiteDatabase
from tests.slack.conftest import ANSWERABLE
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import RunningApp


def _private_answer_value(slack: RunningApp, fake_slack: FakeSlack) -> str:
    """Ask with /fact and return the value its buttons carry."""
    reply = slack.sender.slash(ANSWERABLE, response_url=fake_slack.response_url("ask")).json()
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    values = {e["value"] for e in actions["elements"]}
    assert len(values) == 1
    return values.pop()


def _mrkdwn(blocks: list[dict[str, Any]]) -> str:
    texts = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(texts)


def test_share_posts_publicly_then_deletes_the_private_answer(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    value = _private_answer_value(slack, fake_slack)

    assert (
        slack.sender.click(SHARE_ACTION, value, response_url=fake_slack.response_url("click")).status == 200
    )

    post = fake_slack.wait_for("chat.postMessage")[0]
    deletion = fake_slack.wait_for("/response/click")[0]
    assert post.at <= deletion.at
    assert post.body["channel"] == "C0GENERAL"
    assert "thread_ts" not in post.body or post.body["thread_ts"] is None
    assert post.body["unfurl_links"] is False and post.body["unfurl_media"] is False
    shown = _mrkdwn(post.body["blocks"])
    assert f"<@U0ASKER> asked: {ANSWERABLE}" in shown
    assert engine.ask(ANSWERABLE).quote[:40] in shown
    public_buttons = next(b for b in post.body["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in public_buttons] == [VOTE_UP_ACTION, VOTE_DOWN_ACTION]
    assert deletion.body == {"delete_original": True}


def test_share_where_the_bot_is_not_a_member_goes_through_the_response_url(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    value = _private_answer_value(slack, fake_slack)
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})

    slack.sender.click(SHARE_ACTION, value, response_url=fake_slack.response_url("click"))

    public, deletion = fake_slack.wait_for("/response/click", count=2)
    assert public.body["response_type"] == "in_channel"
    assert public.body["replace_original"] is False
    assert "<@U0ASKER> asked" in _mrkdwn(public.body["blocks"])
    assert deletion.body == {"delete_original": True}
    assert len(fake_slack.calls("chat.postMessage")) == 1  # not retried: a retry cannot fix membership


def test_share_that_fails_tells_only_the_clicker(slack: RunningApp, fake_slack: FakeSlack) -> None:
    value = _private_answer_value(slack, fake_slack)
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "invalid_blocks"})

    slack.sender.click(SHARE_ACTION, value, response_url=fake_slack.response_url("click"))

    note = fake_slack.wait_for("/response/click")[0]
    assert note.body["response_type"] == "ephemeral"
    assert note.body["replace_original"] is False
    assert "couldn't share" in note.body["text"]


def test_vote_on_a_private_answer_is_stored_and_acknowledged_in_place(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine, db_path: Any
) -> None:
    value = _private_answer_value(slack, fake_slack)

    slack.sender.click(
        VOTE_UP_ACTION, value, response_url=fake_slack.response_url("click"), action_ts="1700000123.456000"
    )

    update = fake_slack.wait_for("/response/click")[0]
    assert update.body["replace_original"] is True
    assert "👍 Thanks, your feedback is recorded." in _mrkdwn(update.body["blocks"])
    remaining = next(b for b in update.body["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in remaining] == [SHARE_ACTION]
    # Read back through a separate connection: the row is in the SQLite file itself.
    reader = SQLiteDatabase(db_path)
    try:
        [row] = reader.feedback()
    finally:
        reader.close()
    assert (row.question, row.fact_id, row.user_id, row.vote, row.channel_id) == (
        ANSWERABLE,
        engine.ask(ANSWERABLE).fact_id,
        "U0ASKER",
        "up",
        "C0GENERAL",
    )
    assert row.created_at == datetime.fromtimestamp(1700000123.456, tz=UTC)


def test_vote_on_a_public_answer_thanks_only_the_voter(
    slack: RunningApp, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    value = _private_answer_value(slack, fake_slack)

    slack.sender.click(
        VOTE_DOWN_ACTION,
        value,
        response_url=fake_slack.response_url("click"),
        is_ephemeral=False,
        user_id="U0OTHER",
    )

    note = fake_slack.wait_for("/response/click")[0]
    assert note.body["response_type"] == "ephemeral"
    assert note.body["replace_original"] is False
    assert note.body["text"] == "👎 Thanks, your feedback is recorded."
    [row] = slack.database.feedback()
    assert (row.vote, row.user_id, row.fact_id) == ("down", "U0OTHER", engine.ask(ANSWERABLE).fact_id)
