"""Digest fixtures: a real database per test (SQLite or PostgreSQL), services wired to the fake Slack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.digest.delivery import SlackPoster
from bot.digest.service import DigestService, RetryPolicy
from bot.digest.store import DigestStore
from tests.digest.helpers import HandMadeCatalog, make_facts
from tests.support.databases import OpenDb
from tests.support.fake_slack import FakeSlack

MakeService = Callable[..., DigestService]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "factbot.db"


@pytest.fixture
def catalog() -> HandMadeCatalog:
    return HandMadeCatalog(make_facts())


@pytest.fixture
def make_service(open_db: OpenDb, catalog: HandMadeCatalog, fake_slack: FakeSlack) -> MakeService:
    """Build a service the way a fresh process would: its own database handle and WebClient.

    Runs each test on SQLite and on PostgreSQL (``open_db``).
    """

    def make(**overrides: object) -> DigestService:
        db = open_db()
        client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=5)
        options: dict[str, object] = {
            "size": 3,
            "default_time": time(9, 0),
            "default_timezone": "UTC",
            "retry": RetryPolicy(base=timedelta(seconds=30), max_attempts=4),
        }
        options.update(overrides)
        return DigestService(DigestStore(db), catalog, SlackPoster(client), **options)  # type: ignore[arg-type]

    return make
