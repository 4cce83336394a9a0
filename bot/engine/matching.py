"""Matching a question against the facts: analysis into index terms, then a ranked search.

Terms are Snowball stems after spelling normalisation, with aliases joined into one term
("ROK", "Seoul" and "South Korea" are all ``=south korea``). A question's words become weighted
variants: the word itself, its synonyms (discounted), or, for a word the index has never seen,
the closest indexed spelling (typos). Facts are ranked by BM25 over the sentence, plus BM25 over
the sentence's paragraph (context), plus curated questions; the best few are then re-scored on
how much of the question they cover.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from bot.engine.facts import Vocabulary
from bot.engine.model import Fact, Span
from bot.engine.text import LIGHT_WORDS, QUESTION_WORDS, STOP_WORDS, Token, fold, normalize_word, tokenize

logger = logging.getLogger(__name__)

SYNONYM_WEIGHT = 0.8
FUZZY_WEIGHT = 0.75
PART_WEIGHT = 0.7
# A name found in this few paragraphs is specific: a question naming it is about those paragraphs.
RARE_PARAGRAPHS = 3
K1 = 0.9
B = 0.5
PARAGRAPH_WEIGHT = 0.35
QUESTIONS_WEIGHT = 1.0
# A sentence that opens with a pronoun ("It was commissioned by Odo") is about what the sentence
# before it names: it inherits that sentence's words, at a discount, for ranking and coverage.
INHERITED_WEIGHT = 0.3
INHERITED_COVERAGE = 0.6
_ANAPHORS = frozenset("it its this these that those they their them he his she her such there both".split())
# Kinds of answer that are one family: "what year", "what dates" and "when" all want a date.
_KIND_FAMILY = {"year": "date", "day": "date"}
# How many of the best BM25 facts are re-ranked on coverage, answer type and proximity.
CANDIDATES = 8
# How many facts' Span objects spans_of keeps (then it starts again): a few MB at most.
SPANS_KEPT = 20_000

# Words that only say what kind of answer is wanted: "how MANY", "what KINDS of", "how LONG".
_TYPE_CUE_RE = re.compile(
    r"\b(?:how\s+(much|many|long|far|often|fast|big|large|old|soon)"
    r"|(kinds?|types?|sorts?|forms?)\s+of"
    r"|(?:what|which|the)\s+(dates?|years?|days?|months?|time|name|country|countries|city|cities"
    r"|place|location|person|percentage|percent|share|portion|proportion|fraction|amount))\b",
    re.IGNORECASE,
)

# "3" and "three" are one number: a question may write it either way.
_NUMBER_NAMES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()
_NUMBER_FORMS: dict[str, str] = {
    **{str(value): normalize_word(name) for value, name in enumerate(_NUMBER_NAMES)},
    **{normalize_word(name): str(value) for value, name in enumerate(_NUMBER_NAMES)},
}

# "us" is a pronoun unless written "US" or used as a name in an all-lower-case question.
_PRONOUN_CONTEXT = frozenset("tell give show let help for to with about among of teach send".split())


class Term(NamedTuple):
    """One analysed word (or joined alias phrase) of a text."""

    key: str
    surface: str
    start: int
    end: int
    capitalized: bool


class Analyzer:
    """Turns text into index terms; the same for articles and questions."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._phrases: dict[tuple[str, ...], str] = {}
        self._case_sensitive: set[tuple[str, ...]] = set()
        for group in vocabulary.aliases:
            canonical = "=" + " ".join(t.stem for t in tokenize(group[0]))
            for member in group:
                self._add_phrase(member, canonical)
        self.synonyms: dict[str, frozenset[str]] = {}
        related: dict[str, set[str]] = defaultdict(set)
        for group in vocabulary.synonyms:
            keys = []
            for member in group:
                stems = tuple(t.stem for t in tokenize(member))
                if len(stems) == 1:
                    keys.append(stems[0])
                elif stems:
                    head = tuple(t.stem for t in tokenize(group[0]))
                    if len(head) == 1:
                        self._phrases.setdefault(stems, head[0])
            for key in keys:
                related[key].update(k for k in keys if k != key)
        self.synonyms = {k: frozenset(v) for k, v in related.items()}
        self._max_phrase = max((len(p) for p in self._phrases), default=1)
        self._phrase_starts = frozenset(p[0] for p in self._phrases)

    def _add_phrase(self, member: str, canonical: str) -> None:
        stems = tuple(t.stem for t in tokenize(member))
        if not stems:
            return
        self._phrases[stems] = canonical
        if len(stems) == 1 and member.isupper() and member.lower().strip(".") in STOP_WORDS:
            self._case_sensitive.add(stems)

    def terms(self, text: str, *, keep_stop_words: bool = False) -> list[Term]:
        """Content terms of ``text`` in order, aliases joined."""
        return [Term(*fields) for fields in self.term_fields(text, keep_stop_words=keep_stop_words)]

    def term_fields(
        self, text: str, *, keep_stop_words: bool = False
    ) -> list[tuple[str, str, int, int, bool]]:
        """What ``terms`` gives, as plain (key, surface, start, end, capitalized) tuples."""
        tokens = tokenize(text)
        lower_text = not any(ch.isupper() for ch in text)
        phrase_starts = self._phrase_starts
        out: list[tuple[str, str, int, int, bool]] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            matched = self._match_phrase(tokens, i, lower_text) if token.stem in phrase_starts else None
            if matched:
                length, key = matched
                last = tokens[i + length - 1]
                out.append((key, text[token.start : last.end], token.start, last.end, token.is_capitalized))
                i += length
                continue
            if keep_stop_words or token.surface.lower() not in STOP_WORDS:
                out.append((token.stem, token.surface, token.start, token.end, token.is_capitalized))
            i += 1
        return out

    def _match_phrase(self, tokens: Sequence[Token], i: int, lower_text: bool) -> tuple[int, str] | None:
        for length in range(min(self._max_phrase, len(tokens) - i), 0, -1):
            key = tuple(t.stem for t in tokens[i : i + length])
            canonical = self._phrases.get(key)
            if canonical is None:
                continue
            if length == 1 and key in self._case_sensitive:
                surface = tokens[i].surface
                if not surface.replace(".", "").isupper():
                    previous = tokens[i - 1].surface.lower() if i else ""
                    if not lower_text or previous in _PRONOUN_CONTEXT:
                        continue
            if length > 1 and tokens[i + length - 1].start - tokens[i].end > 40:
                continue
            return length, canonical
        return None


