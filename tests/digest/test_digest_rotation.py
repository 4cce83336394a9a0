"""Rotation: every fact once before any repeats; digests mix articles; deterministic per channel."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.digest.rotation import SentFact, cycle_order, next_facts
from tests.digest.helpers import make_facts


def _run(facts, channel: str, digests: int, size: int = 3) -> list[list[str]]:
    history: list[SentFact] = []
    sent = []
    for _ in range(digests):
        picks = next_facts(facts, channel, history, size)
        history += [SentFact(p.fact.id, p.cycle) for p in picks]
        sent.append([p.fact.id for p in picks])
    return sent


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_every_fact_once_before_any_repeat(size: int) -> None:
    facts = make_facts()  # 9 facts
    sequence = [fid for digest in _run(facts, "C1", digests=12, size=size) for fid in digest]
    for start in range(0, len(sequence) - len(facts) + 1, len(facts)):
        window = sequence[start : start + len(facts)]
        assert sorted(window) == sorted(f.id for f in facts), f"cycle starting at {start}: {window}"


def test_no_fact_twice_in_one_digest_across_a_cycle_boundary() -> None:
    facts = make_facts({"alpha": 2, "beta": 2})  # 4 facts, digests of 3 straddle cycles
    for digest in _run(facts, "C1", digests=10):
        assert len(digest) == len(set(digest)) == 3


def test_digests_mix_articles_round_robin() -> None:
    facts = make_facts({"alpha": 4, "beta": 4, "gamma": 4})
    for digest in _run(facts, "C1", digests=4):
        assert len({fid.split("-")[0] for fid in digest}) == 3, digest


def test_order_is_deterministic_per_channel_and_differs_between_channels() -> None:
    facts = make_facts({"alpha": 6, "beta": 6, "gamma": 6})
    assert cycle_order(facts, "C1", 0) == cycle_order(facts, "C1", 0)
    orders = {tuple(f.id for f in cycle_order(facts, channel, 0)) for channel in ("C1", "C2", "C3", "C4")}
    assert len(orders) > 1
    assert cycle_order(facts, "C1", 0) != cycle_order(facts, "C1", 1)


def test_history_of_facts_no_longer_visible_is_ignored_and_new_facts_join() -> None:
    facts = make_facts({"alpha": 2, "beta": 2})
    history = [SentFact("alpha-1", 0), SentFact("gone-7", 0)]
    picks = next_facts(facts, "C1", history, 3)
    assert sorted(p.fact.id for p in picks) == ["alpha-2", "beta-1", "beta-2"]
    assert {p.cycle for p in picks} == {0}


def test_fewer_facts_than_the_digest_size_sends_each_once() -> None:
    facts = make_facts({"alpha": 2})
    picks = next_facts(facts, "C1", [], 3)
    assert Counter(p.fact.id for p in picks) == Counter({"alpha-1": 1, "alpha-2": 1})
    assert next_facts((), "C1", [], 3) == []
