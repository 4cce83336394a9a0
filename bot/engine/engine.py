"""The engine's front door: load the fact index once, then answer questions from it.

This module and everything it imports never import Slack.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import logging
import os
import pickle
import re
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bot.engine.answers import extract, name_given, question_type, span_fit
from bot.engine.facts import ALIASES_FILE, collector_paused, facts_paths, load_facts_files, load_vocabulary
from bot.engine.features import (
    CONFIDENCE_FEATURE_NAMES,
    FEATURE_NAMES,
    Question,
    Semantic,
    analyse,
    candidate_features,
    confidence_features,
    sentence_hits,
    span_overlap,
)
from bot.engine.learned import Model, packaged_model, recalibrated
from bot.engine.matching import Analyzer, Candidate, FactIndex, Ranked
from bot.engine.model import Answer, ArticleInfo, Fact, Source
from bot.engine.short_answer import Closeness, SpanModel, question_class, short_answer, without_echo
from bot.engine.short_answer import default_model as default_span_model
from bot.engine.spans import find_spans
from bot.engine.text import common_english
from bot.errors import IndexMissingError

logger = logging.getLogger(__name__)

# How many facts each search proposes to the ranker: the best by BM25 and the best by meaning.
LEXICAL_CANDIDATES = 20
SEMANTIC_CANDIDATES = 20
# Up to this many facts, every fact is compared with the question by meaning (one matrix-vector
# product, a few ms); above it, only the facts of the paragraphs the lexical search found.
SEMANTIC_SCAN_LIMIT = 20_000
WORD_CACHE_SIZE = 50_000
MAX_QUESTION_CHARS = 500
CACHE_VERSION = "4"


class CandidateSet(NamedTuple):
    """The facts proposed for a question, with their evidence and feature rows."""

    question: Question
    docs: np.ndarray
    evidence: list[Candidate]
    features: np.ndarray
    word_vectors: np.ndarray | None = None  # (query words, d): each question word's embedding


class Models(NamedTuple):
    """The shipped ranker and confidence model, and the confidence an answer needs."""

    ranker: Model
    confidence: Model
    threshold: float


@functools.cache
def models(semantic: bool) -> Models:
    """The models for an engine with (or without) the embedding model, read once per process."""
    suffix = "" if semantic else "-lexical"
    ranker = packaged_model(f"ranker{suffix}.json", FEATURE_NAMES)
    confidence = packaged_model(f"confidence{suffix}.json", CONFIDENCE_FEATURE_NAMES)
    return Models(ranker, confidence, float(confidence.info["threshold"]))


class Engine:
    """Answers questions from a loaded fact index. Safe to share between threads."""

    # The short-answer selector; None: the shipped one (bench.train sets each fold's own).
    span_model: SpanModel | None = None

    def __init__(self, index: FactIndex, titles: dict[str, str], urls: dict[str, str | None]) -> None:
        self._index = index
        self._titles = titles
        self._urls = urls
        self._by_id = {fid: i for i, fid in enumerate(index.fact_ids())}
        self._counts = Counter(index.articles_of_facts())
        self._topics = _topics_of(index.facts)
        self._embedder: Any = None
        self._vectors: np.ndarray | None = None  # (facts, d) L2-normalised, when semantic search is on
        self._paragraph_vectors: np.ndarray | None = None
        self._term_vectors: np.ndarray | None = None  # (terms, d): each index word on its own
        self._word_cache: dict[str, np.ndarray] = {}  # question words already embedded
        self._term_rows: dict[str, int] = {}  # lower-case index word -> its row of _term_vectors
        self._models: Models | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Vectors live in their own cache (bot.engine.semantic.VectorCache); the model is loaded per process.
        return {
            **self.__dict__,
            "_embedder": None,
            "_vectors": None,
            "_paragraph_vectors": None,
            "_term_vectors": None,
            "_word_cache": {},
            "span_model": None,
            "_term_rows": {},
        }

    @property
    def models(self) -> Models:
        """The ranker and confidence model in use: the shipped ones unless evaluation set others."""
        return self._models or models(self._vectors is not None)

    @models.setter
    def models(self, value: Models | None) -> None:
        self._models = value

    @property
    def semantic(self) -> bool:
        """Whether the embedding model is in use (else the engine is lexical-only)."""
        return self._vectors is not None

    def _known_words(self, words: list[str]) -> tuple[dict[str, np.ndarray | None], list[str]]:
        """Each word's vector where it is known already (None where not), and the words without one.

        A word the articles use has its vector already (the index words are embedded at load), and
        a question word embedded before is kept in a cache. Safe from several threads: the words are
        read from the shared cache once, into the result.
        """
        cache, rows, terms = self._word_cache, self._term_rows, self._term_vectors
        known: dict[str, np.ndarray | None] = {}
        for word in words:
            found = cache.get(word)
            if found is None and terms is not None and (row := rows.get(word)) is not None:
                found = terms[row]
            known[word] = found
        return known, [w for w, found in known.items() if found is None]

    def _word_vectors(
        self, words: list[str], known: dict[str, np.ndarray | None], fresh: dict[str, np.ndarray]
    ) -> np.ndarray:
        """(len(words), d): the question's words' vectors, ``fresh`` ones kept for the next question."""
        if fresh:
            cache = self._word_cache
            if len(cache) > WORD_CACHE_SIZE:
                cache.clear()
            cache.update(fresh)
        vectors = [fresh[w] if (v := known[w]) is None else v for w in words]
        width = 0 if self._vectors is None else self._vectors.shape[1]
        return np.array(vectors, dtype=np.float32).reshape(len(words), width)

    def use_embeddings(self, embedder: Any, cache_dir: Path | None) -> None:
        """Search by meaning too: embed every fact and every index word, in one pass over the vector
        cache in ``cache_dir`` (only texts not cached yet are embedded)."""
        from bot.engine.semantic import VectorCache

        quotes = [fact.quote for fact in self._index.facts]
        texts = quotes + self._index.term_texts()
        embedded = VectorCache(cache_dir).vectors(texts, embedder) if cache_dir else embedder.embed(texts)
        embedded = np.ascontiguousarray(embedded, dtype=np.float32)
        vectors, self._term_vectors = embedded[: len(quotes)], embedded[len(quotes) :]
        paragraphs = np.zeros(
            (int(self._index.paragraph_of.max(initial=-1)) + 1, vectors.shape[1]), np.float32
        )
        np.add.at(paragraphs, self._index.paragraph_of, vectors)
        norms = np.linalg.norm(paragraphs, axis=1, keepdims=True)
        self._paragraph_vectors = paragraphs / np.maximum(norms, 1e-9)
        # An uncased model gives "Japan" and "japan" the same vector: question words (lower case)
        # then find theirs among the index words'.
        if getattr(embedder, "uncased", False):
            rows: dict[str, int] = {}
            for row, text in enumerate(texts[len(quotes) :]):
                rows.setdefault(text.lower(), row)
            self._term_rows = rows
        self._vectors = vectors
        self._embedder = embedder

    @property
    def index(self) -> FactIndex:
        """The fact index the engine searches (read-only; benchmarks time its steps)."""
        return self._index

    # -- loading --------------------------------------------------------------------------------

    @classmethod
    def load(
        cls, facts_dir: Path = Path("facts"), seeds_dir: Path = Path("seeds"), *, semantic: bool = True
    ) -> Engine:
        """Load the index built by ``factbot build`` (IndexMissingError / FactsFileError).

        What is loaded is then frozen out of the cyclic garbage collector (``gc.freeze``): the
        index lives as long as the process, and a full collection walking its millions of objects
        would hold up an answer by about 0.1 s at 100,000 facts. It also limits numpy's BLAS to one
        thread in this process (:func:`_one_blas_thread`).
        """
        common_english()  # read at start-up, so a broken install fails here and not in a question
        _one_blas_thread()
        with collector_paused():
            engine = cls._load(facts_dir, seeds_dir)
            if semantic:
                _attach_embeddings(engine, facts_dir)
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

    def candidates(self, question: str, *, vector: np.ndarray | None = None) -> CandidateSet:
        """The facts the searches propose for a question, with the features the models read
        (``vector``: the question's embedding, when the caller has it already).

        The question's embedding, and then its words' that are not known yet, run on a worker thread
        (onnxruntime releases the GIL) while this thread does the lexical search and its candidates'
        evidence; the search by meaning waits for the question's, and the features for the words'.
        """
        vectors = self._vectors
        index = self._index
        embedding: Future[np.ndarray] | None = None
        if vectors is not None and vector is None:
            embedding = _embedding_pool().submit(self._embedder.embed, [question])
        q = analyse(index, question)
        word_vectors = None
        if vectors is not None:
            words = [t.surface.lower() for t in q.query]
            known, missing = self._known_words(words)
            fresh = _embedding_pool().submit(self._embedder.embed, missing) if missing else None
        fields = index.field_scores(q.query, q.kind)
        lexical = index.search(q.query, LEXICAL_CANDIDATES, q.kind, fields)
        found = [r.index for r in lexical]
        paragraphs: dict[int, Any] = {}  # what evidence_of reads of each paragraph, for its next call
        evidence = index.evidence_of(lexical, q.query, q.kind, paragraphs)
        order = None
        if embedding is not None:
            vector = embedding.result()[0]
        if vector is not None and vectors is not None and len(vectors):
            if len(vectors) <= SEMANTIC_SCAN_LIMIT:
                cosines = vectors @ vector
                scanned = None
            else:  # too many facts to compare with all: those of the lexical candidates' paragraphs
                scanned = index.sentences_in(np.unique(index.paragraph_of.take(np.array(found, np.int64))))
                cosines = np.full(len(vectors), -1.0, dtype=np.float32)
                cosines[scanned] = vectors[scanned] @ vector
            pool = np.arange(len(vectors)) if scanned is None else scanned
            keep = min(SEMANTIC_CANDIDATES, len(pool))
            if keep:
                top = pool[np.argpartition(-cosines.take(pool), keep - 1)[:keep]]
                order = top[np.argsort(-cosines.take(top), kind="stable")]
                known_docs = set(found)
                added = [Ranked(d, 0.0) for d in order.tolist() if d not in known_docs]
                found.extend(r.index for r in added)
                evidence.extend(index.evidence_of(added, q.query, q.kind, paragraphs))
        meaning = None
        if vectors is not None:  # the words' vectors were embedded meanwhile
            embedded = dict(zip(missing, fresh.result(), strict=True)) if fresh is not None else {}
            word_vectors = self._word_vectors(words, known, embedded)
            if order is not None:
                meaning = Semantic(cosines, self._paragraph_vectors, vector, word_vectors, self._term_vectors)
        docs = np.array(found, dtype=np.int64)
        features = candidate_features(index, q, docs, evidence, fields, lexical, meaning, order)
        return CandidateSet(q, docs, evidence, features, word_vectors)

    def ask(self, question: str, *, vector: np.ndarray | None = None) -> Answer:
        """Answer one question, or decline with up to three suggestions (``vector``: its embedding,
        when the caller has it already)."""
        text = " ".join(question.split())[:MAX_QUESTION_CHARS]
        found = self.candidates(text, vector=vector)
        if not len(found.docs):
            return self._decline(text, [])
        ranker, confidence_model, threshold = self.models
        scores = ranker.decision(found.features)
        order = np.argsort(-scores, kind="stable")
        best = int(order[0])
        raw = confidence_model.probability(confidence_features(found.features, scores, best)[None])[0]
        confidence = float(recalibrated(raw, confidence_model.info.get("platt")))
        ranked = [int(found.docs[i]) for i in order]
        if confidence < threshold:
            return self._decline(text, ranked)
        q = found.question
        named = self._named(ranked[0], text, q.kind)
        if named is not None:  # "What is ... called?" and a sentence says "This is called X."
            index, short = named
        else:
            index = ranked[0]
            short = self._short_answer(q, index, found.word_vectors)
        fact = self._index.fact(index)
        return Answer(
            question=text,
            answered=True,
            answer=short,
            quote=fact.quote,
            source=self.source(fact),
            confidence=round(confidence, 3),
            suggestions=(),
            fact_id=fact.id,
        )

    def _short_answer(self, question: Question, index: int, word_vectors: np.ndarray | None = None) -> str:
        """A curator's answer when it holds the kind of thing asked for; else the learned selector's
        span of the quote (a date, an amount, a name, "Yes, ...", a reason, the items of a list)
        when it is sure enough (the model's gate for the question's kind); else the clause of the quote
        that covers the question."""
        fact = self._index.fact(index)
        kind = question.kind
        # A curator's answer says what the fact is about; it does not say why, or yes or no.
        if (
            fact.answer
            and question_class(question.text).kind not in ("reason", "yes-no")
            and (kind is None or any(span_fit(s, kind) for s in find_spans(fact.answer)))
        ):
            return fact.answer
        model = self.span_model or default_span_model()
        # The quote's other names for what the question names count as the question's words ("the
        # ROK" -> "South Korea $48.0 billion"), unless the question names nothing else: then one of
        # them may be the answer ("who is SIPRI?" -> the Stockholm International Peace Research Institute).
        terms, ids = self._index.term_positions(index), self._index.terms_of(index)
        aliased = [
            p for p, _, _ in sentence_hits(self._index, index, question.weights) if terms[p].key[0] == "="
        ]
        if len({int(ids[p]) for p in aliased}) >= len(question.weights):
            aliased = []
        picked = short_answer(
            question.text,
            fact.quote,
            fact.spans,
            model=model,
            closeness=self._closeness(word_vectors),
            matched=[(terms[p].start, terms[p].end) for p in aliased],
        )
        if picked.kind != "clause":
            return picked.text
        clause = self.covering_clause(question, index)
        # A yes/no question's clause is its echo ("Is X more than Y?": "X is more than Y").
        return clause if question_class(question.text).yes_no else without_echo(question.text, clause)

    def _closeness(self, word_vectors: np.ndarray | None) -> Closeness | None:
        """How close in meaning a word of the articles is to the closest of some words (the
        question's, by default): the cosine of their embeddings, 0 for a word with no vector. For
        the span selector; None when the engine is lexical-only."""
        terms, rows, cache = self._term_vectors, self._term_rows, self._word_cache
        if word_vectors is None or terms is None or not rows or not len(word_vectors):
            return None

        def vector(word: str) -> np.ndarray | None:
            row = rows.get(word, -1)
            return terms[row] if row >= 0 else cache.get(word)

        def closeness(words: Sequence[str], to: Sequence[str] | None = None) -> list[float]:
            targets = word_vectors if to is None else [v for w in to if (v := vector(w)) is not None]
            found = [rows.get(w, -1) for w in words]
            known = [r for r in found if r >= 0]
            if not len(targets) or not known:
                return [0.0] * len(words)
            best = iter((np.asarray(targets) @ terms[known].T).max(axis=0).tolist())
            return [next(best) if r >= 0 else 0.0 for r in found]

        return closeness

    def covering_clause(self, question: Question, index: int) -> str:
        """The clause of fact ``index`` that covers the question's words (the selector's fallback)."""
        hits = sentence_hits(self._index, index, question.weights)
        overlap = span_overlap(self._index, index, hits)
        fact = self._index.fact(index)
        return extract(
            fact, self._index.term_positions(index), hits, question.kind, overlap, question.bounds
        ).text

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

    def _decline(self, question: str, ranked: list[int]) -> Answer:
        suggestions: list[str] = []
        seen: set[str] = set()
        for index in ranked:
            suggestion = self._suggestion(self._index.fact(index))
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


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _embedding_pool() -> ThreadPoolExecutor:
    """The thread that runs questions' embeddings, one at a time in the order asked (per process:
    a forked child gets its own, as the parent's thread does not exist there).

    One thread: onnxruntime already spreads each run over both cores, and two runs at once would
    only take turns on them.
    """
    pid = os.getpid()
    pool = _pools.get(pid)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(pid)
            if pool is None:
                pool = _pools[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="factbot-embedding")
    return pool


@functools.cache
def _one_blas_thread() -> None:
    """Limit numpy's BLAS (OpenBLAS) to one thread in this process, once.

    A question's products are small (a few hundred rows by 384), yet OpenBLAS splits them over both
    cores, and its idle threads then spin, taking the core that onnxruntime needs for the question's
    embedding: the word-by-meaning features alone took 0.8-1.0 ms of CPU per question with two
    threads against 0.3 ms with one. The same numbers come out; only who computes them changes.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _attach_embeddings(engine: Engine, facts_dir: Path) -> None:
    """Turn on search by meaning when the embedding model is installed (else one warning, lexical only)."""
    try:
        from bot.engine.semantic import embedder
    except ImportError as exc:
        logger.warning("semantic search is off: %s", exc)
        return
    cache_dir = facts_dir.resolve().parent / ".factbot-cache"
    model = embedder(cache_dir)
    if model is None:
        return  # bot.engine.semantic has logged why
    engine.use_embeddings(model, cache_dir)


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