_QUALIFIER_RE = re.compile(r"\([^()]*\)")
_HAS_DIGIT = re.compile(r"\d").search


class QueryTerm(NamedTuple):
    """A question word with the index terms it may match and how much each counts."""

    surface: str
    key: str
    variants: tuple[tuple[int, float], ...]
    weight: float
    known: bool
    is_number: bool
    is_name: bool
    light: bool
    rare: bool = False


class FieldScores(NamedTuple):
    """A question's BM25 per field over the whole index (None: no query word in that field)."""

    sentence: np.ndarray | None
    paragraph: np.ndarray | None
    inherited: np.ndarray | None
    questions: np.ndarray | None
    touched: list[np.ndarray]


class Ranked(NamedTuple):
    """A fact the search ranked among the best, on its score alone."""

    index: int
    score: float


# Proximity sums the weights of each close pair of neighbouring query words, so a word in the
# middle counts twice: it never reaches this share of the query's weight.
MAX_PROXIMITY = 2.0


class Candidate(NamedTuple):
    """A ranked fact with the evidence the answer builder needs."""

    index: int
    score: float
    coverage: float
    context_coverage: float
    matched: frozenset[str]
    missing_names: tuple[str, ...]
    missing_numbers: tuple[str, ...]
    names_not_in_sentence: int
    names_only_not_in_sentence: int = 0
    proximity: float = 0.0


@dataclass(frozen=True)
class Postings:
    """BM25 postings of one field in CSR form: term t's docs are ``docs[offsets[t]:offsets[t+1]]``."""

    offsets: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    idf: np.ndarray

    def get(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        if term >= len(self.offsets) - 1:
            return None
        start, end = self.offsets[term], self.offsets[term + 1]
        if start == end:
            return None
        return self.docs[start:end], self.weights[start:end]


def _bm25(flat_terms: np.ndarray, doc_of_token: np.ndarray, n_docs: int, n_terms: int) -> Postings:
    """BM25 postings for documents given as one flat array of term ids and each token's document."""
    n_docs = max(n_docs, 1)
    lengths = np.bincount(doc_of_token, minlength=n_docs).astype(np.float32)
    present = lengths[lengths > 0]
    avg = float(present.mean()) if len(present) else 1.0  # over documents that have the field
    pairs, tf = np.unique(flat_terms.astype(np.int64) * n_docs + doc_of_token, return_counts=True)
    terms = (pairs // n_docs).astype(np.int32)
    docs = (pairs % n_docs).astype(np.int32)
    df = np.bincount(terms, minlength=n_terms).astype(np.float32)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    tf = tf.astype(np.float32)
    weights = idf[terms] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[docs] / avg))
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(terms, minlength=n_terms))
    return Postings(offsets, docs, weights.astype(np.float32), idf)


