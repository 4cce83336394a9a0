"""A tiny stand-in for ``bot.engine.Engine`` for unit tests of the Slack layer (not for end-to-end tests)."""

from __future__ import annotations

from dataclasses import replace

from bot.model import Answer, ArticleInfo, Source

TREATY_ANSWER = Answer(
    question="",
    answered=True,
    answer="1951",
    quote="In 1951, the US-Japan Security Treaty was signed, allowing for the presence of US military "
    "forces in Japan to maintain regional stability and security.",
    source=Source(article="000_treaty", title="Toward a Trilateral Defense Pact", paragraph=3),
    confidence=0.9,
    fact_id="000_treaty-p3-s2",
)
SUGGESTIONS = (
    "When was the US-Japan Security Treaty signed?",
    "How much did Japan spend on defense in 2023?",
)


class StubEngine:
    """Answers anything mentioning "treaty" with one fixed fact, declines the rest. Records questions."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def ask(self, question: str) -> Answer:
        self.questions.append(question)
        if "treaty" in question.lower():
            return replace(TREATY_ANSWER, question=question)
        return Answer(question=question, answered=False, suggestions=SUGGESTIONS)

    def articles(self) -> tuple[ArticleInfo, ...]:
        return (
            ArticleInfo(
                "000_treaty", "Toward a Trilateral Defense Pact", "https://example.com/a?x=1&y=2", 40
            ),
        )

    def topics(self, limit: int = 12) -> tuple[str, ...]:
        return ("the US-Japan Security Treaty", "military spending in 2023")[:limit]
