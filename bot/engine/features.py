"""What the learned models see: one row of numbers per (question, candidate fact).

Every feature the ranker and the confidence model use is computed here and nowhere else, from the
lexical search (BM25 per field and the coverage evidence), the answer type, and, when the
embedding model is installed, the semantic similarity of question and fact.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from typing import NamedTuple

import numpy as np

from bot.engine.answers import (
    STRICT_TYPES,
    counts_a_question_word,
    question_type,
    span_fit,
    within_bounds,
    year_bounds,
)
from bot.engine.matching import (
    INHERITED_WEIGHT,
    MAX_PROXIMITY,
    PARAGRAPH_WEIGHT,
    QUESTIONS_WEIGHT,
    Candidate,
    FactIndex,
    FieldScores,
    QueryTerm,
    Ranked,
    _ranges,
)
from bot.engine.model import Span
from bot.engine.text import common_english, normalize_word, respell

_WH_RE = re.compile(r"\b(?:what|when|where|which|who|whom|whose|why|how)\b", re.IGNORECASE)
_LIST_QUESTION_RE = re.compile(r"\b(?:kinds?|types?|sorts?|forms?|examples?)\s+of\b", re.IGNORECASE)
_ENUMERATION_RE = re.compile(
    r"\b(?:such as|including|includes?|from\s+\w+(?:\s+\w+)?\s+to|ranging|like|e\.g\.)\b"
)
_YEAR_RE = re.compile(r"\d{4}\b")
# An unknown common English word may be a paraphrase ("shipped" for "exported"); a name may not.
COMMON_UNKNOWN_WEIGHT = 0.25
# Kinds of answer that are a value: a date, an amount, a count.
VALUE_KINDS = frozenset({"money", "percent", "amount", "change", "count", "date", "year", "day"})

FEATURE_NAMES: tuple[str, ...] = (
    "bm25_sentence",
    "bm25_paragraph",
    "bm25_inherited",
    "bm25_questions",
    "score_share_of_top",
    "lexical_reciprocal_rank",
    "coverage",
    "context_coverage",
    "proximity",
    "matched_share",
    "missing_names",
    "missing_numbers",
    "names_not_in_sentence",
    "names_only_not_in_sentence",
    "answer_type_fit",
    "answer_type_missing",
    "lists_when_asked",
    "cosine",
    "cosine_gap_to_best",
    "cosine_paragraph",
    "cosine_previous",
    "semantic_reciprocal_rank",
    "sentence_words_log",
    "opens_with_pronoun",
    "unknown_share",
    "unknown_share_common_discounted",
    "query_words_log",
    "asks_wh",
    "type_none",
    "type_value",
    "best_cosine_in_index",
    "semantic_available",
    "unknown_names",
    "unknown_uncommon_words",
    "non_name_coverage",
    "value_question_subject_missing",
    "soft_coverage",
    "weakest_word_match",
)
N_FEATURES = len(FEATURE_NAMES)
# The features only the embedding model gives (zero without it).
SEMANTIC_FEATURES = frozenset(
    {
        "cosine",
        "cosine_gap_to_best",
        "cosine_paragraph",
        "cosine_previous",
        "semantic_reciprocal_rank",
        "best_cosine_in_index",
        "semantic_available",
        "soft_coverage",
        "weakest_word_match",
    }
)
# The confidence model reads the chosen fact's row and how far the ranker preferred it.
CONFIDENCE_FEATURE_NAMES: tuple[str, ...] = (*FEATURE_NAMES, "ranker_score", "ranker_margin", "ranker_share")


# The columns of candidate_features' per-candidate rows, in the order it makes them.
_ROW_COLUMNS = [
    FEATURE_NAMES.index(name)
    for name in (
        "lexical_reciprocal_rank",
        "coverage",
        "context_coverage",
        "proximity",
        "matched_share",
        "missing_names",
        "missing_numbers",
        "names_not_in_sentence",
        "names_only_not_in_sentence",
        "answer_type_fit",
        "answer_type_missing",
        "lists_when_asked",
        "semantic_reciprocal_rank",
        "sentence_words_log",
        "non_name_coverage",
        "value_question_subject_missing",
    )
]


class Question(NamedTuple):
    """A question analysed once: its text (typos of frequent words corrected), answer type, year
    bounds and index terms."""

    text: str
    kind: str | None
    bounds: tuple[int | None, int | None]
    query: list[QueryTerm]
    weights: dict[int, tuple[float, bool]]


def analyse(index: FactIndex, text: str) -> Question:
    """The question's index terms (the index corrects their typos itself) and, read from its words
    with typos of frequent English words corrected ("budjet": "budget"), its answer type."""
    query = index.query_terms(text)
    spelled = respell(text, lambda word: normalize_word(word) in index.term_ids)
    return Question(spelled, question_type(spelled), year_bounds(text), query, hit_weights(query))


def hit_weights(query: list[QueryTerm]) -> dict[int, tuple[float, bool]]:
    """For each index term the question matches: its weight there and whether it is a name.

    A term that is a variant of several question words counts for the first of them.
    """
    weights: dict[int, tuple[float, bool]] = {}
    for qt in query:
        for term, weight in qt.variants:
            if weight and term not in weights:
                weights[term] = (qt.weight * weight, qt.is_name)
    return weights


def unknown_shares(query: list[QueryTerm]) -> tuple[float, float]:
    """The share of the question's weight no article uses: in full, and with common English words
    that are not names discounted (they may be paraphrases)."""
    total = sum(q.weight for q in query)
    if not total:
        return 1.0, 1.0
    unknown = [q for q in query if not q.known]
    common = common_english()
    full = sum(q.weight for q in unknown)
    discounted = sum(
        q.weight * (COMMON_UNKNOWN_WEIGHT if q.surface.split("'")[0] in common else 1.0) for q in unknown
    )
    return full / total, discounted / total


class Semantic(NamedTuple):
    """The question's cosine with every fact, and the vectors the features compare it with."""

    cosines: np.ndarray  # (n_facts,)
    paragraph_vectors: np.ndarray  # (n_paragraphs, d), L2-normalised centroids
    question: np.ndarray  # (d,)
    words: np.ndarray  # (query words, d): each question word on its own
    terms: np.ndarray  # (index terms, d): each index word on its own


