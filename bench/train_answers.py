"""Train and cross-validate the short-answer span selector (issue 14 part 4).

Data: the 27 Wikipedia articles of ``shared/eval/squad2-dev-8.json`` and ``squad2-dev-19.json``
(SQuAD 2.0 dev set, Rajpurkar et al. 2018, CC BY-SA 4.0). For each answerable question the
paragraph is split with the index's own splitter (``bot.text.split_sentences``) and the sentence
that holds the annotators' answer (by its offset) is the *gold sentence*; its candidates
(``bot.short_answer.candidates``) are labelled right when one holds an annotator's answer and is
at most 3x its length. The model is a conditional logit over each sentence's candidates
(L2-regularised, fitted with scipy's L-BFGS; deterministic).

Every figure is cross-validated by whole article: 5 folds of articles (fixed assignment), a model
fitted on 4/5 of the articles answers the questions of the others. The metric is the issue's: the
short answer holds an annotator's answer (case-insensitive, curly quotes and dashes folded) and is
at most 3x its length in characters. Reported on the gold sentence, for today's
``bot.answers.extract`` on the same sentences (the baseline), and end to end (the engine's chosen
sentence; a declined question is a miss).

    .venv/bin/python -m bench.train_answers                 # CV figures, then fit on all, write the model
    .venv/bin/python -m bench.train_answers --no-e2e        # skip the engine (faster)
    .venv/bin/python -m bench.train_answers --misses 30     # print CV misses
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import norm, pct, shared_dir, table
from bench.squad import Article, load_squad
from bot.short_answer import (
    MODEL_PATH,
    Context,
    SpanModel,
    candidates,
    features,
    question_class,
    short_answer,
    tokens_of,
)
from bot.spans import find_spans
from bot.text import split_sentences

logger = logging.getLogger(__name__)

FOLDS = 5
L2 = 30.0
MIN_COUNT = 2
MAXITER = 300
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
    """Each example's candidates' feature names and labels."""

    names: list[list[list[str]]]
    labels: list[list[bool]]


def rows_of(examples: Sequence[Example]) -> Rows:
    names, labels = [], []
    for ex in examples:
        tokens = tokens_of(ex.sentence)
        ctx = Context(question_class(ex.question), tokens)
        cands = candidates(ex.sentence, tokens, ex.spans)
        names.append([features(ctx, c) for c in cands])
        labels.append([holds(ex.sentence[c.start : c.end], ex.answers) for c in cands])
    return Rows(names, labels)


def fit(rows: Rows, l2: float = L2, min_count: int = MIN_COUNT) -> SpanModel:
    """A conditional logit over each example's candidates: maximise the probability of its right ones."""
    from scipy import sparse
    from scipy.optimize import minimize

    counts: dict[str, int] = defaultdict(int)
    groups = [(n, lab) for n, lab in zip(rows.names, rows.labels, strict=True) if any(lab) and not all(lab)]
    for names, _ in groups:
        for cand in names:
            for f in set(cand):
                counts[f] += 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    data, indices, indptr, positive, group_of = [], [], [0], [], []
    for g, (names, labels) in enumerate(groups):
        for cand, label in zip(names, labels, strict=True):
            ids = sorted({vocab[f] for f in cand if f in vocab})
            indices.extend(ids)
            data.extend([1.0] * len(ids))
            indptr.append(len(indices))
            positive.append(label)
            group_of.append(g)
    x = sparse.csr_matrix((data, indices, indptr), shape=(len(positive), len(vocab)))
    xt = x.T.tocsr()
    pos = np.array(positive, dtype=bool)
    grp = np.array(group_of)
    n_groups = len(groups)

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        top = np.full(n_groups, -np.inf)
        np.maximum.at(top, grp, s)
        e = np.exp(s - top[grp])
        z_all = np.bincount(grp, weights=e, minlength=n_groups)
        z_pos = np.bincount(grp, weights=e * pos, minlength=n_groups)
        loss = float(np.sum(np.log(z_all) - np.log(z_pos))) + 0.5 * l2 * float(w @ w)
        p_all = e / z_all[grp]
        p_pos = np.where(pos, e / z_pos[grp], 0.0)
        grad = xt @ (p_all - p_pos) + l2 * w
        return loss, grad

    result = minimize(
        objective, np.zeros(len(vocab)), jac=True, method="L-BFGS-B", options={"maxiter": MAXITER}
    )
    names_by_id = sorted(vocab, key=vocab.get)
    weights = {names_by_id[i]: float(v) for i, v in enumerate(result.x) if abs(v) > 1e-6}
    logger.info("fit: %d groups, %d features, loss %.1f", n_groups, len(vocab), result.fun)
    return SpanModel(weights)


def fold_of(articles: Sequence[str]) -> dict[str, int]:
    """A fixed assignment of articles to folds (sorted titles, shuffled with a fixed seed)."""
    titles = sorted(articles)
    random.Random(14).shuffle(titles)
    return {t: i % FOLDS for i, t in enumerate(titles)}


