"""Hand-made facts and a tiny catalog for digest unit tests (the end-to-end tests use the engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.engine import Fact, Source

TITLES = {"alpha": "Alpha & Omega", "beta": "Beta <Report>", "gamma": "Gamma"}


def make_facts(per_article: dict[str, int] | None = None) -> tuple[Fact, ...]:
    """Facts ``alpha-1`` ... in article/paragraph order; every third one has a curated answer."""
    counts = per_article or {"alpha": 4, "beta": 3, "gamma": 2}
    facts = []
    for article, count in counts.items():
        for paragraph in range(1, count + 1):
            answer = f"{article} answer {paragraph}" if paragraph % 3 == 0 else None
            quote = f"{article.title()} quote {paragraph} says 5 < 7 & 9 > 8."
            facts.append(Fact(f"{article}-{paragraph}", article, paragraph, quote, answer=answer))
    return tuple(facts)


@dataclass(frozen=True)
class HandMadeCatalog:
    """The two engine calls the digest needs, over a fixed tuple of facts."""

    fact_list: tuple[Fact, ...]

    def facts(self) -> tuple[Fact, ...]:
        return self.fact_list

    def source(self, fact: Fact) -> Source:
        return Source(fact.article, TITLES.get(fact.article, fact.article.title()), fact.paragraph)


class Clock:
    """A settable clock: ``clock()`` returns the current fake time; ``advance`` moves it on."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
