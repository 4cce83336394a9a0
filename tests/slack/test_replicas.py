"""Two replicas of FactBot on one PostgreSQL database: each question answered once, each vote counted
once, each day's digest posted once.

Two real Bolt apps, each served by uvicorn on its own port on 127.0.0.1 with its own database
connection, as two ``factbot serve`` processes behind one load balancer would be; one real
PostgreSQL server (started by the suite); one fake Slack Web API recording what both sent. The
HTTP replica tests run on one SQLite file too (``--workers`` on one machine).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient

from bot.digest.scheduler import start_digest_scheduler
from bot.engine.engine import Engine
from bot.settings import Settings
from bot.slack.blocks import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.slack.deps import AnswerEngine
from bot.storage.postgres import PostgresDatabase
from tests.slack.conftest import ANSWERABLE
from tests.support.fake_slack import BOT_USER_ID, Call, FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode, envelope
from tests.support.postgres import PostgresServer
from tests.support.slack_app import RunningApp, running_app, socket_mode_app, wait_until
from tests.support.slack_requests import block_actions, event_callback, mention_event

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def replicas(
    engine: AnswerEngine, fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> Iterator[tuple[RunningApp, RunningApp]]:
    """Two replicas on one database: PostgreSQL, or (``--workers`` on one machine) one SQLite file."""
    with (
        running_app(engine, fake_slack, tmp_path / "factbot.db", database_url=database_url) as first,
        running_app(engine, fake_slack, tmp_path / "factbot.db", database_url=database_url) as second,
    ):
        yield first, second


def _posts_after_markers(apps: tuple[RunningApp, ...], fake_slack: FakeSlack) -> list[Call]:
    """Send each replica a question of its own and wait for the answers; every other post so far.

    Each test replica runs its work after the ack in arrival order, so once its marker is answered,
    everything it was sent before has been handled.
    """
    markers = []
    for n, app in enumerate(apps):
        channel = f"C0MARKER{n}"
        markers.append(channel)
        app.sender.event(mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts=f"999.{n}", channel=channel))
    answered = lambda: {c.body.get("channel") for c in fake_slack.calls("chat.postMessage")}  # noqa: E731
    wait_until(lambda: set(markers) <= answered())
    return [c for c in fake_slack.calls("chat.postMessage") if c.body.get("channel") not in markers]


def _both_at_once(apps: tuple[RunningApp, RunningApp], send: object) -> list[int]:
    start = threading.Barrier(2)

    def run(app: RunningApp) -> int:
        start.wait()
        return send(app).status  # type: ignore[operator]

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, apps))


def test_an_event_delivered_to_both_and_retried_is_answered_once(
    replicas: tuple[RunningApp, RunningApp], fake_slack: FakeSlack
) -> None:
    first, second = replicas
    event = mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000200.000100")
    assert _both_at_once(replicas, lambda app: app.sender.event(event, event_id="Ev0BOTH")) == [200, 200]
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert second.sender.event(event, event_id="Ev0BOTH", headers=retry).status == 200
    assert first.sender.event(event, event_id="Ev0BOTH", headers=retry).status == 200

    [post] = _posts_after_markers(replicas, fake_slack)
    assert post.body["thread_ts"] == "1700000200.000100"


def test_a_retry_whose_first_delivery_never_arrived_is_answered_once_across_replicas_and_restarts(
    replicas: tuple[RunningApp, RunningApp],
    fake_slack: FakeSlack,
    engine: AnswerEngine,
    database_url: str,
    tmp_path: Path,
) -> None:
    first, second = replicas
    event = mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000201.000100")
    assert second.sender.event(event, event_id="Ev0LOST", headers={"X-Slack-Retry-Num": "1"}).status == 200
    assert first.sender.event(event, event_id="Ev0LOST", headers={"X-Slack-Retry-Num": "2"}).status == 200
    with running_app(engine, fake_slack, tmp_path / "factbot.db", database_url=database_url) as restarted:
        assert (
            restarted.sender.event(event, event_id="Ev0LOST", headers={"X-Slack-Retry-Num": "3"}).status
            == 200
        )
        posts = _posts_after_markers((*replicas, restarted), fake_slack)
    assert [post.body["thread_ts"] for post in posts] == ["1700000201.000100"]


def _answer_value(app: RunningApp, fake_slack: FakeSlack) -> str:
    """Ask with /fact and return the value its buttons carry."""
    reply = app.sender.slash(ANSWERABLE, response_url=fake_slack.response_url("ask")).json()
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def _replay(apps: tuple[RunningApp, RunningApp], body: str, times: int) -> None:
    """Send the very same signed request ``times`` times (same timestamp and signature), alternating."""
    timestamp = int(time.time())
    for n in range(times):
        assert apps[n % 2].sender.post(body, content_type=FORM, timestamp=timestamp).status == 200


def test_a_replayed_share_posts_once(replicas: tuple[RunningApp, RunningApp], fake_slack: FakeSlack) -> None:
    value = _answer_value(replicas[0], fake_slack)
    click = block_actions(SHARE_ACTION, value, response_url=fake_slack.response_url("share"))
    _replay(replicas, urlencode({"payload": json.dumps(click)}), times=5)

    [shared] = _posts_after_markers(replicas, fake_slack)
    assert shared.body["channel"] == "C0GENERAL"
    assert [c.body for c in fake_slack.calls("/response/share")] == [{"delete_original": True}]


def test_a_replayed_vote_counts_once_and_a_changed_vote_still_counts(
    replicas: tuple[RunningApp, RunningApp], fake_slack: FakeSlack
) -> None:
    first, second = replicas
    value = _answer_value(first, fake_slack)
    up = block_actions(VOTE_UP_ACTION, value, response_url=fake_slack.response_url("up"))
    _replay(replicas, urlencode({"payload": json.dumps(up)}), times=5)
    # The voter changes their mind: a new click, which Slack gives its own trigger_id and time.
    down = block_actions(
        VOTE_DOWN_ACTION, value, response_url=fake_slack.response_url("down"), action_ts="1700000300.1"
    )
    assert second.sender.post(urlencode({"payload": json.dumps(down)}), content_type=FORM).status == 200

    _posts_after_markers(replicas, fake_slack)
    assert [(vote.user_id, vote.vote) for vote in first.database.feedback()] == [
        ("U0ASKER", "up"),
        ("U0ASKER", "down"),
    ]
    assert len(fake_slack.calls("/response/up")) == 1  # the voter was told once


class _Clock:
    """A clock the test moves; counts the scheduler's reads so the test can wait for its ticks."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.reads = 0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.reads += 1
        return self.now


