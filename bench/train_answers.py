"""Train and cross-validate the short-answer span selector (issue 14 part 4).

Data: the 27 Wikipedia articles of ``shared/eval/squad2-dev-8.json`` and ``squad2-dev-19.json``
(SQuAD 2.0 dev set, Rajpurkar et al. 2018, CC BY-SA 4.0). For each answerable question the
paragraph is split with the index's own splitter (``bot.engine.text.split_sentences``) and the sentence
that holds the annotators' answer (by its offset) is the *gold sentence*; its candidates
(``bot.engine.short_answer.candidates``) are labelled right when one holds an annotator's answer and is
at most 3x its length. Each word's closeness in meaning to the question's words is the cosine of
their embeddings (each word embedded on its own, as the engine embeds its index words; cached in
``.factbot-cache/bench``; exact matches only without the embedding model). The model is boosted
trees (scikit-learn's HistGradientBoostingClassifier, flattened by ``bot.engine.learned.TreeModel``) on
each candidate's dense row (``bot.engine.short_answer.dense_row``),
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

from bench.common import REPO, norm, pct, shared_dir, table
from bench.squad import Article, load_squad
from bot.engine.short_answer import (
    DEFAULT_GATE,
    DENSE_NAMES,
    MODEL_PATH,
    TYPES,
    Closeness,
    Context,
    SpanModel,
    candidates,
    feature_rows,
    gate_kind,
    question_class,
    short_answer,
    tokens_of,
    wanted,
)
from bot.engine.spans import find_spans
from bot.engine.text import split_sentences

logger = logging.getLogger(__name__)

FOLDS = 6  # bench.train's GROUPS
SEED = 14
NEGATIVES = 15  # wrong candidates per example the trees are fitted on
BAGS = 5  # models fitted on other samples of the wrong candidates, averaged
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


def contains(text: str | None, answers: Sequence[str]) -> bool:
    """``text`` holds an annotator's answer, at any length (the answer is not wrong)."""
    if not text:
        return False
    s = norm(text)
    return any(a.strip() and norm(a) in s for a in answers)


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


def question_words(question: str) -> list[str]:
    """The question's content words, lower case (as the engine embeds them)."""
    qc = question_class(question)
    return [t.lower for t in tokens_of(question) if not t.stop and t.stem in qc.stems]


def word_vectors(examples: Sequence[Example]) -> dict[str, np.ndarray]:
    """Every content word of the questions and gold sentences embedded on its own, as the engine
    embeds its index words (cached in .factbot-cache/bench); empty without the embedding model."""
    try:
        from bot.engine.semantic import VectorCache, embedder
    except ImportError:
        return {}
    model = embedder()
    if model is None:
        return {}
    words = set()
    for ex in examples:
        words.update(question_words(ex.question))
        words.update(t.lower for t in tokens_of(ex.sentence) if not t.stop)
    texts = sorted(words)
    vectors = VectorCache(REPO / ".factbot-cache" / "bench").vectors(texts, model)
    return dict(zip(texts, np.asarray(vectors, dtype=np.float32), strict=True))


def closeness_of(question: str, vectors: dict[str, np.ndarray]) -> Closeness | None:
    """How close each word is in meaning to the closest of some words (None without vectors)."""
    own = [w for w in question_words(question) if w in vectors]
    if not vectors or not own:
        return None

    def closeness(words: Sequence[str], to: Sequence[str] | None) -> list[float]:
        known = [vectors[w] for w in (own if to is None else to) if w in vectors]
        if not known:
            return [0.0] * len(words)
        matrix = np.array(known)
        return [float((matrix @ vectors[w]).max()) if w in vectors else 0.0 for w in words]

    return closeness


def rows_of(examples: Sequence[Example], closeness: Sequence[Closeness | None]) -> Rows:
    x, y, example = [], [], []
    for e, ex in enumerate(examples):
        tokens = tokens_of(ex.sentence)
        ctx = Context(question_class(ex.question), tokens, closeness[e])
        cands = candidates(ex.sentence, tokens, ex.spans)
        x.extend(feature_rows(ctx, cands))
        for c in cands:
            y.append(holds(ex.sentence[c.start : c.end], ex.answers))
            example.append(e)
    return Rows(np.array(x, dtype=np.float32), np.array(y, dtype=bool), np.array(example))


def answerable(rows: Rows, keep: np.ndarray | None = None) -> np.ndarray:
    """The examples (of ``keep``, a mask over examples) that have a right candidate."""
    use = np.bincount(rows.example, weights=rows.y, minlength=int(rows.example.max()) + 1) > 0
    return use if keep is None else use & keep