def candidate_features(
    index: FactIndex,
    question: Question,
    docs: np.ndarray,
    evidence: list[Candidate],
    fields: FieldScores | None,
    lexical: list[Ranked],
    semantic: Semantic | None,
    semantic_order: np.ndarray | None,
) -> np.ndarray:
    """(len(docs), N_FEATURES) for the candidate facts ``docs`` with their ``evidence``."""
    n = len(docs)
    out = np.zeros((n, N_FEATURES), dtype=np.float64)
    if not n:
        return out
    query = question.query
    total = sum(q.weight for q in query) or 1.0
    bm25 = index.field_matrix(fields, docs).astype(np.float64) / total
    out[:, 0:4] = bm25
    # The lexical search's own score (its field weights); the ranker weighs the fields itself too.
    combined = bm25 @ (1.0, PARAGRAPH_WEIGHT, INHERITED_WEIGHT, QUESTIONS_WEIGHT)
    top = combined.max()
    out[:, 4] = combined / top if top > 0 else 0.0
    lexical_rank = {r.index: rank for rank, r in enumerate(lexical)}
    semantic_rank = (
        {int(doc): rank for rank, doc in enumerate(semantic_order)} if semantic_order is not None else {}
    )
    wants_list = bool(_LIST_QUESTION_RE.search(question.text))
    kind = question.kind
    unknown, discounted = unknown_shares(query)
    common = common_english()
    unknown_names = sum(1 for q in query if not q.known and q.is_name)
    unknown_uncommon = sum(
        1 for q in query if not q.known and not q.is_name and q.surface.split("'")[0].lower() not in common
    )
    plain = [q for q in query if not q.is_name]
    plain_weight = sum(q.weight for q in plain)
    question_row = (
        unknown,
        discounted,
        math.log1p(len(query)),
        1.0 if _WH_RE.search(question.text) else 0.0,
        1.0 if kind is None else 0.0,
        1.0 if kind in VALUE_KINDS else 0.0,
    )
    doc_list = docs.tolist()
    sentence_lengths = (index.term_offsets.take(docs + 1) - index.term_offsets.take(docs)).tolist()
    rows = []
    for doc, candidate, length in zip(doc_list, evidence, sentence_lengths, strict=True):
        typed = answer_type_fit(index, doc, question, candidate.names_only_not_in_sentence > 0)
        rows.append(
            (
                1.0 / (1 + lexical_rank[doc]) if doc in lexical_rank else 0.0,
                candidate.coverage,
                candidate.context_coverage,
                candidate.proximity / MAX_PROXIMITY,
                len(candidate.matched) / max(len(query), 1),
                min(len(candidate.missing_names), 2),
                1.0 if candidate.missing_numbers else 0.0,
                min(candidate.names_not_in_sentence, 3),
                min(candidate.names_only_not_in_sentence, 3),
                typed,
                1.0 if kind in STRICT_TYPES and typed == 0 else 0.0,
                1.0 if wants_list and _ENUMERATION_RE.search(index.quote(doc)) else 0.0,
                1.0 / (1 + semantic_rank[doc]) if doc in semantic_rank else 0.0,
                math.log1p(length),
                (
                    sum(q.weight for q in plain if q.key in candidate.matched) / plain_weight
                    if plain_weight
                    else 1.0
                ),
                1.0 if kind in VALUE_KINDS and candidate.names_only_not_in_sentence else 0.0,
            )
        )
    out[:, _ROW_COLUMNS] = rows
    out[:, 23] = index.inherits.take(docs)
    out[:, 24:30] = question_row
    out[:, 32] = min(unknown_names, 3)
    out[:, 33] = min(unknown_uncommon, 3)
    if semantic is not None:
        cosines = semantic.cosines
        best = float(cosines.max()) if len(cosines) else 0.0
        out[:, 17] = cosines.take(docs)
        out[:, 18] = best - out[:, 17]
        out[:, 19] = semantic.paragraph_vectors[index.paragraph_of.take(docs)] @ semantic.question
        previous = np.maximum(docs - 1, 0)
        same = index.paragraph_of.take(previous) == index.paragraph_of.take(docs)
        out[:, 20] = np.where(same & (docs > 0), cosines.take(previous), 0.0)
        out[:, 30] = best
        out[:, 31] = 1.0
        out[:, 36:38] = word_matches(index, question, docs, evidence, semantic)
    return out


