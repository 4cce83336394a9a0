"""SQuAD regression guard: FactBot's top-1 quote on two uncurated Wikipedia articles, and declining.

The first two articles of ``shared/eval/squad2-dev-8.json`` (a fixed rule, not a choice) are built into
one index; every answerable question of theirs is asked. A hit is a quote that contains one annotator's
answer (case and whitespace folded); a declined question is a miss. The third article is not indexed:
its questions should mostly be declined. The full benchmark is ``python -m bench.squad``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("FACTBOT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SQUAD = SHARED / "eval" / "squad2-dev-8.json"

# Floors a few points under what the engine measures (main 82a3f13): top-1 60.4% of 293 questions
# (Normans + Computational_complexity_theory, the two hardest of the 8 for every system), and 98.0% of
# Steam_engine's 444 questions declined. Raise them as the engine improves.
TOP1_FLOOR = 0.57
DECLINE_FLOOR = 0.90

pytestmark = pytest.mark.skipif(not SQUAD.is_file(), reason=f"SQuAD eval file not found at {SQUAD}")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _hit(quote: str | None, answers: list[str]) -> bool:
    return bool(quote) and any(a.strip() and _norm(a) in _norm(quote) for a in answers)


@pytest.fixture(scope="module")
def squad_engine(tmp_path_factory: pytest.TempPathFactory):
    from bot import build
    from bot.engine import Engine

    articles = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    root = tmp_path_factory.mktemp("squad")
    seeds, facts = root / "seeds", root / "facts"
    seeds.mkdir()
    for art in articles[:2]:
        lines = [p["context"].replace("\n", " ") for p in art["paragraphs"]]
        (seeds / f"{art['title']}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build.build_index(seeds, facts)
    return Engine.load(facts, seeds), articles


def _questions(article: dict, answerable: bool = True) -> list[dict]:
    qas = [qa for p in article["paragraphs"] for qa in p["qas"]]
    return [qa for qa in qas if not qa.get("is_impossible") and qa["answers"]] if answerable else qas


def _every_question(articles: list[dict]) -> list[str]:
    """Every question of the first three articles, answerable or not, indexed or not."""
    return [qa["question"] for article in articles[:3] for qa in _questions(article, answerable=False)]


def test_top1_hit_rate_on_indexed_articles(squad_engine) -> None:
    engine, articles = squad_engine
    qas = _questions(articles[0]) + _questions(articles[1])
    misses = []
    for qa in qas:
        a = engine.ask(qa["question"])
        if not (a.answered and _hit(a.quote, [x["text"] for x in qa["answers"]])):
            misses.append(qa["question"])
    rate = 1 - len(misses) / len(qas)
    assert rate >= TOP1_FLOOR, f"top-1 {rate:.1%} < floor {TOP1_FLOOR:.0%}; first misses: {misses[:5]}"


def test_unindexed_article_questions_are_declined(squad_engine) -> None:
    engine, articles = squad_engine
    qas = _questions(articles[2], answerable=False)
    answered = [(qa["question"], a.quote) for qa in qas if (a := engine.ask(qa["question"])).answered]
    declined = 1 - len(answered) / len(qas)
    assert declined >= DECLINE_FLOOR, (
        f"declined {declined:.1%} < floor {DECLINE_FLOOR:.0%}; e.g. {answered[:3]}"
    )


def test_skipping_facts_that_cannot_win_changes_no_answer(squad_engine, monkeypatch) -> None:
    """The engine stops re-ranking once a fact's score plus the most its evidence can add cannot beat
    the best rank so far. With that ceiling lifted every candidate is re-ranked: same answers."""
    engine, articles = squad_engine
    questions = _every_question(articles)
    index = engine._index
    evidence = type(index).evidence
    calls = []

    def counted(self, *args, **kwargs):
        calls.append(1)
        return evidence(self, *args, **kwargs)

    monkeypatch.setattr(type(index), "evidence", counted)
    skipping = [engine.ask(q) for q in questions]
    skipping_calls = len(calls)
    monkeypatch.setattr("bot.engine.MAX_PROXIMITY", 1e9)
    calls.clear()
    assert [engine.ask(q) for q in questions] == skipping
    assert skipping_calls < 0.8 * len(calls), "the ceiling should spare most questions some re-ranking"


def test_what_re_ranking_adds_stays_within_its_ceiling(squad_engine) -> None:
    """The ceiling is what re-ranking adds at its inputs' maxima: coverage 1 (it only lowers a
    score), answer-type quality 1 and MAX_PROXIMITY. Every candidate of every question stays within."""
    from bot.answers import question_type, year_bounds
    from bot.engine import _hit_weights
    from bot.matching import MAX_PROXIMITY

    engine, articles = squad_engine
    index = engine._index
    checked = 0
    for asked in _every_question(articles):
        question = " ".join(asked.split())
        kind, bounds = question_type(question), year_bounds(question)
        query = index.query_terms(question)
        weights = _hit_weights(query)
        for hit in index.search(query, kind=kind):
            candidate = index.evidence(hit, query, kind)
            assert 0.0 <= candidate.coverage <= candidate.context_coverage <= 1.0, question
            assert 0.0 <= candidate.proximity <= MAX_PROXIMITY, question
            for subject_missing in (False, True):
                typed = engine._answer_span_quality(hit.index, weights, kind, bounds, subject_missing)
                assert 0.0 <= typed <= 1.0, question
            checked += 1
    assert checked > 1000
