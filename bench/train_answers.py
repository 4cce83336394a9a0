"""Train and cross-validate the short-answer span selector (issue 14 part 4).

Data: the 27 Wikipedia articles of ``shared/eval/squad2-dev-8.json`` and ``squad2-dev-19.json``
(SQuAD 2.0 dev set, Rajpurkar et al. 2018, CC BY-SA 4.0). For each answerable question the
paragraph is split with the index's own splitter (``bot.text.split_sentences``) and the sentence
that holds the annotators' answer (by its offset) is the *gold sentence*; its candidates
(``bot.short_answer.candidates``) are labelled right when one holds an annotator's answer and is
at most 3x its length. The model is boosted trees (scikit-learn's HistGradientBoostingClassifier,
flattened by ``bot.learned.TreeModel``) on each candidate's dense row (``bot.short_answer.dense_row``),
fitted on every right candidate and up to NEGATIVES wrong ones per question (deterministic).

Every figure is cross-validated by whole article, with ``bench.train``'s groups: article i (in
file order) is in fold i mod 6; a model fitted on the other folds' articles answers a fold's
questions. The metric is the issue's: the short answer holds an annotator's answer
(case-insensitive, curly quotes and dashes folded) and is at most 3x its length in characters.
Here it is measured on the gold sentence; end to end (the engine's chosen sentence, a decline is a
miss) it is ``bench.train``'s "short answer" column, which uses these fold models. The gate (below
it the clause is the answer) is chosen for each fold on the other folds' out-of-fold answers.

    .venv/bin/python -m bench.train_answers              # cross-validated figures on gold sentences
    .venv/bin/python -m bench.train_answers --write      # then fit on all 27, write the model
    .venv/bin/python -m bench.train_answers --misses 30  # print cross-validated misses
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.common import norm, pct, shared_dir, table
from bench.squad import Article, load_squad
from bot.short_answer import (
    DEFAULT_GATE,
    DENSE_NAMES,
    MODEL_PATH,
    Context,
    SpanModel,
    candidates,
    dense_row,
    question_class,
    question_row,
    short_answer,
    tokens_of,
)
from bot.spans import find_spans
from bot.text import split_sentences

logger = logging.getLogger(__name__)

FOLDS = 6  # bench.train's GROUPS
SEED = 14
NEGATIVES = 15  # wrong candidates per example the trees are fitted on
TREES = {"max_iter": 100, "learning_rate": 0.15, "max_leaf_nodes": 31, "min_samples_leaf": 20}
DATA_FILES = ("squad2-dev-8.json", "squad2-dev-19.json")
TARGET_GOLD = 0.55
TARGET_E2E = 0.40


def holds(short: str | None, answers: Sequence[str]) -> bool:
    """The issue's metric: ``short`` holds an annotator's answer and is at most 3x its length."""
    if not short:
        return False
    s = norm(short)
    return any(a.strip() and norm(a) in s and len(s) <= 3 * len(norm(a)) for a in answers)


@dataclass(frozen=True)
class Example:
    """One answerable question with its gold sentence."""

    article: str
    question: str
    answers: tuple[str, ...]
    sentence: str
    spans: tuple
    paragraph: int


def examples_of(article: Article) -> list[Example]:
    """The article's answerable questions whose answer lies inside one sentence of its paragraph."""
    lowercase_words = frozenset(w for p in article.paragraphs for w in re.findall(r"\b[a-z][a-z'-]+\b", p))
    sentences: dict[int, list[tuple[int, int]]] = {}
    out = []
    for q in article.answerable:
        context = article.paragraphs[q.paragraph]
        bounds = sentences.setdefault(q.paragraph, split_sentences(context))
        votes: dict[tuple[int, int], int] = defaultdict(int)
        for text, start in zip(q.answers, q.starts, strict=False):
            for s, e in bounds:
                if s <= start and start + len(text) <= e:
                    votes[(s, e)] += 1
        if not votes:
            continue
        s, e = max(votes, key=lambda k: (votes[k], -k[0]))
        sentence = context[s:e]
        out.append(
            Example(
                article.title,
                q.text,
                q.answers,
                sentence,
                find_spans(sentence, lowercase_words),
                q.paragraph,
            )
        )
    return out


