"""The fake Slack server behaves like the parts of Slack the tests rely on."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import BOT_ID, BOT_USER_ID, FakeSlack


def test_auth_test_names_the_bot(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    response = client.auth_test()
    assert (response["user_id"], response["bot_id"]) == (BOT_USER_ID, BOT_ID)
    assert fake_slack.calls("auth.test")[0].headers["authorization"] == "Bearer xoxb-test"


def test_records_json_bodies_and_scripts_errors_in_order(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="first", blocks=[{"type": "divider"}])
    assert raised.value.response["error"] == "not_in_channel"
    second = client.chat_postMessage(channel="C1", text="second")
    assert second["ok"] and second["ts"]
    bodies = [call.body for call in fake_slack.wait_for("chat.postMessage", count=2)]
    assert bodies[0]["blocks"] == [{"type": "divider"}]
    assert [b["text"] for b in bodies] == ["first", "second"]


def test_rate_limit_carries_retry_after(fake_slack: FakeSlack) -> None:
    client = WebClient(
        token="xoxb-test",
        base_url=fake_slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
    )
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_response_url_and_dropped_connection(fake_slack: FakeSlack) -> None:
    webhook = WebhookClient(fake_slack.response_url("abc"), retry_handlers=[])
    fake_slack.queue("/response/abc", drop=True)
    with pytest.raises(OSError):
        webhook.send_dict({"text": "lost"})
    assert webhook.send_dict({"text": "hello", "replace_original": True}).status_code == 200
    calls = fake_slack.calls("/response/abc")
    assert [c.body["text"] for c in calls] == ["lost", "hello"]