def test_two_digest_schedulers_post_one_digest_per_channel(
    real_engine: Engine, fake_slack: FakeSlack, postgres_url: str
) -> None:
    channels = ("C0DIGEST1", "C0DIGEST2", "C0DIGEST3")
    settings = Settings(database_url=postgres_url, digest_channels=channels, digest_time="09:00")
    clocks = [_Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) for _ in range(2)]
    handles = [PostgresDatabase(postgres_url) for _ in clocks]
    schedulers = []
    try:
        for clock, db in zip(clocks, handles, strict=True):
            client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=5)
            schedulers.append(
                start_digest_scheduler(settings, real_engine, client, db, clock=clock, tick_seconds=0.05)
            )
        for clock in clocks:
            clock.now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)  # both find the same day due
        fake_slack.wait_for("chat.postMessage", count=len(channels), timeout=10)
        reads = [clock.reads for clock in clocks]
        wait_until(lambda: all(c.reads >= r + 5 for c, r in zip(clocks, reads, strict=True)), timeout=10)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        for db in handles:
            db.close()
    posted = sorted(c.body["channel"] for c in fake_slack.calls("chat.postMessage"))
    assert posted == sorted(channels)


@contextmanager
def _socket_mode_process(
    fake_slack: FakeSlack, engine: AnswerEngine, database_url: str
) -> Iterator[tuple[FakeSocketMode, RunningApp | None]]:
    """One Socket Mode process: its own websocket (to the fake), Bolt app and database connection."""
    with socket_mode_app(fake_slack, engine, PostgresDatabase(database_url)) as socket:
        yield socket, None


def test_two_socket_mode_processes_answer_an_event_once(
    fake_slack: FakeSlack, engine: AnswerEngine, postgres_url: str
) -> None:
    with (
        _socket_mode_process(fake_slack, engine, postgres_url) as (first, _),
        _socket_mode_process(fake_slack, engine, postgres_url) as (second, _),
    ):
        body = event_callback(
            mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000400.1"), event_id="Ev0SM"
        )
        first.send(envelope("events_api", body, envelope_id="env-a"))
        second.send(envelope("events_api", body, envelope_id="env-b", retry_attempt=1))
        assert first.next_message() == {"envelope_id": "env-a"}
        assert second.next_message() == {"envelope_id": "env-b"}
        for n, socket in enumerate((first, second)):  # markers: each process has done its work once answered
            marker = event_callback(
                mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="999.1", channel=f"C0MARK{n}"),
                event_id=f"EvM{n}",
            )
            socket.send(envelope("events_api", marker, envelope_id=f"env-m{n}"))
        wait_until(lambda: len(fake_slack.calls("chat.postMessage")) >= 3)
    posts = [c for c in fake_slack.calls("chat.postMessage") if not c.body["channel"].startswith("C0MARK")]
    assert [p.body["thread_ts"] for p in posts] == ["1700000400.1"]


def test_healthz_is_503_when_the_database_does_not_answer(
    engine: AnswerEngine, fake_slack: FakeSlack, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    with running_app(engine, fake_slack, tmp_path / "unused.db", database_url=url) as app:
        assert app.sender.get("/healthz").status == 200
        postgres_server.drop_database(url)
        reply = app.sender.get("/healthz")
    assert reply.status == 503
    assert "database does not answer" in reply.text
