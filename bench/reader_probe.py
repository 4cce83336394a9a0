"""Experiment (issue 14): does a question-conditioned encoder signal help the short-answer selector?

The engine's sentence-embedding model (all-MiniLM-L6-v2 int8, ``bot.engine.semantic``) gives token
states before mean pooling. Two ways of reading a gold sentence with its question:

- ``pair``: one pass on "[CLS] question [SEP] sentence [SEP]" (token_type_ids 0 / 1); each sentence
  token's state ``h`` and the mean ``q`` of the question tokens' states;
- ``late``: the sentence alone and the question alone (late interaction: the sentence's states
  could be kept at index time); each sentence token's state ``h``, the question's mean state ``q``
  and the token's largest cosine with a question token.

A linear probe (ridge, closed form from per-article sums) on ``[h, h*q, (cos), 1]`` scores each
sentence token: inside an annotator's answer, its first token, its last token. Per candidate of
``bot.engine.short_answer.candidates`` that gives PROBE_NAMES (inside max / mean / min, start score at
its first token, end score at its last, the inside score of the tokens just outside, start and end
relative to the sentence's best), appended to ``dense_row()``; the boosted trees are refitted per fold.

Nested cross-validation by article, ``bench.train_answers.fold_of``'s folds: the probe that scores a
held-out fold k has not seen fold k; the trees of fold k are fitted on rows of the other folds j
whose probe columns come from a probe fitted without folds j and k (so they are out of fold too).
Filters and gates as ``bench.train_answers`` (chosen per fold on the other folds' out-of-fold answers).

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.reader_probe            # without / pair / late (~6 min)
    OMP_NUM_THREADS=1 .venv/bin/python -m bench.reader_probe --context  # probe sees neighbour tokens too
    OMP_NUM_THREADS=1 .venv/bin/python -m bench.reader_probe --compare pair,late,pair+ctx,late+ctx
    .venv/bin/python -m bench.reader_probe --cost          # ms per answer of the extra pass, 1 thread

(OMP_NUM_THREADS=1: with another OpenMP job on the two cores, the trees' fits took 5 minutes a
fold instead of 18 s.) ``--compare`` reads the saved results (.factbot-cache/bench/reader-result-*)
and gives paired differences with an article-bootstrap interval. Figures: reader_probe_results.txt.

Token states are cached in .factbot-cache/bench/reader-states.pkl (about 0.3 GB).
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np

from bench import train_answers as ta
from bench.common import REPO, pct, shared_dir, table
from bot.engine.learned import TreeModel
from bot.engine.short_answer import (
    DENSE_NAMES,
    TYPES,
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

logger = logging.getLogger(__name__)

CACHE = REPO / ".factbot-cache" / "bench" / "reader-states.pkl"
MODES = ("pair", "late")
ALPHA = 1e-3  # ridge penalty: this share of each column's sum of squares
PROBE_NAMES = (
    "p_in_max",
    "p_in_mean",
    "p_in_min",
    "p_start_first",
    "p_end_last",
    "p_in_before",
    "p_in_after",
    "p_start_rel",
    "p_end_rel",
    "p_start_end",
)


# -- token states -----------------------------------------------------------------------------------


def _run(embedder, encodings: Sequence) -> list[np.ndarray]:
    """Each encoding's token states (len(ids), 384), batched by length."""
    session = embedder._session
    lengths = np.array([len(e.ids) for e in encodings])
    order = np.argsort(lengths, kind="stable")
    out: list[np.ndarray] = [None] * len(encodings)  # type: ignore[list-item]
    for at in range(0, len(order), 32):
        rows = order[at : at + 32]
        width = int(lengths[rows].max())
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for r, i in enumerate(rows):
            n = lengths[i]
            ids[r, :n] = encodings[i].ids
            mask[r, :n] = 1
            types[r, :n] = encodings[i].type_ids
        (hidden,) = session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        for r, i in enumerate(rows):
            out[i] = hidden[r, : lengths[i]]
    return out


