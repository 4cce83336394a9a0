"""Digest fixtures: a real SQLite file per test and services wired to the fake Slack server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.digest.delivery import SlackPoster
from bot.digest.service import DigestService, RetryPolicy
from bot.digest.store import DigestStore
from bot.storage import Database, SQLiteDatabase
from tests.digest.helpers import HandMadeCatalog, make_facts
from tests.support.fake_slack import FakeSlack

MakeService = Callable[..., DigestService]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "factbot.db"


@pytest.fixture
def catalog() -> HandMadeCatalog:
    return HandMadeCatalog(make_facts())


@pytest.fixture
def make_service(db_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack) -> Iterator[MakeService]:
    """Build a service the way a fresh process would: its own Database handle and WebClient."""
    handles: list[Database] = []

    def make(**overrides: object) -> DigestService:
        db = SQLiteDatabase(db_path)
        handles.append(db)
        client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=5)
        options: dict[str, object] = {
            "size": 3,
            "default_time": time(9, 0),
            "default_timezone": "UTC",
            "retry": RetryPolicy(base=timedelta(seconds=30), max_attempts=4),
        }
        options.update(overrides)
        return DigestService(DigestStore(db), catalog, SlackPoster(client), **options)  # type: ignore[arg-type]

    yield make
    for db in handles:
        db.close()
