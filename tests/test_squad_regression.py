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
    from bot.engine import build
    from bot.engine.engine import Engine

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
