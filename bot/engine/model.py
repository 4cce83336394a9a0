"""The engine's value types: facts, their spans, sources and answers. All frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A typed piece of a quote: ``kind`` is one of SPAN_KINDS, ``start``/``end`` index the quote."""

    kind: str
    text: str
    start: int
    end: int


SPAN_KINDS = ("date", "year", "money", "percent", "count", "person", "org", "place", "name")


@dataclass(frozen=True)
class Fact:
    """One sentence of an article, word for word, plus what curators added to it."""

    id: str
    article: str
    paragraph: int
    quote: str
    spans: tuple[Span, ...] = ()
    answer: str | None = None
    questions: tuple[str, ...] = ()
    hidden: bool = False

    @property
    def statement(self) -> str:
        """What the fact says in the fewest words: the curated answer, else the quote."""
        return self.answer or self.quote


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article as users see it."""

    stem: str
    title: str
    url: str | None
    fact_count: int


@dataclass(frozen=True)
class Source:
    """Where a quote stands: the article (seed file stem), its title and the paragraph (from 1)."""

    article: str
    title: str
    paragraph: int
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"article": self.article, "title": self.title, "paragraph": self.paragraph}


@dataclass(frozen=True)
class Answer:
    """The engine's reply to one question. ``answered`` is False when no fact matched well enough."""

    question: str
    answered: bool
    answer: str | None = None
    quote: str | None = None
    source: Source | None = None
    confidence: float = 0.0
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    fact_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``factbot ask --json`` object."""
        return {
            "question": self.question,
            "answered": self.answered,
            "answer": self.answer,
            "quote": self.quote,
            "source": self.source.to_json() if self.source else None,
            "confidence": round(self.confidence, 3),
            "suggestions": list(self.suggestions),
        }
