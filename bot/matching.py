"""Matching a question against the facts: analysis into index terms, then a ranked search.

Terms are Snowball stems after spelling normalisation, with aliases joined into one term
("ROK", "Seoul" and "South Korea" are all ``=south korea``). A question's words become weighted
variants: the word itself, its synonyms (discounted), or, for a word the index has never seen,
the closest indexed spelling (typos). Facts are ranked by BM25 over the sentence, plus BM25 over
the sentence's paragraph (context), plus curated questions; the best few are then re-scored on
how much of the question they cover.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.facts import Vocabulary
from bot.model import Fact
from bot.text import LIGHT_WORDS, QUESTION_WORDS, STOP_WORDS, Token, fold, normalize_word, tokenize

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
CANDIDATES = 40

# Words that only say what kind of answer is wanted: "how MANY", "what KINDS of", "how LONG".
_TYPE_CUE_RE = re.compile(
    r"\b(?:how\s+(much|many|long|far|often|fast|big|large|old|soon)"
    r"|(kinds?|types?|sorts?|forms?)\s+of"
    r"|(?:what|which|the)\s+(dates?|years?|days?|months?|time|name|country|countries|city|cities"
    r"|place|location|person|percentage|percent|share|portion|proportion|fraction|amount))\b",
    re.IGNORECASE,
)

# "us" is a pronoun unless written "US" or used as a name in an all-lower-case question.
_PRONOUN_CONTEXT = frozenset("tell give show let help for to with about among of teach send".split())


@dataclass(frozen=True)
class Term:
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

    def _add_phrase(self, member: str, canonical: str) -> None:
        stems = tuple(t.stem for t in tokenize(member))
        if not stems:
            return
        self._phrases[stems] = canonical
        if len(stems) == 1 and member.isupper() and member.lower().strip(".") in STOP_WORDS:
            self._case_sensitive.add(stems)

    def terms(self, text: str, *, keep_stop_words: bool = False) -> list[Term]:
        """Content terms of ``text`` in order, aliases joined."""
        tokens = tokenize(text)
        lower_text = not any(ch.isupper() for ch in text)
        out: list[Term] = []
        i = 0
        while i < len(tokens):
            matched = self._match_phrase(tokens, i, lower_text)
            if matched:
                length, key = matched
                first, last = tokens[i], tokens[i + length - 1]
                out.append(
                    Term(key, text[first.start : last.end], first.start, last.end, first.is_capitalized)
                )
                i += length
                continue
            token = tokens[i]
            lowered = token.surface.lower()
            if keep_stop_words or lowered not in STOP_WORDS:
                out.append(Term(token.stem, token.surface, token.start, token.end, token.is_capitalized))
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


@dataclass(frozen=True)
class QueryTerm:
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


@dataclass(frozen=True)
class Candidate:
    """A fact the search ranked high, with the evidence the answer builder needs."""

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
    only_names: bool = False


def _bm25_weights(
    doc_terms: list[list[int]], n_terms: int
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per-term postings (doc ids, BM25 term weights) and the idf of every term."""
    n_docs = max(len(doc_terms), 1)
    lengths = np.array([len(t) for t in doc_terms] or [0], dtype=np.float32)
    avg = float(lengths.mean()) or 1.0
    docs_of: dict[int, list[int]] = defaultdict(list)
    tfs_of: dict[int, list[int]] = defaultdict(list)
    for doc, terms in enumerate(doc_terms):
        for term, tf in Counter(terms).items():
            docs_of[term].append(doc)
            tfs_of[term].append(tf)
    df = np.zeros(n_terms, dtype=np.float32)
    postings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for term, docs in docs_of.items():
        df[term] = len(docs)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    for term, docs in docs_of.items():
        doc_ids = np.array(docs, dtype=np.int32)
        tf = np.array(tfs_of[term], dtype=np.float32)
        norm = K1 * (1 - B + B * lengths[doc_ids] / avg)
        postings[term] = (doc_ids, (idf[term] * tf * (K1 + 1) / (tf + norm)).astype(np.float32))
    return postings, idf


