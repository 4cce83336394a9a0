"""Slack API failures: retried where a retry can succeed, otherwise logged once; the app keeps going."""

from __future__ import annotations

import logging

import pytest

from bot.slack.blocks import VOTE_UP_ACTION
from bot.slack.payloads import AnswerRef
from tests.slack.conftest import ANSWERABLE
from tests.support.fake_slack import BOT_USER_ID, FakeSlack
from tests.support.slack_app import RunningApp, wait_until
from tests.support.slack_requests import mention_event

DELIVERY_LOGGER = "bot.slack.delivery"


def _mention(slack: RunningApp, ts: str) -> None:
    assert slack.sender.event(mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts=ts)).status == 200


def _delivery_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == DELIVERY_LOGGER]


def test_rate_limit_is_retried_after_retry_after(slack: RunningApp, fake_slack: FakeSlack) -> None:
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
    )
    _mention(slack, "1700000010.000100")

    limited, accepted = fake_slack.wait_for("chat.postMessage", count=2, timeout=10)
    assert accepted.at - limited.at >= 1.0  # waited as long as Slack asked
    assert accepted.body["thread_ts"] == limited.body["thread_ts"] == "1700000010.000100"


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_membership_errors_are_logged_once_and_not_retried(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    fake_slack.queue("chat.postMessage", {"ok": False, "error": error})
    _mention(slack, "1700000011.000100")

    records = wait_until(lambda: _delivery_records(caplog))
    assert [r.levelno for r in records] == [logging.WARNING]
    assert error in records[0].getMessage() and "/invite" in records[0].getMessage()
    # Still alive: the next mention is answered; the failed one was not retried.
    _mention(slack, "1700000012.000100")
    posts = fake_slack.wait_for("chat.postMessage", count=2)
    assert [p.body["thread_ts"] for p in posts] == ["1700000011.000100", "1700000012.000100"]


def test_a_post_accepted_before_the_connection_dropped_is_not_posted_again(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    fake_slack.queue("chat.postMessage", drop=True)
    _mention(slack, "1700000013.000100")

    fake_slack.wait_for("conversations.replies")  # looked for its tag before anything else
    _mention(slack, "1700000013.000200")  # a marker: the listener is done with the first
    posts = fake_slack.wait_for("chat.postMessage", count=2)
    assert [p.body["thread_ts"] for p in posts] == ["1700000013.000100", "1700000013.000200"]
    assert [m.thread_ts for m in fake_slack.messages()] == ["1700000013.000100", "1700000013.000200"]


def test_when_slack_cannot_say_whether_a_post_landed_it_is_logged_failed_not_repeated(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    fake_slack.queue("chat.postMessage", drop=True)
    fake_slack.queue("conversations.replies", {"ok": False, "error": "missing_scope"})
    _mention(slack, "1700000014.000100")

    records = wait_until(lambda: _delivery_records(caplog))
    assert len(records) == 1
    assert "not delivered" in records[0].getMessage() and "missing_scope" in records[0].getMessage()
    assert len(fake_slack.calls("chat.postMessage")) == 1
    _mention(slack, "1700000015.000100")
    assert fake_slack.wait_for("chat.postMessage", count=2)[-1].body["thread_ts"] == "1700000015.000100"
    assert len(fake_slack.messages()) == 2  # the first landed once, the second once


def test_expired_response_url_is_logged_once(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    fake_slack.queue("/response/old", "expired_url", status=404)
    value = AnswerRef(ANSWERABLE, "some-fact").to_value()

    assert (
        slack.sender.click(VOTE_UP_ACTION, value, response_url=fake_slack.response_url("old")).status == 200
    )

    records = wait_until(lambda: _delivery_records(caplog))
    assert len(records) == 1
    assert "404" in records[0].getMessage() and "expired_url" in records[0].getMessage()
    assert len(slack.database.feedback()) == 1  # the vote itself was kept
