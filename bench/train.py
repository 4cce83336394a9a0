"""Train FactBot's ranker and confidence model, and measure them by cross-validation over articles.

Data: the 27 SQuAD 2.0 dev articles in ``shared/eval`` (``squad2-dev-8.json`` and
``squad2-dev-19.json``; Wikipedia text and crowd-sourced questions, CC BY-SA 4.0). The articles
are dealt into ``GROUPS`` groups in file order (article i goes to group i mod GROUPS); each group is
built into one FactBot index, and each question is asked of the index of its own article's group
(to be answered) and of a sample of other groups' indexes (to be declined).

Cross-validation is by whole group, so by whole article: for each group, both models are fitted
on what the other groups' indexes gave for the other groups' questions, then the real
``Engine.ask`` answers the held-out group's questions with them. Half-and-half: an index of half
the groups, with models fitted on the other half only, asked both halves' questions.

    .venv/bin/python -m bench.train              # cross-validate; print and save the figures
    .venv/bin/python -m bench.train --write      # then fit on all 27 articles and write bot/engine/models/
    make train                                   # the same as --write, installing scikit-learn first
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import random
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, contains_any, norm, pct, shared_dir, write_result
from bench.squad import Article, Question, load_squad, write_seeds
from bench.train_answers import cross_validate as cross_validate_spans
from bot.engine.features import FEATURE_NAMES
from bot.engine.learned import recalibrated

GROUPS = 6
OFF_PER_INDEX = 1500  # questions of other groups asked of each index, to be declined
SEED = 14
# The confidence threshold is the highest that answers this share of the indexed articles'
# answerable questions, out of fold: the target is 92%; 0.94 leaves the margin the half-and-half
# indexes need (their models are fitted on half the articles: 92.2% answered at 0.94, 91.2% at 0.93).
ANSWERED_SHARE = 0.94
# SQuAD's unanswerable questions about an indexed article (a near miss: "When did Beijing found
# ..." where it was Shanghai) teach the confidence model to decline, at this weight.
IMPOSSIBLE_WEIGHT = 0.5
MODELS_DIR = REPO / "bot" / "engine" / "models"
RANKER_L2 = 1.0
CONFIDENCE_TREES = {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40}
# A near miss made from each answerable question: one of its names swapped for a name from
# another group's questions ("When did Shanghai found ..." for "When did Beijing found ...").
SWAPPED_PER_INDEX = 600
_NAME_RE = re.compile(r"(?<=\s)[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’.-]*)*")


@dataclass
class Asked:
    """One question put to one index: its candidates' feature rows and which hold the answer."""

    index: int  # the index (group) it was asked of
    question: Question
    own: bool  # its article is in that index
    features: np.ndarray
    labels: np.ndarray  # 1 where the candidate's quote holds an annotator's answer
    lexical: np.ndarray  # True where the lexical search proposed the candidate


def all_articles() -> list[Article]:
    eval_dir = shared_dir() / "eval"
    return [*load_squad(eval_dir / "squad2-dev-8.json"), *load_squad(eval_dir / "squad2-dev-19.json")]


def build_engine(articles: Sequence[Article], workdir: Path, semantic: bool = True) -> Any:
    from bot.engine import build
    from bot.engine.engine import Engine

    seeds, facts = workdir / "seeds", workdir / "facts"
    if not facts.exists():
        write_seeds(articles, seeds)
        build.build_index(seeds, facts)
    return Engine.load(facts, seeds, semantic=semantic)


def question_vectors(questions: Sequence[Question], cache: Path) -> dict[str, np.ndarray]:
    """Every question's embedding (empty when the embedding model is not installed)."""
    try:
        from bot.engine.semantic import VectorCache, embedder
    except ImportError:
        return {}
    model = embedder(cache)
    if model is None:
        return {}
    texts = sorted({" ".join(q.text.split()) for q in questions})
    vectors = VectorCache(cache).vectors(texts, model)
    return dict(zip(texts, vectors, strict=True))