class FactIndex:
    """The searchable form of the visible facts. Built once at load; read-only afterwards."""

    def __init__(self, facts: Sequence[Fact], analyzer: Analyzer) -> None:
        self.facts = tuple(facts)
        self.analyzer = analyzer
        self.term_ids: dict[str, int] = {}
        sentence_terms: list[list[Term]] = [analyzer.terms(f.quote) for f in self.facts]
        self.fact_terms: list[list[int]] = [[self._term_id(t.key) for t in terms] for terms in sentence_terms]
        self.fact_term_sets: list[frozenset[int]] = [frozenset(t) for t in self.fact_terms]
        self.fact_term_spans: list[tuple[Term, ...]] = [tuple(t) for t in sentence_terms]
        paragraph_ids: dict[tuple[str, int], int] = {}
        paragraph_terms: list[list[int]] = []
        self.paragraph_of = np.zeros(len(self.facts), dtype=np.int32)
        for i, fact in enumerate(self.facts):
            key = (fact.article, fact.paragraph)
            if key not in paragraph_ids:
                paragraph_ids[key] = len(paragraph_terms)
                paragraph_terms.append([])
            self.paragraph_of[i] = paragraph_ids[key]
            paragraph_terms[paragraph_ids[key]].extend(self.fact_terms[i])
        self.paragraph_term_sets = [frozenset(t) for t in paragraph_terms]
        question_terms = [
            [self._term_id(t.key) for q in f.questions for t in analyzer.terms(q)] for f in self.facts
        ]
        self.has_questions = any(question_terms)
        capitalized: Counter[str] = Counter()
        seen_mid_sentence: Counter[str] = Counter()
        for terms in sentence_terms:
            for t in terms:
                if t.start > 0:
                    seen_mid_sentence[t.key] += 1
                    capitalized[t.key] += t.capitalized
        # A name is a term written with a capital in most of its uses inside sentences.
        self.names: frozenset[int] = frozenset(
            self.term_ids[key] for key, n in seen_mid_sentence.items() if capitalized[key] * 2 > n
        ) | frozenset(i for key, i in self.term_ids.items() if key.startswith("="))
        # Words of joined alias names: "Korea" alone still points at "South Korea" and "North Korea".
        self.alias_parts: dict[str, tuple[int, ...]] = defaultdict(tuple)
        for key, term_id in self.term_ids.items():
            if key.startswith("=") and " " in key:
                for part in key[1:].split():
                    self.alias_parts[part] += (term_id,)
        self.alias_parts = dict(self.alias_parts)
        self.sentence_postings, self.idf = _bm25_weights(self.fact_terms, len(self.term_ids))
        self.paragraph_postings, _ = _bm25_weights(paragraph_terms, len(self.term_ids))
        self.paragraph_df = np.zeros(len(self.term_ids), dtype=np.int32)
        for term, (docs, _) in self.paragraph_postings.items():
            self.paragraph_df[term] = len(docs)
        self.question_postings, _ = _bm25_weights(question_terms, len(self.term_ids))
        n_docs = max(len(self.facts), 1)
        self.unknown_idf = float(math.log1p((n_docs - 1 + 0.5) / 1.5))
        surfaces: dict[str, str] = {}
        for terms in sentence_terms:
            for t in terms:
                surfaces.setdefault(t.surface.lower(), t.key)
        self._surface_to_key = surfaces
        self._surfaces_by_length: dict[int, list[str]] = defaultdict(list)
        for surface in surfaces:
            if surface.isalpha():
                self._surfaces_by_length[len(surface)].append(surface)
        for group in (*analyzer.vocabulary.aliases, *analyzer.vocabulary.synonyms):
            for member in group:
                if member.isalpha() and member.lower() not in surfaces:
                    key = normalize_word(member)
                    if any(key == k for k in analyzer.synonyms) or key in self.term_ids:
                        surfaces[member.lower()] = key
                        self._surfaces_by_length[len(member)].append(member.lower())
        self._corrections: dict[str, str | None] = {}

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
        for term in self.analyzer.terms(question):
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
                if corrected is not None:
                    if corrected in self.term_ids:
                        variants.setdefault(self.term_ids[corrected], FUZZY_WEIGHT)
                    for synonym in self.analyzer.synonyms.get(corrected, ()):
                        sid = self.term_ids.get(synonym)
                        if sid is not None:
                            variants.setdefault(sid, FUZZY_WEIGHT * SYNONYM_WEIGHT)
            known = bool(variants)
            weight = max((float(self.idf[t]) * w for t, w in variants.items()), default=self.unknown_idf)
            is_number = any(ch.isdigit() for ch in term.surface)
            light = lowered in LIGHT_WORDS or normalize_word(lowered) in LIGHT_WORDS
            is_name = (
                term.key.startswith("=")
                or (term.capitalized and term.start > 0)
                or (own is not None and own in self.names)
            )
            rare = known and min(int(self.paragraph_df[t]) for t, _ in variants.items()) <= RARE_PARAGRAPHS
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
        limit = 1 if len(word) < 7 else 2
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            pool = self._surfaces_by_length.get(length)
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
        self, query: Iterable[QueryTerm], postings: dict[int, tuple[np.ndarray, np.ndarray]], size: int
    ) -> np.ndarray:
        scores = np.zeros(size, dtype=np.float32)
        for qt in query:
            factor = 0.3 if qt.light else 1.0
            if len(qt.variants) == 1:
                term, weight = qt.variants[0]
                hit = postings.get(term)
                if hit is not None:
                    scores[hit[0]] += hit[1] * (weight * factor)
                continue
            best = np.zeros(size, dtype=np.float32)
            touched = False
            for term, weight in qt.variants:
                hit = postings.get(term)
                if hit is not None:
                    best[hit[0]] = np.maximum(best[hit[0]], hit[1] * (weight * factor))
                    touched = True
            if touched:
                scores += best
        return scores

    def search(self, query: list[QueryTerm], limit: int = CANDIDATES) -> list[Candidate]:
        """The best facts for the question, best first, with coverage evidence."""
        if not self.facts or not any(q.known for q in query):
            return []
        sentence = self._accumulate(query, self.sentence_postings, len(self.facts))
        paragraph = self._accumulate(query, self.paragraph_postings, len(self.paragraph_term_sets))
        combined = sentence + PARAGRAPH_WEIGHT * paragraph[self.paragraph_of]
        if self.has_questions:
            combined += QUESTIONS_WEIGHT * self._accumulate(query, self.question_postings, len(self.facts))
        count = min(limit, len(self.facts))
        top = np.argpartition(-combined, count - 1)[:count] if count < len(self.facts) else np.arange(count)
        top = [int(i) for i in top if combined[i] > 0]
        candidates = [self._evidence(i, float(combined[i]), query) for i in top]
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def _evidence(self, index: int, score: float, query: list[QueryTerm]) -> Candidate:
        own = self.fact_term_sets[index]
        previous = (
            self.fact_term_sets[index - 1]
            if index > 0 and self.paragraph_of[index - 1] == self.paragraph_of[index]
            else frozenset()
        )
        context = self.paragraph_term_sets[int(self.paragraph_of[index])]
        total = sum(q.weight for q in query) or 1.0
        covered = 0.0
        covered_context = 0.0
        matched: set[str] = set()
        missing_names: list[str] = []
        missing_numbers: list[str] = []
        names_not_in_sentence = 0
        names_only_not_in_sentence = 0
        for qt in query:
            in_sentence = max((w for t, w in qt.variants if t in own), default=0.0)
            in_context = max((w for t, w in qt.variants if t in context), default=0.0)
            if in_sentence:
                matched.add(qt.key)
            covered += qt.weight * in_sentence
            covered_context += qt.weight * max(in_sentence, 0.8 * in_context)
            if qt.is_number and not in_context:
                missing_numbers.append(qt.surface)
            elif qt.is_name and qt.rare and not in_context:
                missing_names.append(qt.surface)
            # "The three countries" in a sentence often names what the sentence before it did.
            if (
                (qt.is_name or qt.is_number)
                and not in_sentence
                and not any(t in previous for t, _ in qt.variants)
            ):
                names_not_in_sentence += 1
                names_only_not_in_sentence += qt.is_name
        positions: dict[int, list[int]] = defaultdict(list)
        for position, term_id in enumerate(self.fact_terms[index]):
            positions[term_id].append(position)
        together = 0.0
        for first, second in itertools.pairwise(query):
            first_at = [p for t, _ in first.variants for p in positions.get(t, ())]
            second_at = [p for t, _ in second.variants for p in positions.get(t, ())]
            if any(0 < b - a <= 2 for a in first_at for b in second_at):
                together += first.weight + second.weight
        words = [q for q in query if q.known and not q.is_name and not q.is_number and not q.light]
        only_names = bool(words) and not any(q.key in matched for q in words)
        return Candidate(
            only_names=only_names,
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


def words_of(text: str) -> list[str]:
    """Lower-case words, for the rare place that needs raw words rather than terms."""
    return re.findall(r"[a-z0-9]+", text.lower())