def _best_first(scores: np.ndarray, ids: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` best positive scores, best first; equal scores in id order."""
    positions = np.flatnonzero(scores > 0)
    if len(positions) > limit:
        kth = np.partition(scores[positions], len(positions) - limit)[len(positions) - limit]
        positions = positions[scores[positions] >= kth]
    return positions[np.lexsort((ids[positions], -scores[positions]))[:limit]]


def _kth_best(values: np.ndarray, k: int) -> float:
    """The k-th largest value (0.0 when there are fewer than k)."""
    if len(values) < k:
        return 0.0
    return float(np.partition(values, len(values) - k)[len(values) - k])


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (np.unique without its overhead for small integers)."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(start, end)`` for each pair."""
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total)


def _with_builtin_dtypes(value: object) -> object:
    """``value`` with its arrays viewed as numpy's own dtypes.

    Unpickling gives each array a dtype object equal to, but not the same as, numpy's; some fast
    paths (``np.add.at``) test identity and fall back to a path 25 times slower.
    """
    if isinstance(value, np.ndarray):
        return value.view(np.dtype(value.dtype.str))
    if isinstance(value, Postings):
        return Postings(*(_with_builtin_dtypes(getattr(value, f.name)) for f in fields(Postings)))
    return value


_FactRow = tuple  # (id, article, paragraph, quote, spans, answer, questions, hidden): plain values


class FactIndex:
    """The searchable form of the visible facts. Built once at load; read-only afterwards.

    Everything is kept in flat arrays and tuples of plain values, so 100,000 facts pickle and load
    in a fraction of a second: a fact's terms are ``terms[term_offsets[i]:term_offsets[i + 1]]``.
    """

    def __init__(self, facts: Sequence[Fact], analyzer: Analyzer) -> None:
        """Index ``facts``; the facts of one paragraph must be next to each other."""
        self.analyzer = analyzer
        self._rows: list[_FactRow] = [
            (
                f.id,
                f.article,
                f.paragraph,
                f.quote,
                tuple((s.kind, s.text, s.start, s.end) for s in f.spans),
                f.answer,
                f.questions,
                f.hidden,
            )
            for f in facts
        ]
        self.term_ids: dict[str, int] = {}
        term_ids = self.term_ids
        mid_sentence: list[str] = []  # the key of each term not at a sentence's start
        capitalized_mid_sentence: list[str] = []
        surfaces: dict[str, str] = {}
        flat: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        capitals: list[bool] = []
        lengths: list[int] = []
        for fact in facts:
            terms = analyzer.term_fields(fact.quote)
            lengths.append(len(terms))
            for key, surface, start, end, is_capitalized in terms:
                flat.append(term_ids.setdefault(key, len(term_ids)))
                starts.append(start)
                ends.append(end)
                capitals.append(is_capitalized)
                surfaces.setdefault(surface.lower(), key)
                if start > 0:
                    mid_sentence.append(key)
                    if is_capitalized:
                        capitalized_mid_sentence.append(key)
        seen_mid_sentence = Counter(mid_sentence)
        capitalized = Counter(capitalized_mid_sentence)
        self.terms = np.array(flat, dtype=np.int32)
        self.starts = np.array(starts, dtype=np.int32)
        self.ends = np.array(ends, dtype=np.int32)
        self.capitals = np.array(capitals, dtype=bool)
        self.term_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        self.term_offsets[1:] = np.cumsum(lengths)
        sentence_of_token = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        paragraph_ids: dict[tuple[str, int], int] = {}
        self.paragraph_of = np.array(
            [paragraph_ids.setdefault((f.article, f.paragraph), len(paragraph_ids)) for f in facts],
            dtype=np.int32,
        )
        if np.any(np.diff(self.paragraph_of) < 0):
            raise ValueError("the facts of a paragraph must be next to each other")
        self.paragraph_offsets = np.zeros(len(paragraph_ids) + 1, dtype=np.int64)
        if len(facts):
            np.maximum.at(self.paragraph_offsets, self.paragraph_of + 1, self.term_offsets[1:])
            self.paragraph_offsets = np.maximum.accumulate(self.paragraph_offsets)
        # Sentence i inherits the terms of sentence i - 1 when it opens with a pronoun.
        self.inherits = np.array(
            [
                i > 0
                and facts[i - 1].article == fact.article
                and facts[i - 1].paragraph == fact.paragraph
                and fact.quote.split(maxsplit=1)[0].lower().strip(",") in _ANAPHORS
                for i, fact in enumerate(facts)
            ],
            dtype=bool,
        )
        heirs = np.flatnonzero(self.inherits)
        inherited_lengths = self.term_offsets[heirs] - self.term_offsets[heirs - 1]
        inherited_flat = np.concatenate([np.zeros(0, np.int32), *(self.terms_of(int(i) - 1) for i in heirs)])
        # The facts of paragraph p are paragraph_sentences[paragraph_sentence_offsets[p]:...[p + 1]].
        self.paragraph_sentences = np.argsort(self.paragraph_of, kind="stable").astype(np.int32)
        self.paragraph_sentence_offsets = np.zeros(len(paragraph_ids) + 1, dtype=np.int64)
        self.paragraph_sentence_offsets[1:] = np.cumsum(
            np.bincount(self.paragraph_of, minlength=len(paragraph_ids))
        )
        question_flat: list[int] = []
        question_doc: list[int] = []
        for i, fact in enumerate(facts):
            for question in fact.questions:
                for t in analyzer.terms(question):
                    question_flat.append(self._term_id(t.key))
                    question_doc.append(i)
        self.has_questions = bool(question_flat)
        # Curated questions count as part of their fact: fact i's are question_terms[i].
        self.question_terms: dict[int, frozenset[int]] = defaultdict(frozenset)
        for term, doc in zip(question_flat, question_doc, strict=True):
            self.question_terms[doc] = self.question_terms[doc] | {term}
        self.question_terms = dict(self.question_terms)
        # The answer kind each fact's curated questions ask for (set by the engine): a curated
        # "When is the summit?" says nothing about "Where did they meet?".
        self.question_kinds: dict[int, frozenset[str | None]] = {}
        # Each article's title terms (set by the engine).
        self.title_terms: dict[str, frozenset[int]] = {}
        n_terms = len(self.term_ids)
        self.sentence_postings = _bm25(self.terms, sentence_of_token, len(lengths), n_terms)
        self.idf = self.sentence_postings.idf
        self.paragraph_postings = _bm25(
            self.terms, self.paragraph_of[sentence_of_token].astype(np.int64), len(paragraph_ids), n_terms
        )
        self.inherited_postings = _bm25(
            inherited_flat, np.repeat(heirs.astype(np.int64), inherited_lengths), len(lengths), n_terms
        )
        self.question_postings = _bm25(
            np.array(question_flat, dtype=np.int32),
            np.array(question_doc, dtype=np.int64),
            len(lengths),
            n_terms,
        )
        # A name is a term written with a capital in most of its uses inside sentences.
        self.names: frozenset[int] = frozenset(
            self.term_ids[key] for key, n in seen_mid_sentence.items() if capitalized[key] * 2 > n
        ) | frozenset(i for key, i in self.term_ids.items() if key.startswith("="))
        # Words of joined alias names: "Korea" alone still points at "South Korea" and "North Korea".
        alias_parts: dict[str, tuple[int, ...]] = defaultdict(tuple)
        for key, term in self.term_ids.items():
            if key.startswith("=") and " " in key:
                for part in key[1:].split():
                    alias_parts[part] += (term,)
        self.alias_parts = dict(alias_parts)
        self.unknown_idf = float(math.log1p((max(len(lengths), 1) - 1 + 0.5) / 1.5))
        self._surface_to_key = surfaces
        for group in (*analyzer.vocabulary.aliases, *analyzer.vocabulary.synonyms):
            for member in group:
                if member.isalpha() and member.lower() not in surfaces:
                    key = normalize_word(member)
                    if key in analyzer.synonyms or key in self.term_ids:
                        surfaces[member.lower()] = key
        # Spelling buckets: (length, letter) for the first and the second letter, so a typo is
        # compared with a few hundred words, not the whole vocabulary.
        self._spelling_buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
        for surface in surfaces:
            if surface.isalpha() and len(surface) >= 3:
                self._spelling_buckets[(len(surface), "1" + surface[0])].append(surface)
                self._spelling_buckets[(len(surface), "2" + surface[1])].append(surface)
        self._spelling_buckets = dict(self._spelling_buckets)
        self._corrections: dict[str, str | None] = {}
        self._spans: dict[int, tuple[Span, ...]] = {}  # spans_of's, per fact asked about
        self._stats: tuple[list[float], list[int]] | None = None
        self._keys = list(term_ids)  # term id -> key
        self._facts: tuple[Fact, ...] | None = tuple(facts)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_facts"] = None
        state["_corrections"] = {}
        state["_spans"] = {}
        state["_stats"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({name: _with_builtin_dtypes(value) for name, value in state.items()})

    def set_titles(self, titles: dict[str, str]) -> None:
        """Record each article's title terms (by article id), less any "(...)" qualifier."""
        self.title_terms = {}
        for article, title in titles.items():
            keys = [t.key for t in self.analyzer.terms(_QUALIFIER_RE.sub(" ", title))]
            if keys and all(key in self.term_ids for key in keys):
                self.title_terms[article] = frozenset(self.term_ids[key] for key in keys)

    # -- facts ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def fact(self, index: int) -> Fact:
        """The fact at ``index``, built from its stored row."""
        fid, article, paragraph, quote, spans, answer, questions, hidden = self._rows[index]
        return Fact(fid, article, paragraph, quote, tuple(Span(*s) for s in spans), answer, questions, hidden)

    def spans_of(self, index: int) -> tuple[Span, ...]:
        """The spans of the fact at ``index`` (made on first use, then kept)."""
        spans = self._spans.get(index)
        if spans is None:
            if len(self._spans) >= SPANS_KEPT:
                self._spans.clear()
            spans = self._spans[index] = tuple(Span(*s) for s in self._rows[index][4])
        return spans

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact of the index, in order (built on first use)."""
        if self._facts is None:
            self._facts = tuple(self.fact(i) for i in range(len(self._rows)))
        return self._facts

    def fact_ids(self) -> list[str]:
        return [row[0] for row in self._rows]

    def articles_of_facts(self) -> list[str]:
        return [row[1] for row in self._rows]

    def quote(self, index: int) -> str:
        return self._rows[index][3]

    def curated_answer(self, index: int) -> str | None:
        """The short answer a curator wrote for the fact at ``index``, if any."""
        return self._rows[index][5]

    def term_texts(self) -> list[str]:
        """A word as written in the articles for each term id (for embedding the vocabulary)."""
        texts = [key.lstrip("=") for key in self._keys]
        for surface, key in self._surface_to_key.items():
            term = self.term_ids.get(key)
            if term is not None and texts[term] == key.lstrip("="):
                texts[term] = surface
        return texts

    def terms_of(self, index: int) -> np.ndarray:
        """The term ids of a fact's sentence, in order."""
        return self.terms[self.term_offsets[index] : self.term_offsets[index + 1]]

    def starts_of(self, index: int) -> list[int]:
        """Where each term of a fact's sentence starts in the quote."""
        return self.starts[self.term_offsets[index] : self.term_offsets[index + 1]].tolist()

    def term_positions(self, index: int) -> tuple[Term, ...]:
        """A fact's terms with their offsets in the quote (each surface as the quote writes it)."""
        first, last = int(self.term_offsets[index]), int(self.term_offsets[index + 1])
        quote, keys = self.quote(index), self._keys
        return tuple(
            Term(keys[term], quote[start:end], start, end, capitalized)
            for term, start, end, capitalized in zip(
                self.terms[first:last].tolist(),
                self.starts[first:last].tolist(),
                self.ends[first:last].tolist(),
                self.capitals[first:last].tolist(),
                strict=True,
            )
        )

    def _term_id(self, key: str) -> int:
        term = self.term_ids.get(key)
        if term is None:
            term = self.term_ids[key] = len(self.term_ids)
        return term

    # -- questions ------------------------------------------------------------------------------

    def query_terms(self, question: str) -> list[QueryTerm]:
        """The question's content words, each with the index terms it may match."""
        out: list[QueryTerm] = []
        seen: set[str] = set()
        cue_positions = {
            m.start(g) for m in _TYPE_CUE_RE.finditer(fold(question)) for g in (1, 2, 3) if m.start(g) >= 0
        }
        terms = self.analyzer.terms(question)
        idf, paragraph_df = self._term_stats()
        # In "Who Built The Largest Lantern?" a capital says nothing about a name.
        title_case = sum(t.capitalized for t in terms) > 0.6 * len(terms) > 1
        for term in terms:
            lowered = term.surface.lower().split("'")[0]
            if lowered in QUESTION_WORDS or term.key in seen or term.start in cue_positions:
                continue
            seen.add(term.key)
            variants: dict[int, float] = {}
            own = self.term_ids.get(term.key)
            if own is not None:
                variants[own] = 1.0
            for synonym in self.analyzer.synonyms.get(term.key, ()):
                sid = self.term_ids.get(synonym)
                if sid is not None and sid not in variants:
                    variants[sid] = SYNONYM_WEIGHT
            other_form = self.term_ids.get(_NUMBER_FORMS.get(term.key, ""))
            if other_form is not None:
                variants.setdefault(other_form, 1.0)
            if term.capitalized or (own is not None and own in self.names):
                for part_of in self.alias_parts.get(term.key, ()):
                    variants.setdefault(part_of, PART_WEIGHT)
            has_synonyms = term.key in self.analyzer.synonyms
            if (
                own is None
                and not variants
                and not has_synonyms
                and not term.key.startswith("=")
                and lowered.isalpha()
            ):
                corrected = self._correct(lowered)
                if corrected is not None and term.capitalized and term.start > 0 and not title_case:
                    # A name mistyped is another name; "Norman" is not a typo of "normal".
                    corrected_id = self.term_ids.get(corrected)
                    if corrected_id is None or corrected_id not in self.names:
                        corrected = None
                if corrected is not None:
                    if corrected in self.term_ids:
                        variants.setdefault(self.term_ids[corrected], FUZZY_WEIGHT)
                    for synonym in self.analyzer.synonyms.get(corrected, ()):
                        sid = self.term_ids.get(synonym)
                        if sid is not None:
                            variants.setdefault(sid, FUZZY_WEIGHT * SYNONYM_WEIGHT)
            known = bool(variants)
            weight = max((idf[t] * w for t, w in variants.items()), default=self.unknown_idf)
            is_number = _HAS_DIGIT(term.surface) is not None
            light = lowered in LIGHT_WORDS or normalize_word(lowered) in LIGHT_WORDS
            is_name = (
                term.key.startswith("=")
                or (term.capitalized and term.start > 0)
                or (own is not None and own in self.names)
            )
            rare = known and min(paragraph_df[t] for t in variants) <= RARE_PARAGRAPHS
            out.append(
                QueryTerm(
                    rare=rare,
                    surface=term.surface,
                    key=term.key,
                    variants=tuple(variants.items()),
                    weight=weight * (0.3 if light else 1.0),
                    known=known,
                    is_number=is_number,
                    is_name=is_name and not light,
                    light=light,
                )
            )
        return out

    def _term_stats(self) -> tuple[list[float], list[int]]:
        """Each term's sentence idf and paragraph count as Python lists (faster to read one at a time)."""
        if self._stats is None:
            self._stats = (self.idf.tolist(), np.diff(self.paragraph_postings.offsets).tolist())
        return self._stats

    def _correct(self, word: str) -> str | None:
        """The indexed word a typo most likely meant: OSA distance 1 (2 for long words)."""
        if word in self._corrections:
            return self._corrections[word]
        if len(self._corrections) > 50_000:
            self._corrections.clear()
        corrected = self._closest(word)
        self._corrections[word] = corrected
        return corrected

    def _closest(self, word: str) -> str | None:
        if len(word) < 4:
            return None
        # Imported on the first unknown word, not with the module: most questions need no spelling fix.
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(word) < 7 else 2
        best: tuple[int, int, str] | None = None
        pools = (
            self._spelling_buckets.get((length, key))
            for length in range(len(word) - limit, len(word) + limit + 1)
            for key in ("1" + word[0], "2" + word[1])
        )
        for pool in pools:
            if not pool:
                continue
            for surface, distance, _ in process.extract(
                word, pool, scorer=OSA.distance, score_cutoff=limit, limit=5
            ):
                rank = (int(distance), 0 if surface[0] == word[0] else 1, surface)
                if best is None or rank < best:
                    best = rank
        return self._surface_to_key[best[2]] if best else None

    # -- search ---------------------------------------------------------------------------------

    def _accumulate(
        self, query: Iterable[QueryTerm], postings: Postings, size: int, read: list[np.ndarray] | None = None
    ) -> np.ndarray | None:
        """Each document's score in one field (None when no query term is in the field).

        ``read``, when given, collects the documents of every posting list read.
        """
        scores = None
        for qt in query:
            factor = 0.3 if qt.light else 1.0
            hits = [(hit, weight) for term, weight in qt.variants if (hit := postings.get(term)) is not None]
            if not hits:
                continue
            if scores is None:
                scores = np.zeros(size, dtype=np.float32)
            if len(qt.variants) == 1:
                (docs, weights), weight = hits[0]
                np.add.at(scores, docs, weights * (weight * factor))
            else:  # a word's best variant counts, not their sum
                best = np.zeros(size, dtype=np.float32)
                for (docs, weights), weight in hits:
                    best[docs] = np.maximum(best[docs], weights * (weight * factor))
                scores += best
            if read is not None:
                read.extend(docs for (docs, _), _ in hits)
        return scores

    def _questions_fit(self, index: int, kind: str | None) -> bool:
        kinds = self.question_kinds.get(index)
        if kind is None or not kinds or None in kinds:
            return True
        return _KIND_FAMILY.get(kind, kind) in {_KIND_FAMILY.get(k, k) for k in kinds}

    def field_scores(self, query: list[QueryTerm], kind: str | None = None) -> FieldScores | None:
        """Each fact's BM25 in every field (the paragraph field per paragraph); None when no
        query word is indexed. ``touched`` lists the facts of every posting list read."""
        if not len(self._rows) or not any(q.known for q in query):
            return None
        size = len(self._rows)
        read: list[np.ndarray] = []  # the facts of every posting list read, repeats included
        sentence = self._accumulate(query, self.sentence_postings, size, read)
        paragraph = self._accumulate(query, self.paragraph_postings, len(self.paragraph_offsets) - 1)
        inherited = self._accumulate(query, self.inherited_postings, size, read)
        from_questions = None
        if self.has_questions:
            from_questions = self._accumulate(query, self.question_postings, size)
            if from_questions is not None:
                asked = np.flatnonzero(from_questions > 0)
                for index in asked:
                    if not self._questions_fit(int(index), kind):
                        from_questions[index] = 0.0
                read.append(asked)
        return FieldScores(sentence, paragraph, inherited, from_questions, read)

    def field_matrix(self, fields: FieldScores | None, docs: np.ndarray) -> np.ndarray:
        """(len(docs), 4): the sentence, paragraph, inherited and curated-question BM25 of each fact."""
        out = np.zeros((len(docs), 4), dtype=np.float32)
        if fields is None or not len(docs):
            return out
        if fields.sentence is not None:
            out[:, 0] = fields.sentence.take(docs)
        if fields.paragraph is not None:
            out[:, 1] = fields.paragraph.take(self.paragraph_of.take(docs))
        if fields.inherited is not None:
            out[:, 2] = fields.inherited.take(docs)
        if fields.questions is not None:
            out[:, 3] = fields.questions.take(docs)
        return out

    def search(
        self,
        query: list[QueryTerm],
        limit: int = CANDIDATES,
        kind: str | None = None,
        fields: FieldScores | None = None,
    ) -> list[Ranked]:
        """The best facts for the question, best first (equal scores in fact order).

        A fact scores its sentence's BM25, plus PARAGRAPH_WEIGHT times its paragraph's, plus its
        curated questions'. Only the facts that can be among the best are scored in full: those a
        query term touches, and those of the paragraphs whose share alone ranks high enough.
        """
        if fields is None:
            fields = self.field_scores(query, kind)
        if fields is None or limit < 1:
            return []
        sentence, paragraph, inherited, from_questions, read = fields

        # Each paragraph's share of its facts' scores (``take`` gathers faster than indexing).
        share = PARAGRAPH_WEIGHT * paragraph if paragraph is not None else np.zeros(0, dtype=np.float32)

        def combined_at(docs: np.ndarray) -> np.ndarray:
            scores = sentence.take(docs) if sentence is not None else np.zeros(len(docs), dtype=np.float32)
            if paragraph is not None:
                scores += share.take(self.paragraph_of.take(docs))
            if inherited is not None:
                scores += INHERITED_WEIGHT * inherited.take(docs)
            if from_questions is not None:
                scores += QUESTIONS_WEIGHT * from_questions.take(docs)
            return scores

        # Every fact a query term touches is in ``read`` (up to once per list), so the limit-th best
        # of them bounds the limit-th best fact from below. An untouched fact scores its
        # paragraph's share exactly, so only paragraphs whose share reaches that bound can add any.
        # (A touched paragraph has a touched fact, so with fewer than limit touched facts there are
        # fewer than limit such paragraphs.)
        touched = np.concatenate(read) if read else np.zeros(0, dtype=np.int32)
        scores = combined_at(touched)
        # A fact is in ``read`` at most len(read) times, so the best limit * len(read) entries hold
        # the limit best facts.
        best = _sorted_unique(touched[scores >= _kth_best(scores, limit * len(read))]) if read else touched
        floor = _kth_best(combined_at(best), limit)
        rich = np.flatnonzero(share >= floor) if floor > 0 else np.flatnonzero(share > 0)
        docs = _sorted_unique(np.concatenate([touched[scores >= floor], self.sentences_in(rich)]))
        scores = combined_at(docs)
        return [Ranked(int(docs[i]), float(scores[i])) for i in _best_first(scores, docs, limit)]

    def sentences_in(self, paragraphs: np.ndarray) -> np.ndarray:
        """The facts of these paragraphs."""
        starts = self.paragraph_sentence_offsets[paragraphs]
        ends = self.paragraph_sentence_offsets[paragraphs + 1]
        return self.paragraph_sentences[_ranges(starts, ends)]

    def evidence(self, ranked: Ranked, query: list[QueryTerm], kind: str | None) -> Candidate:
        """How much of the question a ranked fact covers (``coverage`` and ``context_coverage`` are
        shares of the query's weight, at most 1; ``proximity`` is at most MAX_PROXIMITY)."""
        return self.evidence_of([ranked], query, kind)[0]

    def evidence_of(
        self,
        ranked: Sequence[Ranked],
        query: list[QueryTerm],
        kind: str | None,
        paragraphs: dict[int, tuple[list[int], frozenset[int]]] | None = None,
    ) -> list[Candidate]:
        """:meth:`evidence` for each of several ranked facts (what depends on the question alone is
        worked out once, and what depends on a paragraph once per paragraph: ``paragraphs`` keeps
        it, for the same question's next call)."""
        variant_terms = [frozenset(t for t, _ in qt.variants) for qt in query]
        wanted = frozenset().union(*variant_terms)
        total = sum(q.weight for q in query) or 1.0
        docs = np.array([r.index for r in ranked], dtype=np.int64)
        paragraph_of = self.paragraph_of.take(docs)
        firsts = self.paragraph_offsets.take(paragraph_of)
        ends = self.paragraph_offsets.take(paragraph_of + 1)
        seen = {} if paragraphs is None else paragraphs
        out = []
        for r, paragraph, first, last, start, end, previous_start in zip(
            ranked,
            paragraph_of.tolist(),
            firsts.tolist(),
            ends.tolist(),
            (self.term_offsets.take(docs) - firsts).tolist(),
            (self.term_offsets.take(docs + 1) - firsts).tolist(),
            (self.term_offsets.take(np.maximum(docs - 1, 0)) - firsts).tolist(),
            strict=True,
        ):
            terms = seen.get(paragraph)
            if terms is None:
                # The paragraph's terms give the sentence's, the previous sentence's and the
                # paragraph's; only the query's own terms matter, so each set holds just those.
                paragraph_terms = self.terms[first:last].tolist()
                terms = seen[paragraph] = (paragraph_terms, wanted.intersection(paragraph_terms))
            out.append(
                self._evidence(
                    r.index,
                    r.score,
                    query,
                    kind,
                    wanted,
                    total,
                    variant_terms,
                    *terms,
                    start,
                    end,
                    previous_start,
                )
            )
        return out

    def _evidence(
        self,
        index: int,
        score: float,
        query: list[QueryTerm],
        kind: str | None,
        wanted: frozenset[int],
        total: float,
        variant_terms: list[frozenset[int]],
        paragraph_terms: list[int],
        context: frozenset[int],
        start: int,
        end: int,
        previous_start: int,
    ) -> Candidate:
        """:meth:`evidence` of fact ``index``, whose paragraph's terms are ``paragraph_terms`` (those the
        question has: ``context``) and its own ``paragraph_terms[start:end]`` (the previous fact's
        start at ``previous_start``)."""
        sentence_terms = paragraph_terms[start:end]
        own = wanted.intersection(sentence_terms)
        curated = self.question_terms.get(index)
        if curated and self._questions_fit(index, kind):
            own |= wanted.intersection(curated)
        previous = wanted.intersection(paragraph_terms[previous_start:start]) if start > 0 else frozenset()
        # A question that names an article's title ("Victoria" of "Victoria (Australia)") names
        # what each of its sentences is about, named there or not: unless the sentence names
        # someone or something else the question does not ("His daughter Ingrid ...").
        title = self.title_terms.get(self._rows[index][1], frozenset())
        if title and (
            not title <= wanted or any(t in self.names and t not in wanted for t in sentence_terms)
        ):
            title = frozenset()
        inherits = bool(self.inherits[index])
        covered = 0.0
        covered_context = 0.0
        matched: set[str] = set()
        missing_names: list[str] = []
        missing_numbers: list[str] = []
        names_not_in_sentence = 0
        names_only_not_in_sentence = 0
        in_own = [False] * len(query)  # does a variant of each query word stand in ``own``
        touched = own | previous | context
        for number, qt in enumerate(query):
            in_sentence = in_context = 0.0  # the best weight of a variant found there
            in_previous = False
            if touched.isdisjoint(variant_terms[number]):  # the word is nowhere near: nothing to add
                if qt.is_name or qt.is_number:
                    in_title = qt.is_name and not title.isdisjoint(variant_terms[number])
                    if qt.is_number:
                        missing_numbers.append(qt.surface)
                    elif qt.rare and not in_title:
                        missing_names.append(qt.surface)
                    if not in_title:
                        names_not_in_sentence += 1
                        names_only_not_in_sentence += qt.is_name
                continue
            for term, weight in qt.variants:
                if term in own:
                    in_own[number] = True
                    if weight > in_sentence:
                        in_sentence = weight
                elif inherits and term in previous and INHERITED_COVERAGE * weight > in_sentence:
                    in_sentence = INHERITED_COVERAGE * weight
                if term in context and weight > in_context:
                    in_context = weight
                in_previous = in_previous or term in previous
            if in_sentence:
                matched.add(qt.key)
                covered += qt.weight * in_sentence
            covered_context += qt.weight * (
                in_sentence if in_sentence > 0.8 * in_context else 0.8 * in_context
            )
            in_title = qt.is_name and any(term in title for term, _ in qt.variants)
            if qt.is_number and not in_context:
                missing_numbers.append(qt.surface)
            elif qt.is_name and qt.rare and not in_context and not in_title:
                missing_names.append(qt.surface)
            # "The three countries" in a sentence often names what the sentence before it did.
            if (qt.is_name or qt.is_number) and not in_sentence and not in_previous and not in_title:
                names_not_in_sentence += 1
                names_only_not_in_sentence += qt.is_name
        together = 0.0
        # Two neighbouring query words close together in the sentence; only pairs both found count.
        pairs = [n for n in range(len(query) - 1) if in_own[n] and in_own[n + 1]]
        if pairs:
            positions: dict[int, list[int]] = defaultdict(list)
            for position, term_id in enumerate(sentence_terms):
                if term_id in own:
                    positions[term_id].append(position)
            for n in pairs:
                one_at = [p for t, _ in query[n].variants for p in positions.get(t, ())]
                next_at = [p for t, _ in query[n + 1].variants for p in positions.get(t, ())]
                if any(0 < b - a <= 2 for a in one_at for b in next_at):
                    together += query[n].weight + query[n + 1].weight
        return Candidate(
            proximity=together / total,
            index=index,
            score=score,
            coverage=covered / total,
            context_coverage=covered_context / total,
            matched=frozenset(matched),
            missing_names=tuple(missing_names),
            missing_numbers=tuple(missing_numbers),
            names_not_in_sentence=names_not_in_sentence,
            names_only_not_in_sentence=names_only_not_in_sentence,
        )