def ask_candidates(
    engine: Any, index: int, questions: Sequence[Question], own: bool, vectors: dict
) -> list[Asked]:
    out = []
    for q in questions:
        text = " ".join(q.text.split())
        found = engine.candidates(text, vector=vectors.get(text))
        labels = np.array(
            [contains_any(engine.index.quote(int(d)), q.answers) for d in found.docs], dtype=bool
        )
        lexical = found.features[:, FEATURE_NAMES.index("lexical_reciprocal_rank")] > 0
        out.append(Asked(index, q, own, found.features, labels, lexical))
    return out


def swapped_names(
    own: Sequence[Question], others: Sequence[Question], text: str, n: int, salt: int
) -> list[Question]:
    """Near misses: ``n`` answerable questions of ``own`` with one name swapped for a name from
    ``others`` that the index's ``text`` never mentions. Their answer is not in the index."""
    rng = random.Random(SEED * 1000 + salt)
    lowered = text.lower()
    pool = sorted(
        {m.group(0) for q in others for m in _NAME_RE.finditer(q.text) if m.group(0).lower() not in lowered}
    )
    out: list[Question] = []
    for q in own:
        names = list(_NAME_RE.finditer(q.text))
        if q.impossible or not names or not pool:
            continue
        name = rng.choice(names)
        text_swapped = q.text[: name.start()] + rng.choice(pool) + q.text[name.end() :]
        out.append(dataclasses.replace(q, text=text_swapped, answers=(), starts=(), impossible=True))
    rng.shuffle(out)
    return out[:n]


def off_sample(questions: Sequence[Question], n: int, salt: int) -> list[Question]:
    if len(questions) <= n:
        return list(questions)
    return random.Random(SEED * 1000 + salt).sample(list(questions), n)


# -- fitting ----------------------------------------------------------------------------------------


def lexical_view(asked: Asked) -> tuple[np.ndarray, np.ndarray]:
    """What an engine without the embedding model would have seen: lexical candidates only, and
    the semantic features zero."""
    from bot.engine.features import FEATURE_NAMES, SEMANTIC_FEATURES

    keep = asked.lexical
    features = asked.features[keep].copy()
    for name in SEMANTIC_FEATURES:
        features[:, FEATURE_NAMES.index(name)] = 0.0
    return features, asked.labels[keep]


def view(asked: Asked, semantic: bool) -> tuple[np.ndarray, np.ndarray]:
    return (asked.features, asked.labels) if semantic else lexical_view(asked)


def fit_models(rows: Sequence[Asked], semantic: bool, info: dict[str, Any] | None = None) -> Any:
    """The ranker (which candidate holds the answer: a conditional logit over each question's
    candidates) and the confidence model (is the ranker's choice right: boosted trees); the
    threshold is left unset (NaN) for ``with_threshold``."""
    from bot.engine.engine import Models
    from bot.engine.features import CONFIDENCE_FEATURE_NAMES, FEATURE_NAMES
    from bot.engine.learned import LinearModel, TreeModel

    groups, chosen = [], []
    for asked in rows:
        features, labels = view(asked, semantic)
        if asked.own and labels.any() and not labels.all():
            groups.append(features)
            chosen.append(labels)
    ranker = LinearModel.fit_choice(groups, chosen, FEATURE_NAMES, l2=RANKER_L2, info=info)
    x, y, weights, _ = confidence_rows(ranker, rows, semantic)
    confidence = TreeModel.fit(
        x, y, CONFIDENCE_FEATURE_NAMES, sample_weight=weights, info=info, **CONFIDENCE_TREES
    )
    return Models(ranker, confidence, float("nan"))


def confidence_rows(ranker: Any, rows: Sequence[Asked], semantic: bool) -> tuple[np.ndarray, ...]:
    """The confidence model's rows (the ranker's choice for each question), whether that choice
    is right, and each row's weight: the indexed articles' answerable questions 1, their
    unanswerable ones IMPOSSIBLE_WEIGHT, and the off-index questions as much in all as the answerable."""
    from bot.engine.features import confidence_features

    cx, cy, kinds = [], [], []
    for asked in rows:
        features, labels = view(asked, semantic)
        if not len(labels):
            continue
        scores = ranker.decision(features)
        best = int(np.argmax(scores))
        cx.append(confidence_features(features, scores, best))
        cy.append(asked.own and not asked.question.impossible and bool(labels[best]))
        kinds.append(0 if not asked.own else 2 if asked.question.impossible else 1)
    kind = np.array(kinds)
    answerable = (kind == 1).sum()
    weights = np.select(
        [kind == 1, kind == 2], [1.0, IMPOSSIBLE_WEIGHT], answerable / max((kind == 0).sum(), 1)
    )
    return np.array(cx), np.array(cy, dtype=int), weights, kind


