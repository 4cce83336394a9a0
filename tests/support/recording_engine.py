"""Wrap a real engine to see which questions reached it (after the Slack layer cleaned them)."""

from __future__ import annotations

import threading

from bot.engine import Answer, ArticleInfo
from bot.slack.deps import AnswerEngine


class RecordingEngine:
    """Delegates to ``engine`` and records every question asked, in order. Thread-safe."""

    def __init__(self, engine: AnswerEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.questions: list[str] = []

    def ask(self, question: str) -> Answer:
        with self._lock:
            self.questions.append(question)
        return self._engine.ask(question)

    def articles(self) -> tuple[ArticleInfo, ...]:
        return self._engine.articles()

    def topics(self, limit: int = 12) -> tuple[str, ...]:
        return self._engine.topics(limit)
