"""Fixtures for the Slack layer's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.deps import AnswerEngine
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import RunningApp, running_app
from tests.support.stub_engine import StubEngine

ANSWERABLE = "When was the US-Japan Security Treaty signed?"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


@pytest.fixture
def engine() -> AnswerEngine:
    """The engine behind the end-to-end tests."""
    return StubEngine()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "factbot.db"


@pytest.fixture
def slack(engine: AnswerEngine, fake_slack: FakeSlack, db_path: Path) -> Iterator[RunningApp]:
    """The real Bolt app served over HTTP on 127.0.0.1, its Web API calls going to ``fake_slack``."""
    with running_app(engine, fake_slack, db_path) as app:
        yield app