def states(examples: Sequence[ta.Example]) -> list[dict]:
    """Per example: sentence-token offsets and states for both modes (cached)."""
    key = [(ex.question, ex.sentence) for ex in examples]
    if CACHE.exists():
        with CACHE.open("rb") as f:
            data = pickle.load(f)
        if data["key"] == key:
            return data["states"]
    from bot.engine.semantic import embedder

    model = embedder()
    tok = model._tokenizer
    pair = tok.encode_batch([(ex.question, ex.sentence) for ex in examples])
    alone = tok.encode_batch([ex.sentence for ex in examples])
    qs = tok.encode_batch([ex.question for ex in examples])
    t0 = time.perf_counter()
    h_pair, h_alone, h_q = _run(model, pair), _run(model, alone), _run(model, qs)
    logger.warning("encoded %d examples x 3 passes in %.1f s", len(examples), time.perf_counter() - t0)
    out = []
    for i in range(len(examples)):
        sid = pair[i].sequence_ids
        s_idx = [t for t, s in enumerate(sid) if s == 1]
        q_idx = [t for t, s in enumerate(sid) if s == 0]
        a_idx = [t for t, s in enumerate(alone[i].sequence_ids) if s == 0]
        qq_idx = [t for t, s in enumerate(qs[i].sequence_ids) if s == 0]
        qtok = h_q[i][qq_idx]
        stok = h_alone[i][a_idx]
        qn = qtok / np.linalg.norm(qtok, axis=1, keepdims=True)
        sn = stok / np.linalg.norm(stok, axis=1, keepdims=True)
        out.append(
            {
                "pair_off": np.array([pair[i].offsets[t] for t in s_idx], dtype=np.int32).reshape(-1, 2),
                "pair_h": h_pair[i][s_idx].astype(np.float16),
                "pair_q": h_pair[i][q_idx].mean(axis=0),
                "late_off": np.array([alone[i].offsets[t] for t in a_idx], dtype=np.int32).reshape(-1, 2),
                "late_h": stok.astype(np.float16),
                "late_q": qtok.mean(axis=0),
                "late_cos": (sn @ qn.T).max(axis=1) if len(qn) and len(sn) else np.zeros(len(sn)),
            }
        )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with CACHE.open("wb") as f:
        pickle.dump({"key": key, "states": out}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return out


CONTEXT = False  # --context: each token's neighbours' states too


def token_features(st: dict, mode: str) -> np.ndarray:
    """(n_tokens, d): [h, h*q, (cos), 1]; with CONTEXT also the states of the tokens before and after."""
    h = st[f"{mode}_h"].astype(np.float32)
    q = st[f"{mode}_q"].astype(np.float32)
    parts = [h, h * q]
    if CONTEXT:
        zero = np.zeros((1, h.shape[1]), dtype=np.float32)
        parts += [np.vstack([zero, h[:-1]]), np.vstack([h[1:], zero])]
    if mode == "late":
        parts.append(st["late_cos"].astype(np.float32)[:, None])
    parts.append(np.ones((len(h), 1), dtype=np.float32))
    return np.hstack(parts)


def token_labels(ex: ta.Example, off: np.ndarray) -> np.ndarray:
    """(n_tokens, 3) 0/1: inside an annotator's answer, its first token, its last token."""
    y = np.zeros((len(off), 3), dtype=np.float32)
    low = ex.sentence.lower()
    for a in ex.answers:
        a = a.strip().lower()
        if not a:
            continue
        at = low.find(a)
        while at >= 0:
            s, e = at, at + len(a)
            for t, (ts, te) in enumerate(off):
                if ts < e and te > s:
                    y[t, 0] = 1
                if ts <= s < te:
                    y[t, 1] = 1
                if ts < e <= te:
                    y[t, 2] = 1
            at = low.find(a, at + 1)
    return y


# -- the probe --------------------------------------------------------------------------------------


class Probe:
    """Per-fold sums of X'X and X'Y, so a ridge probe without any set of folds is one solve."""

    def __init__(self, examples: Sequence[ta.Example], st: Sequence[dict], mode: str, fold: np.ndarray):
        self.mode = mode
        self.x = [token_features(s, mode) for s in st]
        self.y = [token_labels(ex, s[f"{mode}_off"]) for ex, s in zip(examples, st, strict=True)]
        d = self.x[0].shape[1]
        self.gram = np.zeros((ta.FOLDS, d, d))
        self.xy = np.zeros((ta.FOLDS, d, 3))
        for x, y, k in zip(self.x, self.y, fold, strict=True):
            self.gram[k] += x.T.astype(np.float64) @ x
            self.xy[k] += x.T.astype(np.float64) @ y
        self.cache: dict[frozenset, np.ndarray] = {}

    def weights(self, without: frozenset) -> np.ndarray:
        if without not in self.cache:
            keep = [k for k in range(ta.FOLDS) if k not in without]
            g, b = self.gram[keep].sum(axis=0), self.xy[keep].sum(axis=0)
            # (+ a tiny ridge: a few hidden dimensions are 0 in every token)
            penalty = ALPHA * np.diag(g) + 1e-6 * np.diag(g).mean()
            penalty[-1] = 0.0  # the bias
            self.cache[without] = np.linalg.solve(g + np.diag(penalty), b).astype(np.float32)
        return self.cache[without]

    def scores(self, i: int, without: frozenset) -> np.ndarray:
        return self.x[i] @ self.weights(without)


def candidate_columns(scores: np.ndarray, off: np.ndarray, start: int, end: int) -> list[float]:
    """PROBE_NAMES for the candidate at characters start..end of the sentence."""
    if len(off) == 0:
        return [np.nan] * len(PROBE_NAMES)
    inside = np.flatnonzero((off[:, 0] < end) & (off[:, 1] > start))
    if len(inside) == 0:
        return [np.nan] * len(PROBE_NAMES)
    a, b = int(inside[0]), int(inside[-1])
    s_in = scores[a : b + 1, 0]
    first, last = float(scores[a, 1]), float(scores[b, 2])
    return [
        float(s_in.max()),
        float(s_in.mean()),
        float(s_in.min()),
        first,
        last,
        float(scores[a - 1, 0]) if a > 0 else np.nan,
        float(scores[b + 1, 0]) if b + 1 < len(scores) else np.nan,
        first - float(scores[:, 1].max()),
        last - float(scores[:, 2].max()),
        first + last,
    ]


class ProbeSpanModel(SpanModel):
    """A SpanModel whose rows get the probe's columns of the current example (``self.current``)."""

    current: tuple[np.ndarray, np.ndarray] | None = None

    def predict(self, ctx: Context, cands: list) -> list[float]:
        if not cands:
            return []
        x = feature_rows(ctx, cands)
        if self.current is not None:
            scores, off = self.current
            extra = np.array([candidate_columns(scores, off, c.start, c.end) for c in cands])
            x = np.hstack([x, extra])
        return self.trees.probability(x).tolist()


# -- cross-validation -------------------------------------------------------------------------------


def fit_trees(rows: ta.Rows, keep: np.ndarray, names: tuple[str, ...]) -> TreeModel:
    """bench.train_answers.fit's sample and trees, on ``rows.x`` with any extra columns."""
    taken = ta.sample(rows, ta.answerable(rows, keep), ta.SEED)
    monotonic = [1 if n in ("type_match", "type_match_first") else 0 for n in names]
    return TreeModel.fit(rows.x[taken], rows.y[taken].astype(int), names, monotonic_cst=monotonic, **ta.TREES)


def evaluate(
    base: ta.Fitted, fold: np.ndarray, mode: str | None, probe: Probe | None, st, cands_of
) -> ta.Fitted:
    """Cross-validated span answers with (mode) or without (None) the probe's columns."""
    examples = base.examples
    n = len(examples)
    confidence = np.zeros((2, n))
    span_hit = np.zeros((2, n), dtype=bool)
    span_in = np.zeros((2, n), dtype=bool)
    names = DENSE_NAMES + (PROBE_NAMES if mode else ())
    for k in range(ta.FOLDS if mode != "skip" else 0):
        x = base.rows.x
        if mode:
            extra = np.zeros((len(x), len(PROBE_NAMES)), dtype=np.float32)
            at = 0
            for i in range(len(examples)):
                j = fold[i]
                scores = probe.scores(i, frozenset({k}) if j == k else frozenset({j, k}))
                off = st[i][f"{mode}_off"]
                for c in cands_of[i]:
                    extra[at] = candidate_columns(scores, off, c.start, c.end)
                    at += 1
            assert at == len(x)
            x = np.hstack([x, extra])
        rows = ta.Rows(x, base.rows.y, base.rows.example)
        trees = fit_trees(rows, fold != k, names)
        for i in np.flatnonzero(fold == k):
            ex = examples[i]
            for on, types in enumerate(((), TYPES)):
                model = ProbeSpanModel(trees, 0.0, types=types)
                if mode:
                    model.current = (probe.scores(i, frozenset({k})), st[i][f"{mode}_off"])
                got = short_answer(
                    ex.question, ex.sentence, ex.spans, model=model, closeness=base.closeness[i]
                )
                confidence[on, i] = got.confidence if got.kind in ("span", "list") else 1.0
                span_hit[on, i] = ta.holds(got.text, ex.answers)
                span_in[on, i] = ta.contains(got.text, ex.answers)
        logger.warning("%s: fold %d done", mode or "without", k)
    return ta.Fitted(
        examples,
        base.closeness,
        base.rows,
        base.folds,
        {},
        confidence,
        span_hit,
        span_in,
        base.clause_hit,
        base.clause_in,
        base.types,
        base.gate_kinds,
        base.credit,
        base.how,
    )


def out_of_fold(
    fitted: ta.Fitted, fold: np.ndarray, credit: float = ta.CLAUSE_CREDIT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each example's span (with the fold's filters), span + gates (gates chosen on the other folds
    with this clause credit), and whether that answer holds the annotator's at any length."""
    n = len(fitted.examples)
    span, gated, gated_in = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    saved, fitted.credit = fitted.credit, credit
    for k in range(ta.FOLDS):
        types, gate, gates = fitted.choose({t for t, f in fitted.folds.items() if f == k})
        at = fold == k
        span[at] = fitted.spans(types)[1][at]
        right, inside = fitted.answers(types, gate, gates)
        gated[at], gated_in[at] = right[at], inside[at]
    fitted.credit = saved
    return span, gated, gated_in


def baseline(articles) -> ta.Fitted:
    """Rows, closeness and the clause answers, as bench.train_answers.cross_validate builds them."""
    folds = ta.fold_of([a.title for a in articles])
    examples = [ex for a in articles for ex in ta.examples_of(a)]
    vectors = ta.word_vectors(examples)
    closeness = [ta.closeness_of(ex.question, vectors) for ex in examples]
    rows = ta.rows_of(examples, closeness)
    n = len(examples)
    clause_hit = np.zeros(n, dtype=bool)
    clause_in = np.zeros(n, dtype=bool)
    never = SpanModel(
        TreeModel.fit(rows.x[:50], np.arange(50) % 2, DENSE_NAMES, max_iter=1), gate=2.0, types=()
    )
    for i, ex in enumerate(examples):
        clause = short_answer(ex.question, ex.sentence, ex.spans, model=never, closeness=closeness[i])
        clause_hit[i] = ta.holds(clause.text, ex.answers)
        clause_in[i] = ta.contains(clause.text, ex.answers)
    qcs = [question_class(ex.question) for ex in examples]
    z = np.zeros((2, n))
    return ta.Fitted(
        examples,
        closeness,
        rows,
        folds,
        {},
        z,
        z.astype(bool),
        z.astype(bool),
        clause_hit,
        clause_in,
        np.array([wanted(qc)[0] for qc in qcs]),
        np.array([gate_kind(qc) for qc in qcs]),
    )


def probe_figures(probe: Probe, fold: np.ndarray) -> list[tuple]:
    """Out of fold (probe without the example's fold): token AUCs and argmax hits per example."""
    from sklearn.metrics import roc_auc_score

    scores = [probe.scores(i, frozenset({int(fold[i])})) for i in range(len(fold))]
    s = np.vstack(scores)
    y = np.vstack(probe.y)
    aucs = [roc_auc_score(y[:, c], s[:, c]) for c in range(3)]
    top = [
        float(
            np.mean(
                [yy[np.argmax(ss[:, c]), c] > 0 for ss, yy in zip(scores, probe.y, strict=True) if len(ss)]
            )
        )
        for c in range(3)
    ]
    return [
        (
            probe.mode,
            f"{aucs[0]:.3f}",
            f"{aucs[1]:.3f}",
            f"{aucs[2]:.3f}",
            pct(top[0]),
            pct(top[1]),
            pct(top[2]),
        )
    ]


def experiment(modes: Sequence[str]) -> None:
    t0 = time.perf_counter()
    articles = ta.load_articles()
    base = baseline(articles)
    examples = base.examples
    fold = np.array([base.folds[ex.article] for ex in examples])
    logger.warning(
        "rows: %d examples, %d rows (%.0f s)", len(examples), len(base.rows.y), time.perf_counter() - t0
    )
    st = states(examples)
    cands_of = [candidates(ex.sentence, tokens_of(ex.sentence), ex.spans) for ex in examples]
    results: dict[str, tuple[ta.Fitted, np.ndarray, np.ndarray]] = {}
    probe_rows = []
    summary = []
    for mode in (None, *modes):
        name = (mode or "without") + ("+ctx" if CONTEXT and mode else "")
        saved = CACHE.with_name(f"reader-result-{name}.npz")
        probe = Probe(examples, st, mode, fold) if mode else None
        if probe:
            probe_rows += probe_figures(probe, fold)
        if mode is None and saved.exists() and len(np.load(saved)["span_hit"][0]) == len(examples):
            with np.load(saved) as z:
                fitted = evaluate(base, fold, "skip", None, st, cands_of)
                fitted.confidence, fitted.span_hit, fitted.span_in = (
                    z["confidence"],
                    z["span_hit"],
                    z["span_in"],
                )
        else:
            fitted = evaluate(base, fold, mode, probe, st, cands_of)
            np.savez(saved, confidence=fitted.confidence, span_hit=fitted.span_hit, span_in=fitted.span_in)
        span, gated, gated_in = out_of_fold(fitted, fold)
        _, gated0, _ = out_of_fold(fitted, fold, 0.0)
        value = gated + ta.CLAUSE_CREDIT * (gated_in & ~gated)
        summary.append(
            (
                name,
                pct(fitted.span_hit[0].mean()),
                pct(span.mean()),
                pct(gated.mean()),
                pct(gated_in.mean()),
                f"{value.mean():.3f}",
                pct(gated0.mean()),
            )
        )
        results[name] = (fitted, span, gated)
        logger.warning(
            "%s: span %s, gates %s (%.0f s)",
            mode,
            pct(span.mean()),
            pct(gated.mean()),
            time.perf_counter() - t0,
        )
    print("probe, out of fold by article (AUC over sentence tokens; the top-scoring token of each")
    print("gold sentence is inside the answer / its first token / its last token):")
    print(
        table(
            probe_rows, ("mode", "AUC inside", "AUC start", "AUC end", "top inside", "top start", "top end")
        )
    )
    print("gold sentence, out of fold by article: all questions")
    print(
        table(
            summary,
            (
                "reading",
                "no filter",
                "selector",
                "+ gates",
                "+ gates: holds at any length",
                "value (clause 0.75)",
                "+ gates chosen at credit 0",
            ),
        )
    )
    header = ["kind", "n"]
    cols = []
    for name, (fitted, span, gated) in results.items():
        header += [f"{name}: no filter", f"{name}: selector", f"{name}: + gates"]
        cols += [
            ta.breakdown(list(zip(examples, fitted.span_hit[0], strict=True))),
            ta.breakdown(list(zip(examples, span, strict=True))),
            ta.breakdown(list(zip(examples, gated, strict=True))),
        ]
    first = cols[1]
    print("gold sentence, out of fold by article (short answer holds an annotator's answer, <= 3x):")
    print(table([(k, first[k][0], *(pct(c[k][1]) for c in cols)) for k in first], header))
    print(f"({time.perf_counter() - t0:.0f} s)")


def compare(names: Sequence[str]) -> None:
    """Paired differences against "without" of the saved readings, with a 95% interval from 2,000
    bootstrap resamples of whole articles."""
    articles = ta.load_articles()
    base = baseline(articles)
    examples = base.examples
    fold = np.array([base.folds[ex.article] for ex in examples])
    article = np.array([ex.article for ex in examples])
    titles = sorted(set(article))
    members = [np.flatnonzero(article == t) for t in titles]
    rng = np.random.default_rng(0)
    draws = [
        np.concatenate([members[j] for j in rng.integers(0, len(titles), len(titles))]) for _ in range(2000)
    ]
    figures = {}
    for name in ("without", *names):
        fitted = evaluate(base, fold, "skip", None, [], [])
        with np.load(CACHE.with_name(f"reader-result-{name}.npz")) as z:
            fitted.confidence, fitted.span_hit, fitted.span_in = z["confidence"], z["span_hit"], z["span_in"]
        span, gated, gated_in = out_of_fold(fitted, fold)
        _, gated0, _ = out_of_fold(fitted, fold, 0.0)
        value = gated + ta.CLAUSE_CREDIT * (gated_in & ~gated)
        figures[name] = {"selector": span, "+ gates": gated, "value": value, "+ gates (credit 0)": gated0}
    rows = []
    for name in names:
        for what, now in figures[name].items():
            d = now.astype(float) - figures["without"][what].astype(float)
            boot = [d[i].mean() for i in draws]
            lo, hi = np.percentile(boot, [2.5, 97.5])
            rows.append((name, what, f"{100 * d.mean():+.2f}", f"[{100 * lo:+.2f}, {100 * hi:+.2f}]"))
    print("paired difference against without (points; value x 100), 95% article-bootstrap interval:")
    print(table(rows, ("reading", "figure", "difference", "interval")))


# -- cost -------------------------------------------------------------------------------------------


def cost() -> None:
    """Median ms per answer on the seed quotes, 1 onnxruntime thread: the question's embedding, the
    pair pass (tokenise + run + probe math), the late variant (question token states are the
    question's own pass; sentence states precomputed)."""
    import yaml

    from bot.engine.semantic import Embedder

    model = Embedder.load(threads=1, cache_dir=REPO / ".factbot-cache")
    quotes = [
        f["quote"]
        for path in sorted((REPO / "facts").glob("[0-9]*.yaml"))
        for f in yaml.safe_load(path.read_text(encoding="utf-8"))["facts"]
    ]
    dev = yaml.safe_load((shared_dir() / "eval" / "dev-questions.yaml").read_text(encoding="utf-8"))
    items = dev if isinstance(dev, list) else next(v for v in dev.values() if isinstance(v, list))
    questions = [q["q"] if isinstance(q, dict) else str(q) for q in items]
    w = np.random.default_rng(0).standard_normal((769, 3)).astype(np.float32)
    w_late = np.random.default_rng(1).standard_normal((770, 3)).astype(np.float32)
    tok = model._tokenizer
    t_q, t_pair, t_sent, t_math = [], [], [], []
    for rep in range(3):
        for i, quote in enumerate(quotes):
            q = questions[(i + rep) % len(questions)]
            t0 = time.perf_counter()
            model.embed([q])
            t1 = time.perf_counter()
            enc = tok.encode(q, quote)
            (h,) = _run(model, [enc])
            sid = enc.sequence_ids
            qv = h[[t for t, s in enumerate(sid) if s == 0]].mean(axis=0)
            hs = h[[t for t, s in enumerate(sid) if s == 1]]
            _ = np.hstack([hs, hs * qv, np.ones((len(hs), 1), np.float32)]) @ w
            t2 = time.perf_counter()
            (sent,) = _run(model, [tok.encode(quote)])
            t3 = time.perf_counter()
            (hq,) = _run(model, [tok.encode(q)])
            t4 = time.perf_counter()
            # late interaction: question token states (the engine's own question pass, before
            # pooling) against the sentence's states (index time, or t_sent at answer time).
            qtok, hs = hq[1:-1], sent[1:-1]
            qn = qtok / np.linalg.norm(qtok, axis=1, keepdims=True)
            sn = hs / np.linalg.norm(hs, axis=1, keepdims=True)
            cos = (sn @ qn.T).max(axis=1)[:, None]
            _ = np.hstack([hs, hs * qtok.mean(axis=0), cos, np.ones((len(hs), 1), np.float32)]) @ w_late
            t5 = time.perf_counter()
            if rep:
                t_q.append(t1 - t0)
                t_pair.append(t2 - t1)
                t_sent.append(t3 - t2)
                t_math.append(t5 - t4)
    ms = lambda v: 1000 * statistics.median(v)  # noqa: E731
    print(
        f"{len(quotes)} seed quotes x 2, 1 onnxruntime thread, medians: question embedding {ms(t_q):.2f} ms; "
        f"pair pass + probe {ms(t_pair):.2f} ms; sentence-alone pass {ms(t_sent):.2f} ms; late-interaction "
        f"math + probe on given states {ms(t_math):.3f} ms; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cost", action="store_true", help="measure the per-answer cost only")
    parser.add_argument("--modes", default="pair,late", help="which encoder readings: pair, late")
    parser.add_argument("--context", action="store_true", help="probe on the neighbours' states too")
    parser.add_argument("--compare", default="", help="saved readings to compare with without, e.g. pair+ctx")
    args = parser.parse_args(argv)
    global CONTEXT
    CONTEXT = args.context
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if args.cost:
        cost()
    elif args.compare:
        compare(args.compare.split(","))
    else:
        experiment([m for m in args.modes.split(",") if m])
    return 0


if __name__ == "__main__":
    sys.exit(main())
