"""The engine's front door: load the fact index once, then answer questions from it.

This module and everything it imports never import Slack.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import pickle
import re
from bisect import bisect_left
from collections import Counter
from pathlib import Path

from bot.answers import (
    STRICT_TYPES,
    counts_a_question_word,
    extract,
    head_word,
    name_given,
    question_type,
    span_fit,
    within_bounds,
    year_bounds,
)
from bot.errors import IndexMissingError
from bot.facts import ALIASES_FILE, collector_paused, facts_paths, load_facts_files, load_vocabulary
from bot.matching import MAX_PROXIMITY, Analyzer, Candidate, FactIndex, QueryTerm, Ranked
from bot.model import Answer, ArticleInfo, Fact, Source, Span
from bot.text import common_english

logger = logging.getLogger(__name__)

# Answers below this confidence are declined. Confidence 0.5 means the fact covers 27.5% of the
# question's weight (sentence and paragraph averaged); 1.0 means 55% or more.
CONFIDENCE_THRESHOLD = 0.5
FULL_CONFIDENCE_COVERAGE = 0.55
# A question whose words are mostly unknown to every article is about something else. A common
# English word that is not a name counts COMMON_UNKNOWN_WEIGHT for this share: it may be a
# paraphrase ("shipped" for "exported"), so it is answered, but only by a fact that matches the
# rest well: confidence at least PARAPHRASE_CONFIDENCE_THRESHOLD, and PARAPHRASE_MIN_SHARED of its words.
MAX_UNKNOWN_SHARE = 0.3
COMMON_UNKNOWN_WEIGHT = 0.25
PARAPHRASE_CONFIDENCE_THRESHOLD = 0.9
PARAPHRASE_MIN_SHARED = 2
NAME_MISSING_PENALTY = 0.5
# The question asks for a date, an amount, a count... and the fact has none.
STRICT_TYPE_PENALTY = 0.5
# Amounts and counts are written with digits, $ and % (or number words): a fact without one surely
# does not hold the answer. Dates are written in more ways than the spans know ("in the reign of").
AMOUNT_TYPES = frozenset({"money", "percent", "amount", "change"})
AMOUNT_TYPE_PENALTY = 0.3
VALUE_TYPES = frozenset({"money", "percent", "amount", "change", "count", "date", "year", "day"})
# An amount or date from a sentence that does not name the question's subject is likely someone else's.
SUBJECT_MISSING_PENALTY = 0.7
TYPE_BONUS = 0.25
# A question asking for a date or an amount is answered by a sentence that has one.
VALUE_TYPE_BONUS = 0.6
NAME_MISSING_FACTOR = 0.9
# In a keyword question ("south korea defence spending") every name was chosen on purpose.
KEYWORD_NAME_MISSING_FACTOR = 0.6
LIST_BONUS = 0.15
_YEAR_RE = re.compile(r"\d{4}\b")
_WH_RE = re.compile(r"\b(?:what|when|where|which|who|whom|whose|why|how)\b", re.IGNORECASE)
_LIST_QUESTION_RE = re.compile(r"\b(?:kinds?|types?|sorts?|forms?|examples?)\s+of\b", re.IGNORECASE)
_ENUMERATION_RE = re.compile(
    r"\b(?:such as|including|includes?|from\s+\w+(?:\s+\w+)?\s+to|ranging|like|e\.g\.)\b"
)
COVERAGE_WEIGHT = 0.5
PROXIMITY_BONUS = 0.2
MAX_QUESTION_CHARS = 500
CACHE_VERSION = "2"


class Engine:
    """Answers questions from a loaded fact index. Safe to share between threads."""

    def __init__(self, index: FactIndex, titles: dict[str, str], urls: dict[str, str | None]) -> None:
        self._index = index
        self._titles = titles
        self._urls = urls
        self._by_id = {fid: i for i, fid in enumerate(index.fact_ids())}
        self._counts = Counter(index.articles_of_facts())
        self._topics = _topics_of(index.facts)

    @property
    def index(self) -> FactIndex:
        """The fact index the engine searches (read-only; benchmarks time its steps)."""
        return self._index

    # -- loading --------------------------------------------------------------------------------

    @classmethod
    def load(cls, facts_dir: Path = Path("facts"), seeds_dir: Path = Path("seeds")) -> Engine:
        """Load the index built by ``factbot build`` (IndexMissingError / FactsFileError).

        What is loaded is then frozen out of the cyclic garbage collector (``gc.freeze``): the
        index lives as long as the process, and a full collection walking its millions of objects
        would hold up an answer by about 0.1 s at 100,000 facts.
        """
        common_english()  # read at start-up, so a broken install fails here and not in a question
        with collector_paused():
            engine = cls._load(facts_dir, seeds_dir)
            gc.freeze()
        return engine

    @classmethod
    def _load(cls, facts_dir: Path, seeds_dir: Path) -> Engine:
        paths = facts_paths(facts_dir)
        if not paths:
            raise IndexMissingError(
                f"no fact index in {facts_dir}/: run `factbot build` (it reads the articles in {seeds_dir}/)"
            )
        cache = _cache_path(facts_dir, paths)
        if cache is not None and cache.is_file():
            try:
                with cache.open("rb") as handle:
                    engine = pickle.load(handle)
                if isinstance(engine, Engine):
                    return engine
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
                logger.info("index cache %s unreadable (%s); rebuilding it", cache, exc)
        engine = cls._compile(facts_dir)
        if cache is not None:
            _write_cache(cache, engine)
        return engine

    @classmethod
    def _compile(cls, facts_dir: Path) -> Engine:
        files = load_facts_files(facts_dir)
        vocabulary = load_vocabulary(facts_dir)
        # A fact added by hand at the end of a file still joins its paragraph's neighbours.
        article_order = {file.article: i for i, file in enumerate(files)}
        facts = sorted(
            (f for file in files for f in file.facts if not f.hidden),
            key=lambda f: (article_order[f.article], f.paragraph),
        )
        index = FactIndex(facts, Analyzer(vocabulary))
        index.question_kinds = {
            i: frozenset(question_type(q) for q in fact.questions)
            for i, fact in enumerate(facts)
            if fact.questions
        }
        titles = {file.article: file.title for file in files}
        index.set_titles(titles)
        urls = {file.article: file.url for file in files}
        logger.info("loaded %d facts from %d articles", len(facts), len(files))
        return cls(index, titles, urls)

    # -- questions ------------------------------------------------------------------------------

    def ask(self, question: str) -> Answer:
        """Answer one question, or decline with up to three suggestions."""
        text = " ".join(question.split())[:MAX_QUESTION_CHARS]
        kind = question_type(text)
        bounds = year_bounds(text)
        query = self._index.query_terms(text)
        ranked = self._index.search(query, kind=kind)
        threshold = _confidence_needed(query)
        choice = None
        if threshold is not None:
            # A possible paraphrase needs more than one word in common to go on.
            shared = PARAPHRASE_MIN_SHARED if threshold > CONFIDENCE_THRESHOLD else 1
            choice = self._choose(ranked, query, kind, bounds, text, threshold, shared)
        if choice is None:
            return self._decline(text, ranked)
        candidate, confidence = choice
        named = self._named(candidate.index, text, kind)
        if named is not None:  # "What is ... called?" and a sentence says "This is called X."
            index, short = named
        else:
            index = candidate.index
            hits = self._hits(index, _hit_weights(query))
            short = extract(
                self._index.fact(index),
                self._index.term_positions(index),
                hits,
                kind,
                self._span_overlap(index, hits),
                bounds,
                self._head_key(text, query),
            ).text
        fact = self._index.fact(index)
        return Answer(
            question=text,
            answered=True,
            answer=short,
            quote=fact.quote,
            source=self.source(fact),
            confidence=confidence,
            suggestions=(),
            fact_id=fact.id,
        )

    def _choose(
        self,
        ranked: list[Ranked],
        query: list[QueryTerm],
        kind: str | None,
        bounds: tuple[int | None, int | None],
        question: str,
        threshold: float = CONFIDENCE_THRESHOLD,
        shared: int = 1,
    ) -> tuple[Candidate, float] | None:
        """The ranked fact that best answers the question, with its confidence (None to decline:
        nothing ranked, or the best has confidence below ``threshold`` or fewer than ``shared`` of
        the question's words).

        A fact's rank is its score, lowered for what the question has that its sentence lacks, plus
        a ``_lift`` of at most ``headroom`` (the lift at its inputs' maxima: answer-type quality 1,
        proximity MAX_PROXIMITY, a listing): once a fact's score plus that cannot beat the best rank
        so far, no fact after it can either, so their evidence is never computed.
        """
        if not ranked:
            return None
        top = ranked[0].score
        asks = bool(_WH_RE.search(question))
        wants_list = bool(_LIST_QUESTION_RE.search(question))
        typed_at_most = 0.0 if kind is None else 1.0  # _answer_span_quality
        headroom = _lift(top, kind, typed_at_most, MAX_PROXIMITY, wants_list) * (1 + 1e-9)  # and rounding
        best: tuple[float, Candidate, float] | None = None
        weights = _hit_weights(query)
        for hit in ranked:
            if best is not None and hit.score + headroom < best[0]:
                break
            candidate = self._index.evidence(hit, query, kind)
            typed = self._answer_span_quality(
                candidate.index, weights, kind, bounds, candidate.names_only_not_in_sentence > 0
            )
            confidence = self._confidence(candidate, kind, typed)
            rank = candidate.score * (1 - COVERAGE_WEIGHT + COVERAGE_WEIGHT * candidate.coverage)
            rank *= (
                NAME_MISSING_FACTOR if asks else KEYWORD_NAME_MISSING_FACTOR
            ) ** candidate.names_not_in_sentence
            lists = wants_list and bool(_ENUMERATION_RE.search(self._index.quote(candidate.index)))
            rank += _lift(top, kind, typed, candidate.proximity, lists)
            if best is None or rank > best[0]:
                best = (rank, candidate, confidence)
        if best is None or best[2] < threshold or len(best[1].matched) < shared:
            return None
        return best[1], best[2]

    @staticmethod
    def _confidence(candidate: Candidate, kind: str | None, typed: float) -> float:
        """How sure an answer is: the share of the question the fact covers, less what speaks against it."""
        if candidate.missing_numbers:
            return 0.0
        coverage = 0.5 * (candidate.coverage + candidate.context_coverage)
        confidence = min(1.0, coverage / FULL_CONFIDENCE_COVERAGE)
        if candidate.missing_names:
            confidence *= NAME_MISSING_PENALTY
        if kind is not None:
            # No span of the wanted kind costs the most; a poor one (a count of something else,
            # a year for "what dates") costs less.
            if kind in AMOUNT_TYPES or kind == "count":
                floor = AMOUNT_TYPE_PENALTY
            elif kind in STRICT_TYPES:
                floor = STRICT_TYPE_PENALTY
            else:
                floor = 0.8
            confidence *= floor + (1 - floor) * min(1.0, typed)
            if kind in VALUE_TYPES and candidate.names_only_not_in_sentence:
                confidence *= SUBJECT_MISSING_PENALTY
        return max(0.0, confidence)

    def _named(self, index: int, question: str, kind: str | None) -> tuple[int, str] | None:
        """When the question asks what something is called: the fact that names it and the name.

        That is fact ``index`` itself ("This process is called annealing, and ...") or, when it
        describes the thing, the paragraph's next fact. A curator's answer is never overridden.
        """
        if kind not in (None, "name") or self._index.curated_answer(index):
            return None
        name = name_given(question, self._index.quote(index))
        if name is not None:
            return index, name
        following = index + 1
        paragraph_of = self._index.paragraph_of
        if following >= len(self._index) or paragraph_of[following] != paragraph_of[index]:
            return None
        name = name_given(question, self._index.quote(following))
        return None if name is None else (following, name)

    @staticmethod
    def _head_key(question: str, query: list[QueryTerm]) -> str | None:
        word = head_word(question)
        if word is None:
            return None
        return next((q.key for q in query if q.surface.lower() == word.lower()), None)

    def _hits(self, index: int, weights: dict[int, tuple[float, bool]]) -> list[tuple[int, float, bool]]:
        """(position, weight, is a name) of each term of the fact's sentence that the question has."""
        return [
            (position, *weights[term_id])
            for position, term_id in enumerate(self._index.terms_of(index).tolist())
            if term_id in weights
        ]

    def _span_overlap(
        self, index: int, hits: list[tuple[int, float, bool]], spans: tuple[Span, ...] | None = None
    ) -> dict[int, float]:
        """For each span of the fact, the share of its words that the question already has."""
        starts = self._index.starts_of(index)
        hit_positions = {p for p, _, _ in hits}
        overlap: dict[int, float] = {}
        for span in self._index.spans_of(index) if spans is None else spans:
            # The terms starting inside the span (starts ascend).
            inside = list(range(bisect_left(starts, span.start), bisect_left(starts, span.end)))
            if span.kind == "date":
                # "May 26–27, 2024" answers "the dates of the 2024 summit": the year is not the news.
                quote = self._index.quote(index)
                inside = [i for i in inside if not _YEAR_RE.match(quote, starts[i])]
            if inside:
                overlap[span.start] = sum(1 for i in inside if i in hit_positions) / len(inside)
        return overlap

    def _answer_span_quality(
        self,
        index: int,
        weights: dict[int, tuple[float, bool]],
        kind: str | None,
        bounds: tuple[int | None, int | None],
        subject_missing: bool = False,
    ) -> float:
        """0 when the fact holds no span of the wanted kind; up to 1 for a new span of the best kind."""
        if kind is None:
            return 0.0
        all_spans = self._index.spans_of(index)
        spans = [s for s in all_spans if span_fit(s, kind) and within_bounds(s, bounds)]
        if not spans:
            return 0.0
        hits = self._hits(index, weights)
        overlap = self._span_overlap(index, hits, all_spans)
        starts = self._index.starts_of(index)

        def fit(span: Span) -> float:
            counted = kind != "count" or counts_a_question_word(span, starts, hits)
            return span_fit(span, kind) * (1.0 - overlap.get(span.start, 0.0)) * (1.0 if counted else 0.4)

        quality = max(fit(s) for s in spans)
        if kind in VALUE_TYPES and subject_missing:
            quality *= 0.5  # an amount or a date, but of something the question does not name
        return quality

    def _decline(self, question: str, ranked: list[Ranked]) -> Answer:
        suggestions: list[str] = []
        seen: set[str] = set()
        for hit in ranked:
            suggestion = self._suggestion(self._index.fact(hit.index))
            if suggestion.lower() not in seen:
                seen.add(suggestion.lower())
                suggestions.append(suggestion)
            if len(suggestions) == 3:
                break
        for topic in self.topics(3):
            if len(suggestions) == 3:
                break
            if topic.lower() not in seen:
                seen.add(topic.lower())
                suggestions.append(topic)
        return Answer(question=question, answered=False, suggestions=tuple(suggestions))

    @staticmethod
    def _suggestion(fact: Fact) -> str:
        if fact.questions:
            return fact.questions[0]
        words = fact.quote.split()
        text = " ".join(words[:12])
        return text + ("…" if len(words) > 12 else "")

    # -- what it knows --------------------------------------------------------------------------

    def articles(self) -> tuple[ArticleInfo, ...]:
        """The indexed articles, in file order."""
        return tuple(
            ArticleInfo(stem, title, self._urls.get(stem), self._counts.get(stem, 0))
            for stem, title in self._titles.items()
        )

    def facts(self) -> tuple[Fact, ...]:
        """Every fact that is not hidden, in article then paragraph order."""
        return self._index.facts

    def fact(self, fact_id: str) -> Fact | None:
        """The fact with this id, or None."""
        index = self._by_id.get(fact_id)
        return None if index is None else self._index.fact(index)

    def source(self, fact: Fact) -> Source:
        """Where a fact's quote stands."""
        return Source(
            fact.article,
            self._titles.get(fact.article, fact.article),
            fact.paragraph,
            self._urls.get(fact.article),
        )

    def topics(self, limit: int = 12) -> tuple[str, ...]:
        """Things the engine can answer about: curated questions first, then the most named things."""
        questions, names = self._topics
        picked = list(questions[: max(limit // 2, limit - len(names))])
        for name in names:
            if len(picked) >= limit:
                break
            if name not in picked:
                picked.append(name)
        return tuple(picked[:limit])


def _topics_of(facts: tuple[Fact, ...], keep: int = 50) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Curated questions (one per fact) and the most named things, computed once per index."""
    questions = tuple(f.questions[0] for f in facts if f.questions)[:keep]
    names: Counter[str] = Counter()
    for fact in facts:
        for span in fact.spans:
            if span.kind in ("person", "org", "place", "name") and len(span.text) > 2:
                names[re.sub(r"['’]s$", "", span.text)] += 1
    return questions, tuple(name for name, _ in names.most_common(keep))


def _hit_weights(query: list[QueryTerm]) -> dict[int, tuple[float, bool]]:
    """For each index term the question matches: its weight there and whether it is a name.

    A term that is a variant of several question words counts for the first of them.
    """
    weights: dict[int, tuple[float, bool]] = {}
    for qt in query:
        for term, weight in qt.variants:
            if weight and term not in weights:
                weights[term] = (qt.weight * weight, qt.is_name)
    return weights


def _lift(top: float, kind: str | None, typed: float, proximity: float, lists: bool) -> float:
    """What re-ranking adds to a fact's score (``top``: the best score): for a span of the wanted
    type (``typed`` in 0..1), for the question's words standing together, for a list when a list
    is asked for. It only grows with each input."""
    bonus = VALUE_TYPE_BONUS if kind in STRICT_TYPES else TYPE_BONUS
    return top * (bonus * typed + PROXIMITY_BONUS * proximity + (LIST_BONUS if lists else 0.0))


def _confidence_needed(query: list[QueryTerm]) -> float | None:
    """The confidence an answer needs, from the words of the question that no article uses.

    None (decline) when they are too much of the question: it is about something else. When they
    are only too much counting every word in full, but not with common English words (names
    excepted) counted at COMMON_UNKNOWN_WEIGHT, it may be a paraphrase: PARAPHRASE_CONFIDENCE_THRESHOLD.
    """
    total = sum(q.weight for q in query)
    if not total:
        return None
    unknown = [q for q in query if not q.known]
    if sum(q.weight for q in unknown) <= MAX_UNKNOWN_SHARE * total:
        return CONFIDENCE_THRESHOLD
    common = common_english()
    discounted = sum(
        # The list is in lower case: a capitalised word ("Norwegian") is a name and counts in full.
        q.weight * (COMMON_UNKNOWN_WEIGHT if q.surface.split("'")[0] in common else 1.0)
        for q in unknown
    )
    return PARAPHRASE_CONFIDENCE_THRESHOLD if discounted <= MAX_UNKNOWN_SHARE * total else None


def _cache_path(facts_dir: Path, paths: list[Path]) -> Path | None:
    """A cache file named by everything the compiled index depends on."""
    digest = hashlib.sha1(CACHE_VERSION.encode())
    try:
        for path in [*paths, facts_dir / ALIASES_FILE]:
            if path.exists():
                stat = path.stat()
                digest.update(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        for module in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(f"{module.name}:{module.stat().st_mtime_ns}".encode())
    except OSError:
        return None
    folder = hashlib.sha1(str(facts_dir.resolve()).encode()).hexdigest()[:8]
    return facts_dir.resolve().parent / ".factbot-cache" / f"index-{folder}-{digest.hexdigest()[:16]}.pickle"


def _write_cache(cache: Path, engine: Engine) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        folder = cache.name.split("-")[1]
        for old in cache.parent.glob(f"index-{folder}-*.pickle"):
            old.unlink(missing_ok=True)
        temporary = cache.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump(engine, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(cache)
    except OSError as exc:
        logger.info("could not write index cache %s: %s", cache, exc)
