"""Which facts a channel gets next: every fact once before any repeats, articles interleaved.

Each channel walks through *cycles*. A cycle is one ordering of all visible facts: the articles in a
shuffled order, each article's facts shuffled, then dealt round-robin across articles. The shuffles
are seeded by (channel, cycle), so the order is deterministic per channel yet differs between
channels and cycles. A digest takes the first facts of the current cycle the channel has not been
sent yet; when the cycle runs out, the rest of the digest comes from the next cycle.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import zip_longest

from bot.engine import Fact

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentFact:
    """A fact a channel was sent, and in which of its cycles."""

    fact_id: str
    cycle: int


@dataclass(frozen=True)
class Pick:
    """A fact chosen for a digest, with the cycle it counts towards."""

    fact: Fact
    cycle: int


def cycle_order(facts: Sequence[Fact], channel_id: str, cycle: int) -> list[Fact]:
    """All ``facts`` in the channel's order for ``cycle``: shuffled articles dealt round-robin."""
    rng = random.Random(f"factbot-digest:{channel_id}:{cycle}")
    by_article: dict[str, list[Fact]] = {}
    for fact in facts:
        by_article.setdefault(fact.article, []).append(fact)
    articles = sorted(by_article)
    rng.shuffle(articles)
    columns = []
    for article in articles:
        column = sorted(by_article[article], key=lambda f: (f.paragraph, f.id))
        rng.shuffle(column)
        columns.append(column)
    return [fact for row in zip_longest(*columns) for fact in row if fact is not None]


def next_facts(facts: Sequence[Fact], channel_id: str, history: Iterable[SentFact], size: int) -> list[Pick]:
    """The next ``size`` facts for a channel, given everything it was sent (any order).

    Fewer than ``size`` only when there are fewer visible facts than that; never a fact twice.
    """
    if size < 1 or not facts:
        return []
    current_cycle = 0
    seen_by_cycle: dict[int, set[str]] = {}
    for sent in history:
        seen_by_cycle.setdefault(sent.cycle, set()).add(sent.fact_id)
        current_cycle = max(current_cycle, sent.cycle)
    picks: list[Pick] = []
    picked_ids: set[str] = set()
    # Two cycles always suffice: the rest of the current one, then a fresh one.
    for cycle in (current_cycle, current_cycle + 1):
        seen = seen_by_cycle.get(cycle, set())
        for fact in cycle_order(facts, channel_id, cycle):
            if len(picks) == size:
                return picks
            if fact.id not in seen and fact.id not in picked_ids:
                picks.append(Pick(fact, cycle))
                picked_ids.add(fact.id)
    return picks