def choose_threshold(probabilities: np.ndarray, kind: np.ndarray) -> float:
    """The highest confidence threshold that still answers ANSWERED_SHARE of the answerable
    questions of the indexed articles (kind 1), from out-of-fold (recalibrated) confidences."""
    answerable = np.sort(probabilities[kind == 1])
    return float(answerable[int((1 - ANSWERED_SHARE) * len(answerable))])


def fit_platt(probabilities: np.ndarray, right: np.ndarray, kind: np.ndarray) -> tuple[float, float]:
    """Platt scaling of out-of-fold confidences on answerable questions about indexed articles and
    questions about other articles (the population ``calibration`` reports on), so that a
    confidence reads as the share of such answers that are right. It is monotone: it changes no
    decision, only the number shown."""
    from sklearn.linear_model import LogisticRegression

    used = kind < 2
    p = np.clip(probabilities[used], 1e-9, 1 - 1e-9)
    model = LogisticRegression(C=1e6).fit(np.log(p / (1 - p))[:, None], right[used])
    return float(model.coef_[0][0]), float(model.intercept_[0])


def with_threshold(models: Any, threshold: float, platt: tuple[float, float]) -> Any:
    info = {**models.confidence.info, "threshold": threshold, "platt": list(platt)}
    confidence = dataclasses.replace(models.confidence, info=info)
    return models._replace(confidence=confidence, threshold=threshold)


# -- measuring --------------------------------------------------------------------------------------


def short_answer_holds(short: str | None, answers: Sequence[str]) -> bool:
    """The short answer holds an annotator's answer and is at most 3x its length."""
    if not short:
        return False
    text = norm(short)
    return any(a and norm(a) in text and len(text) <= 3 * len(norm(a)) for a in answers)


@dataclass
class Outcome:
    question: Question
    own: bool
    answered: bool
    hit: bool
    short_hit: bool
    confidence: float
    answer: str | None
    quote: str | None


def ask_all(engine: Any, questions: Sequence[Question], own: bool, vectors: dict) -> list[Outcome]:
    out = []
    for q in questions:
        text = " ".join(q.text.split())
        answer = engine.ask(text, vector=vectors.get(text))
        hit = bool(answer.answered) and contains_any(answer.quote, q.answers)
        short = bool(answer.answered) and short_answer_holds(answer.answer, q.answers)
        out.append(
            Outcome(q, own, answer.answered, hit, short, answer.confidence, answer.answer, answer.quote)
        )
    return out


def calibration(outcomes: Sequence[Outcome], buckets: int = 10) -> dict[str, Any]:
    """Expected calibration error of ``confidence`` as P(right), over answered and declined alike,
    and answered precision per confidence bucket."""
    confidences = np.array([o.confidence for o in outcomes])
    right = np.array([o.own and bool(contains_any(o.quote, o.question.answers)) for o in outcomes])
    edges = np.linspace(0, 1, buckets + 1)
    rows, ece = [], 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidences >= low) & ((confidences < high) if high < 1 else (confidences <= high))
        if not inside.any():
            continue
        mean_conf, accuracy = float(confidences[inside].mean()), float(right[inside].mean())
        ece += inside.mean() * abs(mean_conf - accuracy)
        rows.append(
            {
                "bucket": f"{low:.1f}-{high:.1f}",
                "n": int(inside.sum()),
                "confidence": mean_conf,
                "right": accuracy,
            }
        )
    return {"ece": float(ece), "buckets": rows}