@dataclass
class Rows:
    """Every example's candidates as dense rows (``x``), whether each holds the answer (``y``) and
    the example each belongs to (``example``)."""

    x: np.ndarray
    y: np.ndarray
    example: np.ndarray


def rows_of(examples: Sequence[Example]) -> Rows:
    x, y, example = [], [], []
    for e, ex in enumerate(examples):
        tokens = tokens_of(ex.sentence)
        ctx = Context(question_class(ex.question), tokens)
        question = question_row(ctx.qc, ctx)
        for c in candidates(ex.sentence, tokens, ex.spans):
            x.append(dense_row(ctx, c, question))
            y.append(holds(ex.sentence[c.start : c.end], ex.answers))
            example.append(e)
    return Rows(np.array(x, dtype=np.float32), np.array(y, dtype=bool), np.array(example))


def fit(rows: Rows, keep: np.ndarray | None = None, gate: float = DEFAULT_GATE) -> SpanModel:
    """Boosted trees on the candidates of the examples in ``keep`` (a mask over examples) that have
    a right candidate: all right ones and up to NEGATIVES wrong ones each (a fixed random sample)."""
    from bot.learned import TreeModel

    n_examples = int(rows.example.max()) + 1
    use = np.bincount(rows.example, weights=rows.y, minlength=n_examples) > 0
    if keep is not None:
        use &= keep
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(rows.y))
    # A candidate is kept if it is right, or among the first NEGATIVES wrong ones of its example in
    # a random order.
    wrong_seen = np.zeros(n_examples, dtype=np.int64)
    taken = np.zeros(len(rows.y), dtype=bool)
    for i in order:
        e = rows.example[i]
        if not use[e]:
            continue
        if rows.y[i]:
            taken[i] = True
        elif wrong_seen[e] < NEGATIVES:
            wrong_seen[e] += 1
            taken[i] = True
    trees = TreeModel.fit(rows.x[taken], rows.y[taken].astype(int), DENSE_NAMES, **TREES)
    logger.info("fit: %d examples, %d rows", int(use.sum()), int(taken.sum()))
    return SpanModel(trees, gate)


def fold_of(articles: Sequence[str]) -> dict[str, int]:
    """Article i (in file order) is in fold i mod FOLDS: the groups of ``bench.train``."""
    return {t: i % FOLDS for i, t in enumerate(articles)}