def sample(rows: Rows, use: np.ndarray, seed: int) -> np.ndarray:
    """The candidates to fit on (a mask over rows), of the examples in ``use``: every right one, and
    the first NEGATIVES wrong ones of each example in a random order drawn from ``seed``."""
    wrong_seen = np.zeros(len(use), dtype=np.int64)
    taken = np.zeros(len(rows.y), dtype=bool)
    for i in np.random.default_rng(seed).permutation(len(rows.y)):
        e = rows.example[i]
        if not use[e]:
            continue
        if rows.y[i]:
            taken[i] = True
        elif wrong_seen[e] < NEGATIVES:
            wrong_seen[e] += 1
            taken[i] = True
    return taken


def fit(rows: Rows, keep: np.ndarray | None = None, gate: float = DEFAULT_GATE) -> SpanModel:
    """Boosted trees on the candidates of the examples in ``keep`` (a mask over examples) that have
    a right candidate: all right ones and up to NEGATIVES wrong ones each (a random sample), BAGS
    times with other samples, averaged (one model's probabilities move a lot with small changes
    to the data, and the gates with them)."""
    from bot.engine.learned import TreeModel

    use = answerable(rows, keep)
    # The candidate being of the type the question asks for never counts against it.
    monotonic = [1 if n in ("type_match", "type_match_first") else 0 for n in DENSE_NAMES]
    bags = []
    for bag in range(BAGS):
        taken = sample(rows, use, SEED + bag)
        bags.append(
            TreeModel.fit(
                rows.x[taken],
                rows.y[taken].astype(int),
                DENSE_NAMES,
                monotonic_cst=monotonic,
                random_state=bag,
                **TREES,
            )
        )
        logger.info("fit: bag %d, %d examples, %d rows", bag, int(use.sum()), int(taken.sum()))
    return SpanModel(TreeModel.mean(bags), gate)


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


