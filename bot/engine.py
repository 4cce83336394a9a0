"""The engine's front door: load the fact index once, then answer questions from it.

This module and everything it imports never import Slack.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.model import Answer, ArticleInfo, Fact, Source

logger = logging.getLogger(__name__)


class Engine:
    """Answers questions from a loaded fact index. Thread-safe for concurrent ``ask`` calls."""

    @classmethod
    def load(cls, facts_dir: Path = Path("facts"), seeds_dir: Path = Path("seeds")) -> Engine:
        """Load the index built by ``factbot build`` (raises IndexMissingError / FactsFileError)."""
        raise NotImplementedError

    def ask(self, question: str) -> Answer:
        """Answer one question, or decline with up to three suggestions."""
        raise NotImplementedError

    def articles(self) -> tuple[ArticleInfo, ...]:
        """The indexed articles, in file order."""
        raise NotImplementedError

    def facts(self) -> tuple[Fact, ...]:
        """Every fact that is not hidden, in article then paragraph order."""
        raise NotImplementedError

    def fact(self, fact_id: str) -> Fact | None:
        """The fact with this id, or None."""
        raise NotImplementedError

    def source(self, fact: Fact) -> Source:
        """Where a fact's quote stands."""
        raise NotImplementedError

    def topics(self, limit: int = 12) -> tuple[str, ...]:
        """Short things the engine can answer about, for help texts and suggestions."""
        raise NotImplementedError