def breakdown(results: Sequence[tuple[Example, bool]]) -> dict[str, tuple[int, float]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for ex, hit in results:
        groups[question_class(ex.question).kind].append(hit)
        groups["all"].append(hit)
    return {k: (len(v), sum(v) / len(v)) for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}


def load_articles() -> list[Article]:
    return [a for name in DATA_FILES for a in load_squad(shared_dir() / "eval" / name)]


@dataclass
class Fitted:
    """The selector's cross-validation: a model per fold, its gate, and the out-of-fold answers."""

    examples: list[Example]
    rows: Rows
    folds: dict[str, int]
    models: dict[int, SpanModel]
    # Per example, out of fold: the best span's confidence, whether the span is right, whether the
    # clause (the fallback) is right, and the kind of answer given.
    confidence: np.ndarray
    span_hit: np.ndarray
    clause_hit: np.ndarray
    kinds: list[str]

    def gate(self, without: set[str] = frozenset()) -> float:
        """The gate that makes most answers right out of fold, chosen on the examples of the
        articles not in ``without``."""
        use = np.array([ex.article not in without for ex in self.examples])

        def right(gate: float) -> float:
            return float(np.where(self.confidence >= gate, self.span_hit, self.clause_hit)[use].mean())

        return max(GATES, key=lambda g: (right(g) + 1e-9 * (g == DEFAULT_GATE), -g))

    def fit_without(self, titles: set[str]) -> SpanModel:
        """A model fitted on every article but ``titles``, with the gate chosen without them."""
        keep = np.array([ex.article not in titles for ex in self.examples])
        return fit(self.rows, keep, self.gate(titles))

    def final(self) -> SpanModel:
        """The shipped model: fitted on every article, with the gate chosen on all out-of-fold answers."""
        model = fit(self.rows, None, self.gate())
        model.meta = {
            "data": "SQuAD 2.0 dev, 27 articles of shared/eval (CC BY-SA 4.0)",
            "examples": len(self.examples),
            "trees": TREES,
            "negatives": NEGATIVES,
            "cv_gold_sentence": round(float(self.span_hit.mean()), 4),
            "trained_by": "python -m bench.train_answers --write (or make train)",
        }
        return model


GATES = tuple(round(0.05 * i, 2) for i in range(19))


def cross_validate(articles: Sequence[Article]) -> Fitted:
    """Fit a model per fold of articles and answer the held-out fold's gold sentences with it."""
    folds = fold_of([a.title for a in articles])
    examples = [ex for a in articles for ex in examples_of(a)]
    rows = rows_of(examples)
    fold = np.array([folds[ex.article] for ex in examples])
    models: dict[int, SpanModel] = {}
    confidence = np.zeros(len(examples))
    span_hit = np.zeros(len(examples), dtype=bool)
    clause_hit = np.zeros(len(examples), dtype=bool)
    kinds = [""] * len(examples)
    for k in range(FOLDS):
        model = models[k] = fit(rows, fold != k)
        never = SpanModel(model.trees, gate=2.0)  # always the clause instead of a span
        for i in np.flatnonzero(fold == k):
            ex = examples[i]
            got = short_answer(ex.question, ex.sentence, ex.spans, model=SpanModel(model.trees, gate=0.0))
            clause = short_answer(ex.question, ex.sentence, ex.spans, model=never)
            confidence[i] = got.confidence if got.kind == "span" else 1.0
            span_hit[i] = holds(got.text, ex.answers)
            clause_hit[i] = holds(clause.text, ex.answers)
            kinds[i] = got.kind
    fitted = Fitted(examples, rows, folds, models, confidence, span_hit, clause_hit, kinds)
    for k in range(FOLDS):
        models[k].gate = fitted.gate({t for t, f in folds.items() if f == k})
    return fitted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="fit on all articles and write the model")
    parser.add_argument("--misses", type=int, default=0, help="print N cross-validated misses")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()

    articles = load_articles()
    fitted = cross_validate(articles)
    examples = fitted.examples
    reachable = np.bincount(fitted.rows.example, weights=fitted.rows.y, minlength=len(examples)) > 0
    n_questions = sum(len(a.answerable) for a in articles)
    print(
        f"{len(articles)} articles, {n_questions} answerable questions, {len(examples)} with the answer "
        f"inside one sentence; a candidate holds the answer for {pct(reachable.mean())} of those"
    )
    gates = [fitted.models[k].gate for k in range(FOLDS)]
    fold = np.array([fitted.folds[ex.article] for ex in examples])
    gated = np.array(
        [
            fitted.span_hit[i] if fitted.confidence[i] >= gates[fold[i]] else fitted.clause_hit[i]
            for i in range(len(examples))
        ]
    )
    spans = breakdown(list(zip(examples, fitted.span_hit, strict=True)))
    clauses = breakdown(list(zip(examples, fitted.clause_hit, strict=True)))
    with_gate = breakdown(list(zip(examples, gated, strict=True)))
    print(
        f"gold sentence, cross-validated ({FOLDS} folds of articles): selector {pct(spans['all'][1])}, "
        f"with its gate {pct(with_gate['all'][1])} (gates by fold {', '.join(f'{g:.2f}' for g in gates)})"
    )
    columns = {"clause only": clauses, "selector": spans, "selector + gate": with_gate}
    print(
        table(
            [(k, spans[k][0], *(pct(c[k][1]) for c in columns.values())) for k in spans],
            ("question kind", "n", *columns),
        )
    )
    if args.misses:
        misses = [ex for ex, hit in zip(examples, fitted.span_hit, strict=True) if not hit]
        random.Random(3).shuffle(misses)
        for ex in misses[: args.misses]:
            model = fitted.models[fitted.folds[ex.article]]
            got = short_answer(ex.question, ex.sentence, ex.spans, model=model)
            print(f"- Q: {ex.question}\n  gold: {' | '.join(dict.fromkeys(ex.answers))}\n  got:  {got.text}")
            print(f"  in:   {ex.sentence}")
    if args.write:
        model = fitted.final()
        model.save(MODEL_PATH)
        print(f"model: {len(model.trees.roots)} trees, gate {model.gate:.2f} -> {MODEL_PATH}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
