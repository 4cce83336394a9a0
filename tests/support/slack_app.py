"""The real FactBot Bolt app served over HTTP on 127.0.0.1, talking to a FakeSlack.

``running_app(engine, fake, db_path)`` yields a :class:`RunningApp`: send it signed requests with
``app.sender`` and inspect what it sent Slack through ``fake``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from slack_bolt import App

from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import AnswerEngine, SlackDeps
from bot.slack.http_server import BoltHttpServer, HttpLimits
from bot.slack.runner import health_check
from bot.storage import Database, open_database
from tests.support.fake_slack import FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode
from tests.support.slack_requests import SIGNING_SECRET, SlackSender

logger = logging.getLogger(__name__)

T = TypeVar("T")


def settings_for(fake: FakeSlack, db_path: Path, **overrides: object) -> Settings:
    """Settings for an HTTP-mode app whose Web API calls go to ``fake``."""
    values: dict[str, object] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "db_path": db_path,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RunningApp:
    app: App
    server: BoltHttpServer
    sender: SlackSender
    deps: SlackDeps
    database: Database


@contextmanager
def running_app(
    engine: AnswerEngine,
    fake: FakeSlack,
    db_path: Path,
    on_timing: Callable[[float], None] | None = None,
    limits: HttpLimits | None = None,
    database_url: str = "",
) -> Iterator[RunningApp]:
    """Build the app with ``engine`` and a real database, serve it on a free port, stop it after.

    The database is the SQLite file at ``db_path``, or PostgreSQL at ``database_url`` when given
    (opened from the settings, as ``factbot serve`` does).

    Served as ``factbot serve`` serves one worker (uvicorn, ``/healthz`` on ``engine`` and the
    database); ``limits`` overrides the server's timeouts and sizes.

    Lazy listeners (the work after each ack) run one at a time, in arrival order, so a test can
    send a marker request after others and know those were handled once the marker's reply is in.
    """
    settings = settings_for(fake, db_path, database_url=database_url)
    database = open_database(settings)
    deps = SlackDeps(engine=engine, database=database)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lazy-listener")
    app = build_app(settings, deps, listener_executor=executor)
    server = BoltHttpServer(
        app,
        host="127.0.0.1",
        port=0,
        limits=limits,
        health=health_check(engine, database),
        on_timing=on_timing,
    )
    thread = server.start_in_thread()
    try:
        yield RunningApp(app, server, SlackSender(server.port), deps, database)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        executor.shutdown(wait=True, cancel_futures=True)
        deps.replies.close()
        database.close()


def wait_until(condition: Callable[[], T], timeout: float = 5.0, interval: float = 0.005) -> T:
    """Poll ``condition`` until it returns something truthy (returned) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@contextmanager
def socket_mode_app(
    fake: FakeSlack, engine: AnswerEngine, database: Database, app_token: str = "xapp-1-test"
) -> Iterator[FakeSocketMode]:
    """A Bolt app connected over Socket Mode to its own local websocket server; ``database`` is closed
    when it stops."""
    from bot.slack.runner import start_socket_mode

    socket = FakeSocketMode().start()
    fake.socket_url = socket.url
    settings = Settings(slack_bot_token="xoxb-test", slack_app_token=app_token, slack_api_url=fake.api_url)
    executor = ThreadPoolExecutor(max_workers=1)
    app = build_app(settings, SlackDeps(engine=engine, database=database), listener_executor=executor)
    handler = start_socket_mode(app, app_token)
    try:
        socket.wait_connected()
        yield socket
    finally:
        # Server side first (the built-in client's plain-socket read would otherwise wait up to
        # 3 s), then let the client notice before closing it, so the two never close one socket.
        handler.client.auto_reconnect_enabled = False
        socket.close()
        wait_until(lambda: not handler.client.is_connected())
        handler.close()
        executor.shutdown(wait=True)
        database.close()
