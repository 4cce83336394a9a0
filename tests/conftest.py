"""Shared pytest setup: fixtures from ``tests/support`` are available to every test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.engine import Engine

pytest_plugins = ("tests.support.fake_slack", "tests.support.postgres", "tests.support.databases")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root: ``facts/``, ``seeds/`` and ``tests/questions.yaml`` are relative to it."""
    return REPO


@pytest.fixture(scope="session")
def seed_engine(repo_root: Path) -> Engine:
    """The engine over the committed ``facts/`` and ``seeds/``, loaded once."""
    return Engine.load(repo_root / "facts", repo_root / "seeds")
