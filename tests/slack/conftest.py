"""Fixtures for the Slack layer's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.slack.deps import AnswerEngine
from tests.support.fake_slack import FakeSlack
from tests.support.recording_engine import RecordingEngine
from tests.support.slack_app import RunningApp, running_app

ANSWERABLE = "When was the US-Japan Security Treaty signed?"
UNANSWERABLE = "What is the airspeed velocity of an unladen swallow?"


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def real_engine() -> Engine:
    """The real engine over the committed ``facts/``, loaded once."""
    return Engine.load(REPO / "facts", REPO / "seeds")


@pytest.fixture
def engine(real_engine: Engine) -> RecordingEngine:
    """The engine behind the end-to-end tests: the real one, recording the questions it gets."""
    return RecordingEngine(real_engine)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "factbot.db"


@pytest.fixture
def slack(engine: AnswerEngine, fake_slack: FakeSlack, db_path: Path) -> Iterator[RunningApp]:
    """The real Bolt app served over HTTP on 127.0.0.1, its Web API calls going to ``fake_slack``."""
    with running_app(engine, fake_slack, db_path) as app:
        yield app