def confidence_features(features: np.ndarray, scores: np.ndarray, best: int) -> np.ndarray:
    """The confidence model's row for candidate ``best`` given every candidate's ranker ``scores``."""
    top = float(scores[best])
    others = np.delete(scores, best)
    runner_up = float(others.max()) if len(others) else top - 10.0
    shifted = np.exp(scores - top)
    share = 1.0 / float(shifted.sum())
    return np.concatenate([features[best], [top, min(top - runner_up, 10.0), share]])


def word_matches(
    index: FactIndex, question: Question, docs: np.ndarray, evidence: list[Candidate], semantic: Semantic
) -> np.ndarray:
    """(len(docs), 2): how well the sentence has each question word, exactly (1) or by its closest
    word in meaning (the cosine of the two words' embeddings): weighted mean, and the weakest.

    All candidates at once: one product of the question's words with every distinct term of the
    candidates' sentences, then the best per sentence (``np.maximum.reduceat`` over its terms).
    """
    query = question.query
    out = np.zeros((len(docs), 2))
    if not query or not len(semantic.words) or not len(docs):
        return out
    weights = np.array([q.weight for q in query])
    total = weights.sum() or 1.0
    starts = index.term_offsets.take(docs)
    lengths = index.term_offsets.take(docs + 1) - starts
    terms = index.terms.take(_ranges(starts, lengths + starts))
    best = np.zeros((len(docs), len(query)))
    if len(terms):
        distinct, where = np.unique(terms, return_inverse=True)
        cosines = (semantic.words @ semantic.terms[distinct].T)[:, where]  # (words, all terms)
        filled = lengths > 0
        ends = np.cumsum(lengths)
        best[filled] = np.maximum.reduceat(cosines, (ends - lengths)[filled], axis=1).T
        np.clip(best, 0.0, 1.0, out=best)
    keys = [q.key for q in query]
    exact = np.fromiter(
        (key in candidate.matched for candidate in evidence for key in keys), bool, len(evidence) * len(keys)
    ).reshape(len(evidence), len(keys))
    matches = np.where(exact, 1.0, best)
    out[:, 0] = matches @ weights / total
    out[:, 1] = matches.min(axis=1)
    return out


# -- answer type ------------------------------------------------------------------------------------


def sentence_hits(
    index: FactIndex, doc: int, weights: dict[int, tuple[float, bool]]
) -> list[tuple[int, float, bool]]:
    """(position, weight, is a name) of each term of the fact's sentence that the question has."""
    return [
        (position, *weights[term_id])
        for position, term_id in enumerate(index.terms_of(doc).tolist())
        if term_id in weights
    ]


def span_overlap(
    index: FactIndex, doc: int, hits: list[tuple[int, float, bool]], spans: tuple[Span, ...] | None = None
) -> dict[int, float]:
    """For each span of the fact, the share of its words that the question already has."""
    starts = index.starts_of(doc)
    hit_positions = {p for p, _, _ in hits}
    overlap: dict[int, float] = {}
    for span in index.spans_of(doc) if spans is None else spans:
        inside = list(range(bisect_left(starts, span.start), bisect_left(starts, span.end)))
        if span.kind == "date":
            # "May 26–27, 2024" answers "the dates of the 2024 summit": the year is not the news.
            quote = index.quote(doc)
            inside = [i for i in inside if not _YEAR_RE.match(quote, starts[i])]
        if inside:
            overlap[span.start] = sum(1 for i in inside if i in hit_positions) / len(inside)
    return overlap


def answer_type_fit(index: FactIndex, doc: int, question: Question, subject_missing: bool = False) -> float:
    """0 when the fact holds no span of the wanted kind; up to 1 for a new span of the best kind."""
    kind = question.kind
    if kind is None:
        return 0.0
    all_spans = index.spans_of(doc)
    fits = [(s, f) for s in all_spans if (f := span_fit(s, kind)) and within_bounds(s, question.bounds)]
    if not fits:
        return 0.0
    hits = sentence_hits(index, doc, question.weights)
    overlap = span_overlap(index, doc, hits, all_spans) if hits else {}  # (no hits: no overlap)
    starts = index.starts_of(doc) if kind == "count" else []

    def fit(span: Span, fitness: float) -> float:
        counted = kind != "count" or counts_a_question_word(span, starts, hits)
        return fitness * (1.0 - overlap.get(span.start, 0.0)) * (1.0 if counted else 0.4)

    quality = max(fit(s, f) for s, f in fits)
    if kind in VALUE_KINDS and subject_missing:
        quality *= 0.5  # an amount or a date, but of something the question does not name
    return quality
