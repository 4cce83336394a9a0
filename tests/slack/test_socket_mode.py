"""Socket Mode end to end: envelopes over a local websocket, acks back over it, replies via the Web API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.deps import AnswerEngine
from bot.storage import SQLiteDatabase
from tests.slack.conftest import ANSWERABLE
from tests.support.fake_slack import BOT_USER_ID, FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode, envelope
from tests.support.slack_app import socket_mode_app, wait_until
from tests.support.slack_requests import event_callback, mention_event, slash_command_body

APP_TOKEN = "xapp-1-test"


@pytest.fixture
def socket_mode(fake_slack: FakeSlack, engine: AnswerEngine, db_path: Path) -> Iterator[FakeSocketMode]:
    """The app connected over Socket Mode to a local websocket server."""
    with socket_mode_app(fake_slack, engine, SQLiteDatabase(db_path), APP_TOKEN) as socket:
        yield socket


def test_connects_with_the_app_token(socket_mode: FakeSocketMode, fake_slack: FakeSlack) -> None:
    [opened] = fake_slack.calls("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"


def test_slash_command_is_answered_in_the_ack(
    socket_mode: FakeSocketMode, fake_slack: FakeSlack, engine: AnswerEngine
) -> None:
    fields = slash_command_body(ANSWERABLE, response_url=fake_slack.response_url())
    socket_mode.send(envelope("slash_commands", fields, envelope_id="env-slash"))

    ack = socket_mode.next_message()
    assert ack["envelope_id"] == "env-slash"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert engine.ask(ANSWERABLE).quote[:40] in ack["payload"]["text"]  # type: ignore[index]
    assert any(block["type"] == "actions" for block in ack["payload"]["blocks"])


def test_mention_is_acked_over_the_socket_and_answered_once(
    socket_mode: FakeSocketMode, fake_slack: FakeSlack
) -> None:
    body = event_callback(
        mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000020.000100"), event_id="Ev0S1"
    )
    socket_mode.send(envelope("events_api", body, envelope_id="env-1"))

    assert socket_mode.next_message() == {"envelope_id": "env-1"}
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["thread_ts"] == "1700000020.000100"

    # Slack redelivers (retry_attempt 1): acked, not answered again.
    socket_mode.send(envelope("events_api", body, envelope_id="env-2", retry_attempt=1))
    assert socket_mode.next_message() == {"envelope_id": "env-2"}
    marker = event_callback(
        mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="999.999", channel="C0MARKER"), event_id="Ev0S2"
    )
    socket_mode.send(envelope("events_api", marker, envelope_id="env-3"))
    assert socket_mode.next_message() == {"envelope_id": "env-3"}
    wait_until(lambda: any(c.body["channel"] == "C0MARKER" for c in fake_slack.calls("chat.postMessage")))
    assert len([c for c in fake_slack.calls("chat.postMessage") if c.body["channel"] == "C0GENERAL"]) == 1
