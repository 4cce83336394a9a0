"""Fault injection on the Slack Web API (issue 15's "replies lost on ordinary API faults").

Each fault is injected by the fake Slack on 127.0.0.1 into a reply to a real mention sent over
signed HTTP to the real app. Each reply is posted exactly once, or logged as failed after bounded
retries; a reply waiting out a rate limit never delays another; nothing escapes a listener.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient

from bot.engine.model import Answer
from bot.slack.blocks import SHARE_ACTION, notice_reply
from bot.slack.delivery import BACKOFF_S, MAX_ATTEMPTS, ReplyPoster, RetryTimer
from tests.slack.conftest import ANSWERABLE
from tests.support.fake_slack import BOT_USER_ID, FakeSlack
from tests.support.recording_engine import RecordingEngine
from tests.support.slack_app import RunningApp, running_app, wait_until
from tests.support.slack_requests import mention_event

POST = "chat.postMessage"
DELIVERY_LOGGER = "bot.slack.delivery"


def _mention(slack: RunningApp, ts: str, channel: str = "C0GENERAL") -> None:
    event = mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts=ts, channel=channel)
    assert slack.sender.event(event).status == 200


def _settled(slack: RunningApp, fake: FakeSlack, posts: int, timeout: float = 15.0) -> None:
    """Wait until ``posts`` chat.postMessage calls were made and no reply is still being tried."""
    fake.wait_for(POST, count=posts, timeout=timeout)
    wait_until(lambda: slack.deps.replies.in_flight == 0, timeout=timeout)


def _metric(slack: RunningApp, name: str, **labels: str) -> float:
    reply = slack.sender.get("/metrics")
    assert reply.status == 200
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


FAULTS: dict[str, tuple[dict[str, Any], int]] = {
    # fault: (what the fake answers the first post with, posts made in all)
    "5xx once": ({"body": {"ok": False, "error": "internal_error"}, "status": 500}, 2),
    "503 with an HTML page": ({"body": "<html>Service Unavailable</html>", "status": 503}, 2),
    "200, body not JSON": ({"body": "<html>all good</html>"}, 1),
    "200, body cut off": ({"truncate": True}, 1),
    "200, JSON cut off": ({"body": '{"ok": true, "channel": "C0GENERAL", "ts": "17'}, 1),
    "200, body not JSON, not posted": ({"body": "<html>proxy</html>", "posted": False}, 2),
    "429, Retry-After: abc": (
        {"body": {"ok": False, "error": "ratelimited"}, "status": 429, "headers": {"Retry-After": "abc"}},
        2,
    ),
    "connection dropped after Slack accepted the post": ({"drop": True}, 1),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_api_fault_still_delivers_the_reply_exactly_once(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    scripted, posts = FAULTS[fault]
    fake_slack.queue(POST, **scripted)
    _mention(slack, "1700000100.000100")

    _settled(slack, fake_slack, posts)
    assert len(fake_slack.calls(POST)) == posts
    [message] = fake_slack.messages()
    assert message.thread_ts == "1700000100.000100"
    calls = fake_slack.calls(POST)
    assert len({c.body["metadata"]["event_payload"]["post_id"] for c in calls}) == 1  # one reply, one tag
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot.")]


def test_a_retry_after_that_is_not_a_number_waits_the_backoff(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "abc"})
    _mention(slack, "1700000101.000100")

    limited, accepted = fake_slack.wait_for(POST, count=2, timeout=10)
    assert accepted.at - limited.at >= BACKOFF_S[0]


def test_a_valid_retry_after_is_honoured(slack: RunningApp, fake_slack: FakeSlack) -> None:
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1.5"})
    _mention(slack, "1700000102.000100")

    limited, accepted = fake_slack.wait_for(POST, count=2, timeout=10)
    assert accepted.at - limited.at >= 1.5
    assert len(fake_slack.messages()) == 1


def test_a_long_retry_after_is_logged_failed_at_once_holding_nothing(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    failed = {"method": POST, "reason": "ratelimited"}
    before = _metric(slack, "factbot_slack_delivery_failures_total", **failed)
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    _mention(slack, "1700000103.000100")

    _settled(slack, fake_slack, 1)
    assert time.monotonic() - started < 2.0
    assert slack.deps.replies.timer.pending() == 0
    [record] = [r for r in caplog.records if r.name == DELIVERY_LOGGER]
    assert "not delivered" in record.getMessage() and "3600" in record.getMessage()
    assert _metric(slack, "factbot_slack_delivery_failures_total", **failed) == before + 1
    assert fake_slack.messages() == []


def test_retries_are_bounded_then_the_reply_is_logged_failed_and_counted(
    slack: RunningApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    errors = {"method": POST, "error": "http_502"}
    errors_before = _metric(slack, "factbot_slack_api_errors_total", **errors)
    for _ in range(MAX_ATTEMPTS + 2):
        fake_slack.queue(POST, "Bad Gateway", status=502)
    _mention(slack, "1700000104.000100")

    _settled(slack, fake_slack, MAX_ATTEMPTS, timeout=sum(BACKOFF_S) + 10)
    assert len(fake_slack.calls(POST)) == MAX_ATTEMPTS
    [record] = [r for r in caplog.records if r.name == DELIVERY_LOGGER]
    assert f"after {MAX_ATTEMPTS} attempts" in record.getMessage()
    assert _metric(slack, "factbot_slack_api_errors_total", **errors) == errors_before + MAX_ATTEMPTS
    assert _metric(slack, "factbot_slack_delivery_failures_total", method=POST, reason="http_502") >= 1
    assert fake_slack.messages() == []


def test_replies_waiting_out_a_rate_limit_never_block_a_healthy_one(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    # The test app runs lazy listeners on ONE thread: any sleeping retry would block the next reply.
    limited = 10
    for _ in range(limited):
        fake_slack.queue(
            POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "2"}
        )
    for number in range(limited):
        _mention(slack, f"1700000105.{number:06d}", channel="C0BUSY")
    fake_slack.wait_for(POST, count=limited)

    sent = time.monotonic()
    _mention(slack, "1700000106.000100", channel="C0QUIET")
    healthy = wait_until(lambda: fake_slack.messages("C0QUIET"))
    assert fake_slack.calls(POST)[limited].at - sent < 1.0
    assert len(healthy) == 1 and fake_slack.messages("C0BUSY") == []  # the others still wait

    _settled(slack, fake_slack, 2 * limited + 1)
    busy = fake_slack.messages("C0BUSY")
    assert sorted(m.thread_ts for m in busy) == [f"1700000105.{n:06d}" for n in range(limited)]
    assert all(c.at - sent >= 1.0 for c in fake_slack.calls(POST)[limited + 1 :])


def test_a_rate_limited_share_is_posted_once_then_the_private_copy_removed(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    reply = slack.sender.slash(ANSWERABLE, response_url=fake_slack.response_url("ask")).json()
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    value = actions["elements"][0]["value"]
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})

    assert (
        slack.sender.click(SHARE_ACTION, value, response_url=fake_slack.response_url("click")).status == 200
    )

    deletion = fake_slack.wait_for("/response/click", timeout=10)[0]
    assert deletion.body == {"delete_original": True}
    assert len(fake_slack.messages("C0GENERAL")) == 1
    assert len(fake_slack.calls(POST)) == 2


class _FailingEngine(RecordingEngine):
    """The real engine, except that questions containing "explode" raise."""

    def ask(self, question: str) -> Answer:
        if "explode" in question:
            raise RuntimeError("engine fault injected by the test")
        return super().ask(question)


def test_nothing_raises_out_of_a_listener(
    real_engine: Any, fake_slack: FakeSlack, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_app(_FailingEngine(real_engine), fake_slack, db_path) as slack:
        before = _metric(slack, "factbot_listener_errors_total", listener="fact_command")
        reply = slack.sender.slash("why does it explode", response_url=fake_slack.response_url())
        assert reply.status == 200 and "went wrong" in reply.json()["text"]
        assert _metric(slack, "factbot_listener_errors_total", listener="fact_command") == before + 1

        event = mention_event(f"<@{BOT_USER_ID}> explode now", ts="1700000107.000100")
        assert slack.sender.event(event).status == 200
        wait_until(lambda: _metric(slack, "factbot_listener_errors_total", listener="answer_question") >= 1)
        _mention(slack, "1700000107.000200")  # still answering
        assert fake_slack.wait_for(POST)[0].body["thread_ts"] == "1700000107.000200"
    assert any("engine fault injected" in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize(
    ("closed", "why"), [(True, "FactBot is stopping"), (False, "1 replies are already waiting")]
)
def test_a_reply_that_cannot_wait_for_a_retry_is_logged_failed_with_the_reason(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, closed: bool, why: str
) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY_LOGGER)
    poster = ReplyPoster(RetryTimer(max_pending=1))
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=5)
    try:
        if closed:
            poster.close()
        else:
            poster.timer.call_later(60, lambda: None)  # the one slot taken
        fake_slack.queue(POST, "Bad Gateway", status=502)
        poster.post(client, "C0GENERAL", notice_reply("hello"))
    finally:
        poster.close()
    assert len(fake_slack.calls(POST)) == 1 and poster.in_flight == 0
    [record] = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert record.getMessage().endswith(f"http_502, and no retry: {why}")