def breakdown(results: Sequence[tuple[Example, bool]]) -> dict[str, tuple[int, float]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for ex, hit in results:
        groups[question_class(ex.question).kind].append(hit)
        groups["all"].append(hit)
    return {k: (len(v), sum(v) / len(v)) for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}


def load_articles() -> list[Article]:
    return [a for name in DATA_FILES for a in load_squad(shared_dir() / "eval" / name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-e2e", action="store_true", help="skip the baseline and end-to-end (no engine)")
    parser.add_argument("--no-save", action="store_true", help="do not write the model file")
    parser.add_argument("--misses", type=int, default=0, help="print N cross-validated misses")
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()

    articles = load_articles()
    folds = fold_of([a.title for a in articles])
    examples = [ex for a in articles for ex in examples_of(a)]
    rows = rows_of(examples)
    reachable = sum(any(lab) for lab in rows.labels) / len(examples)
    n_questions = sum(len(a.answerable) for a in articles)
    print(
        f"{len(articles)} articles, {n_questions} answerable questions, {len(examples)} with the answer "
        f"inside one sentence; a candidate holds the answer for {pct(reachable)} of those"
    )

    models: dict[int, SpanModel] = {}
    cv: list[tuple[Example, bool, str, str]] = []
    for k in range(FOLDS):
        train = [i for i, ex in enumerate(examples) if folds[ex.article] != k]
        model = fit(Rows([rows.names[i] for i in train], [rows.labels[i] for i in train]), l2=args.l2)
        models[k] = model
        for ex in examples:
            if folds[ex.article] == k:
                got = short_answer(ex.question, ex.sentence, ex.spans, model=model)
                cv.append((ex, holds(got.text, ex.answers), got.text, got.kind))
    gold = breakdown([(ex, hit) for ex, hit, _, _ in cv])

    kinds = list(gold)
    fallback = sum(kind == "clause" for _, _, _, kind in cv) / len(cv)
    print(f"gold sentence, cross-validated: {pct(gold['all'][1])} (clause fallback {pct(fallback)})")
    if args.misses:
        misses = [(ex, text) for ex, hit, text, _ in cv if not hit]
        random.Random(3).shuffle(misses)
        for ex, text in misses[: args.misses]:
            print(f"- Q: {ex.question}\n  gold: {' | '.join(dict.fromkeys(ex.answers))}\n  got:  {text}")
            print(f"  in:   {ex.sentence}")

    if not args.no_save:
        model = fit(rows, l2=args.l2)
        model = SpanModel(
            model.weights,
            model.threshold,
            {
                "data": "SQuAD 2.0 dev, 27 articles of shared/eval (CC BY-SA 4.0)",
                "examples": len(examples),
                "l2": args.l2,
                "cv_gold_sentence": round(gold["all"][1], 4),
                "trained_by": "python -m bench.train_answers",
            },
        )
        model.save(MODEL_PATH)
        print(f"model: {len(model.weights)} weights -> {MODEL_PATH}")

    columns = {"gold sentence (CV)": gold}
    if not args.no_e2e:
        baseline, e2e, engine_e2e = engine_figures(articles, examples, models, folds)
        columns = {
            "baseline extract, gold": baseline,
            "gold sentence (CV)": gold,
            "engine answer, e2e": engine_e2e,
            "end to end (CV)": e2e,
        }
    print(
        table(
            [(k, gold[k][0], *(pct(c[k][1]) if k in c else "-" for c in columns.values())) for k in kinds],
            ("question kind", "n", *columns),
        )
    )
    print(f"targets: gold sentence >= {pct(TARGET_GOLD, 0)}, end to end >= {pct(TARGET_E2E, 0)}")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


def engine_figures(
    articles: Sequence[Article],
    examples: Sequence[Example],
    models: dict[int, SpanModel],
    folds: dict[str, int],
) -> tuple[dict, dict, dict]:
    """Baseline ``extract`` on the gold sentences; the engine's own short answer and the model's on
    the engine's chosen sentence (end to end; a decline is a miss)."""
    from bench.squad import build_factbot
    from bot.answers import extract, question_type, year_bounds
    from bot.engine import _hit_weights

    with tempfile.TemporaryDirectory(prefix="factbot-answers-") as tmp:
        idx = build_factbot(articles, Path(tmp))
    engine = idx.engine
    index = engine.index
    by_quote: dict[tuple[str, str], int] = {}
    for i, fact in enumerate(idx.facts):
        by_quote.setdefault((fact.article, fact.quote), i)

    baseline: list[tuple[Example, bool]] = []
    e2e: list[tuple[Example, bool]] = []
    engine_e2e: list[tuple[Example, bool]] = []
    for ex in examples:
        text = " ".join(ex.question.split())
        i = by_quote.get((ex.article, ex.sentence))
        if i is None:
            # The seed's file name is the article's title; facts carry its stem.
            i = next((j for j, f in enumerate(idx.facts) if f.quote == ex.sentence), None)
        if i is not None:
            kind = question_type(text)
            query = index.query_terms(text)
            hits = engine._hits(i, _hit_weights(query))
            named = engine._named(i, text, kind)
            if named is not None and named[0] == i:
                short = named[1]
            else:
                short = extract(
                    index.fact(i),
                    index.term_positions(i),
                    hits,
                    kind,
                    engine._span_overlap(i, hits),
                    year_bounds(text),
                    engine._head_key(text, query),
                ).text
            baseline.append((ex, holds(short, ex.answers)))
        else:
            baseline.append((ex, False))
        answer = engine.ask(text)
        if not answer.answered or not answer.quote:
            e2e.append((ex, False))
            engine_e2e.append((ex, False))
            continue
        fact = engine.fact(answer.fact_id) if answer.fact_id else None
        spans = fact.spans if fact is not None else find_spans(answer.quote)
        got = short_answer(text, answer.quote, spans, model=models[folds[ex.article]])
        e2e.append((ex, holds(got.text, ex.answers)))
        engine_e2e.append((ex, holds(answer.answer, ex.answers)))
    return breakdown(baseline), breakdown(e2e), breakdown(engine_e2e)


if __name__ == "__main__":
    sys.exit(main())