# What a clause that holds the annotator's answer (but is longer than 3x it) is worth when the gates
# are chosen, against 1 for a right answer of at most 3x its length; a wrong answer is worth 0.
CLAUSE_CREDIT = 0.75
# Which type filters (bot.engine.short_answer.TYPES) the models use: "all", or "cv": those that do not lower
# the span's figure out of fold on SQuAD (there the person, place and date filters cost 2-10 points
# in their kinds; on the seed articles they are what gets "who" and "where" right).
FILTERS = "all"
CREDITS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class Fitted:
    """The selector's cross-validation: a model per fold, its filters and gates, and the out-of-fold
    answers."""

    examples: list[Example]
    closeness: list[Closeness | None]
    rows: Rows
    folds: dict[str, int]
    models: dict[int, SpanModel]
    # Per example, out of fold, without [0] and with [1] the type filter: the best span's
    # confidence, whether it is right (at most 3x the answer), whether it holds the answer at all.
    confidence: np.ndarray
    span_hit: np.ndarray
    span_in: np.ndarray
    # The clause (the fallback): right, holds the answer.
    clause_hit: np.ndarray
    clause_in: np.ndarray
    types: np.ndarray  # per example, the type the question asks for (bot.engine.short_answer.wanted)
    gate_kinds: np.ndarray  # per example, bot.engine.short_answer.gate_kind
    credit: float = CLAUSE_CREDIT
    how: str = FILTERS

    def filters(self, use: np.ndarray) -> tuple[str, ...]:
        """Every type (FILTERS "all"), or those whose filter does not lower the span's figure on the
        examples in ``use`` ("cv")."""
        if self.how == "all":
            return TYPES
        return tuple(
            t
            for t in TYPES
            if (m := use & (self.types == t)).any()
            and self.span_hit[1][m].mean() >= self.span_hit[0][m].mean()
        )

    def spans(self, types: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per example with these filters: the span's confidence, whether it is right, holds the answer."""
        on = np.isin(self.types, types).astype(int)
        pick = np.arange(len(self.examples))
        return self.confidence[on, pick], self.span_hit[on, pick], self.span_in[on, pick]

    def answers(
        self, types: tuple[str, ...], gate: float, gates: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per example, whether the answer with these filters and gates is right, and holds the answer."""
        confidence, hit, inside = self.spans(types)
        span = confidence >= np.array([gates.get(k, gate) for k in self.gate_kinds])
        return np.where(span, hit, self.clause_hit), np.where(span, inside, self.clause_in)

    def choose(self, without: set[str] = frozenset()) -> tuple[tuple[str, ...], float, dict[str, float]]:
        """The filters, then the gate over all questions and for each gate kind, chosen on the examples
        of the articles not in ``without``: each gate is worth most out of fold (a right answer 1, a
        clause that holds the answer ``credit``)."""
        use = np.array([ex.article not in without for ex in self.examples])
        types = self.filters(use)
        confidence, hit, inside = self.spans(types)

        def value(gate: float, mask: np.ndarray) -> float:
            span = confidence[mask] >= gate
            right = np.where(span, hit[mask], self.clause_hit[mask])
            holds_it = np.where(span, inside[mask], self.clause_in[mask])
            return float((right + self.credit * (holds_it & ~right)).mean())

        def best(mask: np.ndarray) -> float:
            return max(GATES, key=lambda g: (value(g, mask) + 1e-9 * (g == DEFAULT_GATE), -g))

        kinds = sorted(set(self.gate_kinds))
        gates = {k: best(use & (self.gate_kinds == k)) for k in kinds if (use & (self.gate_kinds == k)).any()}
        return types, best(use), gates

    def fit_without(self, titles: set[str]) -> SpanModel:
        """A model fitted on every article but ``titles``, with filters and gates chosen without them."""
        keep = np.array([ex.article not in titles for ex in self.examples])
        types, gate, gates = self.choose(titles)
        model = fit(self.rows, keep, gate)
        model.types, model.gates = types, gates
        return model

    def final(self) -> SpanModel:
        """The shipped model: fitted on every article, filters and gates chosen on all out-of-fold answers."""
        types, gate, gates = self.choose()
        model = fit(self.rows, None, gate)
        model.types, model.gates = types, gates
        model.meta = {
            "data": "SQuAD 2.0 dev, 27 articles of shared/eval (CC BY-SA 4.0)",
            "examples": len(self.examples),
            "trees": TREES,
            "bags": BAGS,
            "negatives": NEGATIVES,
            "clause_credit": self.credit,
            "filters": self.how,
            "cv_gold_sentence": round(float(self.answers(types, gate, gates)[0].mean()), 4),
            "trained_by": "python -m bench.train_answers --write (or make train)",
        }
        return model


GATES = tuple(round(0.05 * i, 2) for i in range(19))


def cross_validate(
    articles: Sequence[Article], credit: float = CLAUSE_CREDIT, filters: str = FILTERS
) -> Fitted:
    """Fit a model per fold of articles and answer the held-out fold's gold sentences with it, with
    and without the type filter; then choose each fold's filters and gates on the other folds."""
    folds = fold_of([a.title for a in articles])
    examples = [ex for a in articles for ex in examples_of(a)]
    vectors = word_vectors(examples)
    closeness = [closeness_of(ex.question, vectors) for ex in examples]
    rows = rows_of(examples, closeness)
    fold = np.array([folds[ex.article] for ex in examples])
    models: dict[int, SpanModel] = {}
    n = len(examples)
    confidence = np.zeros((2, n))
    span_hit = np.zeros((2, n), dtype=bool)
    span_in = np.zeros((2, n), dtype=bool)
    clause_hit = np.zeros(n, dtype=bool)
    clause_in = np.zeros(n, dtype=bool)
    for k in range(FOLDS):
        model = models[k] = fit(rows, fold != k)
        never = SpanModel(model.trees, gate=2.0, types=())  # always the clause instead of a span
        for i in np.flatnonzero(fold == k):
            ex = examples[i]
            for on, types in enumerate(((), TYPES)):
                got = short_answer(
                    ex.question,
                    ex.sentence,
                    ex.spans,
                    model=SpanModel(model.trees, 0.0, types=types),
                    closeness=closeness[i],
                )
                # A span or a list the model chose is gated (as in short_answer); a yes/no, a reason
                # or a list found before the model (confidence 1.0) and a clause are not.
                confidence[on, i] = got.confidence if got.kind in ("span", "list") else 1.0
                span_hit[on, i] = holds(got.text, ex.answers)
                span_in[on, i] = contains(got.text, ex.answers)
            clause = short_answer(ex.question, ex.sentence, ex.spans, model=never, closeness=closeness[i])
            clause_hit[i] = holds(clause.text, ex.answers)
            clause_in[i] = contains(clause.text, ex.answers)
    qcs = [question_class(ex.question) for ex in examples]
    fitted = Fitted(
        examples,
        closeness,
        rows,
        folds,
        models,
        confidence,
        span_hit,
        span_in,
        clause_hit,
        clause_in,
        np.array([wanted(qc)[0] for qc in qcs]),
        np.array([gate_kind(qc) for qc in qcs]),
        credit,
        filters,
    )
    for k in range(FOLDS):
        models[k].types, models[k].gate, models[k].gates = fitted.choose(
            {t for t, f in folds.items() if f == k}
        )
    return fitted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="fit on all articles and write the model")
    parser.add_argument("--misses", type=int, default=0, help="print N cross-validated misses")
    parser.add_argument("--filters", choices=("all", "cv"), default=FILTERS, help="which type filters")
    parser.add_argument(
        "--credit",
        type=float,
        default=CLAUSE_CREDIT,
        help="a clause that holds the answer, when choosing gates",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    from bot.engine.semantic import embedder

    if embedder() is None:
        # The closeness columns would all be 0: the figures fall by about 4 points, and a model
        # written so would not be the one the engine expects.
        message = "the embedding model is not installed (see the warning above)"
        if args.write:
            parser.error(f"{message}: refusing to write a model without it")
        print(f"WARNING: {message}; every closeness column is 0 in this run", file=sys.stderr)

    articles = load_articles()
    fitted = cross_validate(articles, args.credit, args.filters)
    examples = fitted.examples
    reachable = np.bincount(fitted.rows.example, weights=fitted.rows.y, minlength=len(examples)) > 0
    n_questions = sum(len(a.answerable) for a in articles)
    print(
        f"{len(articles)} articles, {n_questions} answerable questions, {len(examples)} with the answer "
        f"inside one sentence; a candidate holds the answer for {pct(reachable.mean())} of those"
    )
    fold = np.array([fitted.folds[ex.article] for ex in examples])

    def out_of_fold(credit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each example answered with its fold's filters (span, and span + gates for ``credit``)."""
        saved, fitted.credit = fitted.credit, credit
        span, gated, span_in, gated_in = (np.zeros(len(examples), dtype=bool) for _ in range(4))
        for k in range(FOLDS):
            types, gate, gates = fitted.choose({t for t, f in fitted.folds.items() if f == k})
            at = fold == k
            _, hit, inside = fitted.spans(types)
            span[at], span_in[at] = hit[at], inside[at]
            right, holds_it = fitted.answers(types, gate, gates)
            gated[at], gated_in[at] = right[at], holds_it[at]
        fitted.credit = saved
        return span, gated, span_in, gated_in

    span, gated, span_in, gated_in = out_of_fold(fitted.credit)
    print(
        f"gold sentence, cross-validated ({FOLDS} folds of articles): selector without type filters "
        f"{pct(fitted.span_hit[0].mean())}, with {pct(fitted.span_hit[1].mean())}, with the filters "
        f"chosen {pct(span.mean())}, and its gates {pct(gated.mean())}; the answer holds the annotator's "
        f"at any length: {pct(span_in.mean())}, with its gates {pct(gated_in.mean())}"
    )
    for k in range(FOLDS):
        model = fitted.models[k]
        print(
            f"  fold {k}: filters {', '.join(model.types) or '-'}; gates: all {model.gate:.2f}, "
            + ", ".join(f"{q} {g:.2f}" for q, g in model.gates.items())
        )
    columns = {
        "clause only": breakdown(list(zip(examples, fitted.clause_hit, strict=True))),
        "no filter": breakdown(list(zip(examples, fitted.span_hit[0], strict=True))),
        "all filters": breakdown(list(zip(examples, fitted.span_hit[1], strict=True))),
        "selector": breakdown(list(zip(examples, span, strict=True))),
        "+ gates": breakdown(list(zip(examples, gated, strict=True))),
        "any length: selector": breakdown(list(zip(examples, span_in, strict=True))),
        "any length: + gates": breakdown(list(zip(examples, gated_in, strict=True))),
    }
    first = columns["selector"]
    print(
        table(
            [(k, first[k][0], *(pct(c[k][1]) for c in columns.values())) for k in first],
            ("kind", "n", *columns),
        )
    )
    rows = []
    for credit in CREDITS:
        _, right, _, holds_it = out_of_fold(credit)
        saved, fitted.credit = fitted.credit, credit
        _, gate, gates = fitted.choose()
        fitted.credit = saved
        chosen = f"all {gate:.2f}, " + ", ".join(f"{q} {g:.2f}" for q, g in gates.items())
        rows.append((credit, pct(right.mean()), pct(holds_it.mean()), chosen))
    print("the clause's credit when the gates are chosen (out of fold, gold sentence; gates on all):")
    print(table(rows, ("credit", "right (<= 3x)", "holds the answer", "gates")))
    if args.misses:
        misses = [ex for ex, hit in zip(examples, gated, strict=True) if not hit]
        random.Random(3).shuffle(misses)
        for ex in misses[: args.misses]:
            model = fitted.models[fitted.folds[ex.article]]
            i = examples.index(ex)
            got = short_answer(ex.question, ex.sentence, ex.spans, model=model, closeness=fitted.closeness[i])
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