def summarise(own: Sequence[Outcome], off: Sequence[Outcome]) -> dict[str, Any]:
    answered = [o for o in own if o.answered]
    return {
        "own_questions": len(own),
        "top1": sum(o.hit for o in own) / max(len(own), 1),
        "own_answered": len(answered) / max(len(own), 1),
        "precision": sum(o.hit for o in answered) / max(len(answered), 1),
        "short": sum(o.short_hit for o in own) / max(len(own), 1),
        "off_questions": len(off),
        "off_declined": sum(not o.answered for o in off) / max(len(off), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write", action="store_true", help="fit on all articles and write bot/engine/models/"
    )
    parser.add_argument("--no-half", action="store_true", help="skip the half-and-half indexes")
    parser.add_argument("--workdir", type=Path, default=None, help="keep built indexes here (reused)")
    parser.add_argument(
        "--reuse-rows", action="store_true", help="with --workdir: reuse the candidates asked last time"
    )
    args = parser.parse_args(argv)

    articles = all_articles()
    groups = [articles[g::GROUPS] for g in range(GROUPS)]
    group_of = {a.title: g for g, members in enumerate(groups) for a in members}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="factbot-train-") as tmp:
        workdir = args.workdir or Path(tmp)
        all_questions = [q for a in articles for q in a.questions]
        vectors = question_vectors(all_questions, REPO / ".factbot-cache" / "bench")
        semantic = bool(vectors)
        print(
            f"{len(articles)} articles in {GROUPS} groups; embedding model {'on' if semantic else 'MISSING'}"
        )

        engines = [build_engine(members, workdir / f"group{g}") for g, members in enumerate(groups)]
        saved = workdir / "rows.pickle"
        if args.reuse_rows and saved.is_file():
            rows = pickle.loads(saved.read_bytes())
        else:
            rows = []
            for g, (members, engine) in enumerate(zip(groups, engines, strict=True)):
                own = [q for a in members for q in a.questions]
                others = [q for a in articles if group_of[a.title] != g for q in a.questions]
                rows += ask_candidates(engine, g, own, True, vectors)
                rows += ask_candidates(engine, g, off_sample(others, OFF_PER_INDEX, g), False, vectors)
                text = " ".join(p for a in members for p in a.paragraphs)
                near = swapped_names(own, others, text, SWAPPED_PER_INDEX, 300 + g)
                rows += ask_candidates(engine, g, near, True, vectors)
                print(
                    f"  group {g}: {len(members)} articles, {len(engine.facts())} facts"
                    f" ({time.perf_counter() - started:.0f} s)"
                )
            saved.write_bytes(pickle.dumps(rows))

        # The short-answer selector, cross-validated on the same groups (bench.train_answers).
        spans = cross_validate_spans(articles)
        assert all(spans.folds[a.title] == g for g, m in enumerate(groups) for a in m)
        print(f"  short-answer selector: 6 fold models ({time.perf_counter() - started:.0f} s)")

        results: dict[str, Any] = {"groups": [[a.title for a in m] for m in groups], "folds": []}
        variants = [True, False] if semantic else [False]
        thresholds: dict[bool, float] = {}
        platts: dict[bool, tuple[float, float]] = {}
        for use_semantic in variants:
            name = "semantic" if use_semantic else "lexical"
            fitted, out_of_fold, rights, kinds = [], [], [], []
            for g in range(GROUPS):
                held_out = {a.title for a in groups[g]}
                train = [r for r in rows if r.index != g and r.question.article not in held_out]
                models = fit_models(train, use_semantic)
                fitted.append(models)
                x, right, _, kind = confidence_rows(
                    models.ranker, [r for r in rows if r.index == g], use_semantic
                )
                out_of_fold.append(models.confidence.probability(x))
                rights.append(right)
                kinds.append(kind)
            platt = platts[use_semantic] = fit_platt(
                np.concatenate(out_of_fold), np.concatenate(rights), np.concatenate(kinds)
            )
            calibrated = recalibrated(np.concatenate(out_of_fold), platt)
            threshold = thresholds[use_semantic] = choose_threshold(calibrated, np.concatenate(kinds))
            own_all, off_all = [], []
            for g, engine in enumerate(engines):
                held_out = {a.title for a in groups[g]}
                if not use_semantic:
                    engine = build_engine(groups[g], workdir / f"group{g}", semantic=False)
                engine.models = with_threshold(fitted[g], threshold, platt)
                engine.span_model = spans.models[g]
                own = ask_all(engine, [q for a in groups[g] for q in a.answerable], True, vectors)
                others = [q for a in articles if a.title not in held_out for q in a.questions]
                off = ask_all(engine, off_sample(others, OFF_PER_INDEX, 100 + g), False, vectors)
                own_all += own
                off_all += off
                results["folds"].append({"variant": name, "group": g, **summarise(own, off)})
            results[name] = {
                **summarise(own_all, off_all),
                "threshold": threshold,
                "calibration": calibration(own_all + off_all),
            }

        if not args.no_half and semantic:
            halves = [
                [a for g in range(GROUPS // 2) for a in groups[g]],
                [a for g in range(GROUPS // 2, GROUPS) for a in groups[g]],
            ]
            own_all, off_all = [], []
            for h, half in enumerate(halves):
                titles = {a.title for a in half}
                other_titles = {a.title for a in halves[1 - h]}
                train = [
                    r
                    for r in rows
                    if r.question.article in other_titles
                    and {a.title for a in groups[r.index]} <= other_titles
                ]
                engine = build_engine(half, workdir / f"half{h}")
                engine.models = with_threshold(fit_models(train, True), thresholds[True], platts[True])
                engine.span_model = spans.fit_without(titles)
                own_all += ask_all(engine, [q for a in half for q in a.answerable], True, vectors)
                off_all += ask_all(
                    engine,
                    off_sample([q for a in halves[1 - h] for q in a.questions], 3 * OFF_PER_INDEX, 200 + h),
                    False,
                    vectors,
                )
                assert not titles & other_titles
            results["half"] = summarise(own_all, off_all)

        lines = report(results)
        print("\n".join(lines))
        # bench.run_all puts the "table" lines into bench/README.md, as for its other benchmarks.
        summary = {k: v for k, v in results.items() if not k.startswith("_")}
        write_result("train", {**summary, "exit": 0, "table": lines, "tail": lines[-3:]})
        if args.write:
            info = {
                "trained_on": "27 SQuAD 2.0 dev articles (shared/eval, CC BY-SA 4.0)",
                "command": "make train",
                "cross_validated": {
                    k: v
                    for k, v in results.get("semantic" if semantic else "lexical", {}).items()
                    if k != "calibration"
                },
            }
            for use_semantic in variants:
                suffix = "" if use_semantic else "-lexical"
                fitted = with_threshold(
                    fit_models(rows, use_semantic, info), thresholds[use_semantic], platts[use_semantic]
                )
                fitted.ranker.save(MODELS_DIR / f"ranker{suffix}.json")
                fitted.confidence.save(MODELS_DIR / f"confidence{suffix}.json")
                print(
                    f"wrote bot/engine/models/ranker{suffix}.json and confidence{suffix}.json"
                    f" (threshold {fitted.threshold:.3f})"
                )
            spans.final().save(MODELS_DIR / "short_answer.json")
            print("wrote bot/engine/models/short_answer.json")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def report(results: dict[str, Any]) -> list[str]:
    """The figures as Markdown tables (``bench.run_all`` copies them into bench/README.md)."""
    header = [
        "cross-validated by article",
        "top-1",
        "own answered",
        "precision",
        "short answer",
        "off declined",
    ]
    labels = {
        "semantic": "6 folds, 4-5 article indexes",
        "lexical": "same, without the embedding model",
        "half": "half-and-half indexes",
    }
    keys = ("top1", "own_answered", "precision", "short", "off_declined")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in ("semantic", "lexical", "half"):
        if name in results:
            lines.append("| " + " | ".join([labels[name], *(pct(results[name][k]) for k in keys)]) + " |")
    for name in ("semantic", "lexical"):
        if name not in results:
            continue
        calibration_table = results[name]["calibration"]
        lines.append(
            f"| calibration ({name}): threshold {results[name]['threshold']:.3f}, "
            f"expected calibration error {calibration_table['ece']:.3f}"
            " | questions | mean confidence | share right | | |"
        )
        lines += [
            f"| confidence {b['bucket']} | {b['n']} | {b['confidence']:.2f} | {b['right']:.2f} | | |"
            for b in calibration_table["buckets"]
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
