"""Scale benchmark: FactBot (engine v2) on a synthetic 100,000-fact corpus, end to end against peers.

The corpus is generated deterministically: articles of paragraphs of sentences drawn from a Zipfian
vocabulary of pronounceable pseudo-words, English function words, capitalised names and numbers, so
terms have realistic document frequencies. It is written as ``.txt`` seeds.

Fact vectors are FAKE. Pseudo-word sentences mean nothing to the embedding model, and embedding
100,000 of them would take 15+ minutes, so before the first ``Engine.load`` the vector cache
(``.factbot-cache`` beside ``facts/``) is filled with random unit vectors (seeded by each sentence's
text). The engine's cosine scan is thus timed at full size, but what it finds is noise; the questions
are still embedded by the real model (``bot.engine.semantic.embedder()``), so that cost is real. Without the
model installed the engine runs lexical-only and the output says "semantic off". ``--real-vectors``
embeds the corpus with the real model instead (slow).

Each step runs in a fresh process, so its peak memory (VmHWM) is its own; steps repeated ``--runs``
times report the median of each figure:

- FactBot: ``build_index``; ``Engine.load`` cold (no index cache) and warm; 1,000 questions made from
  random sentences (see ``Corpus.questions``) asked one by one through ``engine.ask``: p50/p99, the share
  whose quote is the source sentence (a decline counts as a miss), off-index questions declined; then the
  time split of each question (question embedding, lexical search, semantic scan + features, models,
  short answer);
- adding an article: one real seed article (``seeds/``) is added to the built index, then ``build_index``
  and ``Engine.load`` (as ``factbot build`` does: the vector cache embeds only the new facts, with the
  real model), then a restart's ``Engine.load``;
- peers on the same sentences (``engine.facts()`` quotes) and questions, as their users call them, each
  returning its top 1: tantivy (one document per sentence, ``en_stem`` tokenizer, ``index.parse_query``),
  bm25s ``retrieve(k=1)`` (stemmer, English stop words; numpy backend, and numba when installed), SQLite
  FTS5 (``porter`` tokenizer, question words quoted and OR-ed, ``ORDER BY bm25(t) LIMIT 1``). Each: time
  to a queryable index, peak memory, p50/p99 per question (query parsing/tokenising included), hit rate,
  and the time to add the same article's sentences.

    .venv/bin/python -m bench.scale                 # 100,000 facts; target: engine.ask p50 <= 10 ms
    .venv/bin/python -m bench.scale --facts 10000   # quick run
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    REPO,
    current_rss_mb,
    latency_stats,
    mark,
    norm,
    pct,
    peak_rss_mb,
    table,
    write_result,
)

TARGET_P50_MS = 10.0
ADDED_ARTICLE = "zz_added_article"
PEERS = ("tantivy", "bm25s", "bm25s-numba", "sqlite-fts5")

FUNCTION_WORDS = (
    "the of and to in a is that for was on with as by it at from his be were are which this an or had "
    "not but its they have their has one been also who after first new more other two into all when "
    "there some while most under during later over between only about three both many through since "
    "these then would such against several where before each being following until because made most"
).split()
ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr st sl pl cl bl ch sh th qu sp".split()
VOWELS = "a e i o u a e i o ai ea ou io ei".split()
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rt", "ck", "ng", "x"]
LEADS = ("what", "which", "who", "when", "where", "how many", "how much", "what share")
SUFFIXES = ["", "", "", "", "ing", "ed", "ion", "er", "s", "ly", "al", "ment", "ity", "ous"]


class Corpus:
    """A deterministic synthetic corpus: ``articles`` of paragraphs of sentences (token lists)."""

    def __init__(self, n_facts: int, seed: int = 5, vocab: int = 40_000, names: int = 8_000) -> None:
        self.rng = random.Random(seed)
        self.words = self._words(vocab)
        self.names = [f"{a.capitalize()} {b.capitalize()}" for a, b in self._pairs(names)]
        self.word_cw = self._zipf_cw(len(self.words), 1.05, 2.7)
        self.name_cw = self._zipf_cw(len(self.names), 0.9, 1.0)
        self.func_cw = self._zipf_cw(len(FUNCTION_WORDS), 1.0, 1.0)
        self.articles: list[list[list[list[tuple[str, str]]]]] = []
        made = 0
        while made < n_facts:
            article = []
            for _ in range(self.rng.randint(12, 45)):
                para = [self._sentence() for _ in range(self.rng.randint(3, 8))]
                para = para[: n_facts - made]
                made += len(para)
                if para:
                    article.append(para)
                if made >= n_facts:
                    break
            self.articles.append(article)

    @staticmethod
    def _zipf_cw(n: int, s: float, q: float) -> list[float]:
        return list(itertools.accumulate(1.0 / (r + q) ** s for r in range(1, n + 1)))

    def _word(self) -> str:
        rng = self.rng
        sylls = rng.choice((1, 2, 2, 2, 3, 3))
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(sylls))
        return w + rng.choice(SUFFIXES)

    def _words(self, n: int) -> list[str]:
        seen = set(FUNCTION_WORDS)
        out = []
        while len(out) < n:
            w = self._word()
            if len(w) >= 3 and w not in seen:
                seen.add(w)
                out.append(w)
        return out

    def _pairs(self, n: int) -> list[tuple[str, str]]:
        first, last = self._words(600), self._words(5000)
        return [(self.rng.choice(first), self.rng.choice(last)) for _ in range(n)]

    def _number(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.4:
            return str(rng.randint(1800, 2025))
        if kind < 0.6:
            return f"{rng.randint(2, 99_000):,}"
        if kind < 0.8:
            return f"${rng.randint(1, 999) / 10:g} {rng.choice(('million', 'billion'))}"
        return f"{rng.randint(1, 99)}%"

    def _sentence(self) -> list[tuple[str, str]]:
        """(token, kind) pairs; kind is 'f' (function word), 'w' (content word), 'n' (name), 'd' (number)."""
        rng = self.rng
        out: list[tuple[str, str]] = [(rng.choices(self.words, cum_weights=self.word_cw)[0], "w")]
        for _ in range(rng.randint(9, 29)):
            r = rng.random()
            if r < 0.42:
                out.append((rng.choices(FUNCTION_WORDS, cum_weights=self.func_cw)[0], "f"))
            elif r < 0.86:
                out.append((rng.choices(self.words, cum_weights=self.word_cw)[0], "w"))
            elif r < 0.94:
                out.append((rng.choices(self.names, cum_weights=self.name_cw)[0], "n"))
            else:
                out.append((self._number(), "d"))
        return out

    @staticmethod
    def text(sentence: list[tuple[str, str]]) -> str:
        words = [t for t, _ in sentence]
        words[0] = words[0].capitalize()
        return " ".join(words) + "."

    def sentences(self) -> list[list[tuple[str, str]]]:
        return [s for art in self.articles for para in art for s in para]

    def write_seeds(self, seeds_dir: Path) -> None:
        seeds_dir.mkdir(parents=True, exist_ok=True)
        for i, art in enumerate(self.articles):
            body = "\n".join(" ".join(self.text(s) for s in para) for para in art)
            (seeds_dir / f"synthetic_{i:05d}.txt").write_text(body + "\n", encoding="utf-8")

    @staticmethod
    def _asks_for(sentence: list[tuple[str, str]]) -> list[tuple[str, int | None]]:
        """(question word, the token it asks for) choices that fit the sentence."""
        options: list[tuple[str, int | None]] = [("what", None), ("which", None), ("", None)]
        for i, (t, k) in enumerate(sentence):
            if k == "n":
                options.append(("who", i))
            elif k == "d":
                if t.isdigit() and len(t) == 4:
                    options.append(("when", i))
                elif t.startswith("$"):
                    options.append(("how much", i))
                elif t.endswith("%"):
                    options.append(("what share", i))
                else:
                    options.append(("how many", i))
        return options

    def questions(self, n: int, seed: int = 7) -> list[tuple[str, str]]:
        """(question, source sentence) pairs.

        A question word that fits the sentence (when: it has a year, who: a name, how many: a count, ...;
        10% any question word), then 4-6 of the sentence's other content words in order; half lower-cased,
        30% with one word swapped for another vocabulary word (a paraphrase), 30% with a typo. One in 20
        is off-index: 4-6 random vocabulary words, source sentence "" (it should be declined).
        """
        rng = random.Random(seed)
        sentences = self.sentences()
        out = []
        for number, s in enumerate(rng.sample(sentences, min(n, len(sentences)))):
            if number % 20 == 19:
                words = rng.choices(self.words, cum_weights=self.word_cw, k=rng.randint(4, 6))
                out.append((rng.choice(LEADS) + " " + " ".join(words) + "?", ""))
                continue
            lead, asked = rng.choice(self._asks_for(s))
            if rng.random() < 0.1:
                lead = rng.choice(LEADS)
            content = [i for i, (t, k) in enumerate(s) if k != "f" and i != asked]
            picked = sorted(rng.sample(content, min(len(content), rng.randint(4, 6))))
            words = [s[i][0] for i in picked]
            if rng.random() < 0.5:
                words = [w.lower() for w in words]
            if rng.random() < 0.3:  # a paraphrase: one word the sentence does not have
                words[rng.randrange(len(words))] = rng.choices(self.words, cum_weights=self.word_cw)[0]
            typo_able = [j for j, w in enumerate(words) if w.isalpha() and len(w) >= 5]
            if typo_able and rng.random() < 0.3:
                j = rng.choice(typo_able)
                w = words[j]
                k = rng.randint(1, len(w) - 3)
                words[j] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
            if rng.random() < 0.5:
                lead = lead.capitalize()
            out.append(((lead + " " + " ".join(words)).strip() + "?", self.text(s)))
        return out


def is_hit(quote: str | None, target: str) -> bool:
    """The returned quote is the source sentence (or contains it, should segmentation merge two)."""
    return bool(quote) and norm(target) in norm(quote)


class FakeEmbedder:
    """Random unit vectors, each seeded by its text: stands in for the model on pseudo-word sentences."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from bot.engine.semantic import DIMENSIONS

        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
            out[row] = np.random.default_rng(seed).standard_normal(DIMENSIONS)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def cache_dir(work: Path) -> Path:
    """Where the engine keeps its index and vector caches for ``work/facts``."""
    return work.resolve() / ".factbot-cache"


def ask_timings(ask: Callable[[str], str | None], questions: list[list[str]]) -> dict[str, Any]:
    """Ask every question once (after one untimed warm-up question): latency and hit rate.

    ``ask`` returns the top quote, or None (declined, nothing found).
    """
    clock = time.perf_counter
    ask(questions[0][0])
    times, hits, answered, off_declined = [], 0, 0, 0
    for q, target in questions:
        t0 = clock()
        quote = ask(q)
        times.append(clock() - t0)
        if not target:
            off_declined += quote is None
            continue
        answered += quote is not None
        hits += is_hit(quote, target)
    on = sum(1 for _, t in questions if t)
    return {
        **latency_stats(times),
        "hit": hits / on,
        "answered": answered / on,
        "off_declined": off_declined / max(1, len(questions) - on),
    }


# -- child processes: each prints one JSON line ------------------------------------------------------


def child_build(work: Path) -> dict[str, Any]:
    from bot.engine import build

    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    build.build_index(work / "seeds", work / "facts")
    return {"build_s": time.perf_counter() - t0, "peak_mb": peak_rss_mb(), "base_mb": rss0}


def child_vectors(work: Path) -> dict[str, Any]:
    """Fill the vector cache for every fact: fake vectors, or the real model's with --real-vectors."""
    from bot.engine.facts import load_facts_files
    from bot.engine.semantic import VectorCache, embedder

    quotes = [f.quote for file in load_facts_files(work / "facts") for f in file.facts if not f.hidden]
    real = (work / "real-vectors").exists()
    model = embedder(cache_dir(work)) if real else FakeEmbedder()
    if model is None:
        return {"facts": len(quotes), "s": 0.0, "real": real, "skipped": True}
    t0 = time.perf_counter()
    VectorCache(cache_dir(work)).vectors(quotes, model)
    return {"facts": len(quotes), "s": time.perf_counter() - t0, "real": real, "skipped": False}


def child_load(work: Path) -> dict[str, Any]:
    """``Engine.load`` alone: cold when the caller removed the index cache, else warm."""
    from bot.engine.engine import Engine

    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    engine = Engine.load(work / "facts", work / "seeds")
    return {
        "load_s": time.perf_counter() - t0,
        "facts": len(engine.facts()),
        "semantic": engine.semantic,
        "peak_mb": peak_rss_mb(),
        "base_mb": rss0,
    }


def child_factbot(work: Path) -> dict[str, Any]:
    """Load (warm), ask every question, then split each question's time into stages."""
    from bot.engine.engine import Engine

    questions = json.loads((work / "questions.json").read_text())
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    engine = Engine.load(work / "facts", work / "seeds")
    load_s = time.perf_counter() - t0
    facts = engine.facts()
    sentences = work / "sentences.json"
    if not sentences.exists():
        sentences.write_text(json.dumps([f.quote for f in facts]))
    clock = time.perf_counter
    t0 = clock()
    engine.ask(questions[0][0])
    first_ms = 1000 * (clock() - t0)
    declines: list[float] = []

    def ask(question: str) -> str | None:
        t0 = clock()
        answer = engine.ask(question)
        if not answer.answered:
            declines.append(clock() - t0)
        return answer.quote if answer.answered else None

    figures = ask_timings(ask, questions)
    peak_mb = peak_rss_mb()
    return {
        "facts": len(facts),
        "semantic": engine.semantic,
        "load_s": load_s,
        "first_ask_ms": first_ms,
        **figures,
        "decline_p50_ms": latency_stats(declines)["p50_ms"],
        "stages_ms": time_stages(engine, [q for q, _ in questions]) if engine.semantic else None,
        "full_scan_ms": full_scan_ms(len(facts)) if engine.semantic else None,
        "peak_mb": peak_mb,
        "base_mb": rss0,
    }


def time_stages(engine: Any, questions: list[str]) -> dict[str, float]:
    """Median ms per stage of ``engine.ask``, each question timed stage by stage right after itself:
    the question's embedding; the lexical search (analysis, BM25 fields, top 20); the rest of
    ``Engine.candidates`` (cosines, evidence, feature rows); the ranker and confidence model; and the
    rest of ``ask`` with the vector given (the short answer, or a decline's suggestions)."""
    from bot.engine.engine import LEXICAL_CANDIDATES
    from bot.engine.features import analyse, confidence_features
    from bot.engine.semantic import embedder

    model, index, clock = embedder(), engine.index, time.perf_counter
    assert model is not None
    ranker, confidence, _ = engine.models
    steps: dict[str, list[float]] = {
        "embedding": [],
        "lexical": [],
        "semantic_features": [],
        "models": [],
        "answer": [],
    }
    for question in questions:
        text = " ".join(question.split())
        t0 = clock()
        vector = model.embed([text])[0]
        t1 = clock()
        q = analyse(index, text)
        index.search(q.query, LEXICAL_CANDIDATES, q.kind, index.field_scores(q.query, q.kind))
        t2 = clock()
        found = engine.candidates(text, vector=vector)
        t3 = clock()
        if len(found.docs):
            scores = ranker.decision(found.features)
            best = int(np.argmax(scores))
            confidence.probability(confidence_features(found.features, scores, best)[None])
        t4 = clock()
        engine.ask(text, vector=vector)
        t5 = clock()
        steps["embedding"].append(t1 - t0)
        steps["lexical"].append(t2 - t1)
        steps["semantic_features"].append((t3 - t2) - (t2 - t1))
        steps["models"].append(t4 - t3)
        steps["answer"].append((t5 - t4) - (t4 - t2))
    return {step: 1000 * statistics.median(times) for step, times in steps.items()}


def full_scan_ms(n: int, repeats: int = 50) -> float:
    """Median ms of one (n, d) float32 matrix-vector product: the cosine scan over every fact, which the
    engine does only up to ``SEMANTIC_SCAN_LIMIT`` facts."""
    from bot.engine.semantic import DIMENSIONS

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    vector = rng.standard_normal(DIMENSIONS, dtype=np.float32)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        matrix @ vector
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def child_add(work: Path) -> dict[str, Any]:
    """With the article already copied into seeds/: ``build_index`` and ``Engine.load`` (what
    ``factbot build`` does), the new facts embedded by the real model."""
    from bot.engine import build
    from bot.engine.engine import Engine
    from bot.engine.semantic import VectorCache

    before = len(VectorCache(cache_dir(work)))
    t0 = time.perf_counter()
    build.build_index(work / "seeds", work / "facts")
    t1 = time.perf_counter()
    engine = Engine.load(work / "facts", work / "seeds")
    t2 = time.perf_counter()
    added = [f.quote for f in engine.facts() if f.article == ADDED_ARTICLE]
    (work / "added.json").write_text(json.dumps(added))
    return {
        "build_s": t1 - t0,
        "load_s": t2 - t1,
        "facts": len(engine.facts()),
        "added_facts": len(added),
        "embedded": len(VectorCache(cache_dir(work))) - before,
        "semantic": engine.semantic,
        "peak_mb": peak_rss_mb(),
    }


def peer_figures(
    build: Callable[[list[str]], Any],
    ask: Callable[[Any, str], str | None],
    add: Callable[[Any, list[str], list[str]], Any],
    work: Path,
) -> dict[str, Any]:
    """A peer's figures: ``build`` indexes sentences (returns a handle), ``ask`` returns the top
    sentence, ``add`` adds the new article's sentences (returns the new handle)."""
    sentences = json.loads((work / "sentences.json").read_text())
    questions = json.loads((work / "questions.json").read_text())
    added = json.loads((work / "added.json").read_text()) if (work / "added.json").exists() else []
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    handle = build(sentences)
    t1 = time.perf_counter()
    first = ask(handle, questions[0][0])
    first_s = time.perf_counter() - t1
    figures = ask_timings(lambda q: ask(handle, q), questions)
    peak_mb = peak_rss_mb()
    add_s = None
    if added:
        t0_add = time.perf_counter()
        handle = add(handle, sentences, added)
        add_s = time.perf_counter() - t0_add
        assert ask(handle, added[0]) is not None
    return {
        "index_s": t1 - t0,
        "first_query_s": first_s,
        "first_found": first is not None,
        **figures,
        "add_s": add_s,
        "peak_mb": peak_mb,
        "base_mb": rss0,
    }


def child_tantivy(work: Path) -> dict[str, Any]:
    import tantivy

    folder = work / "tantivy"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    schema = builder.build()
    lenient = [0]

    def build(sentences: list[str]) -> Any:
        index = tantivy.Index(schema, path=str(folder))
        writer = index.writer()
        for sentence in sentences:
            writer.add_document(tantivy.Document(text=sentence))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return index, index.searcher()

    def ask(handle: Any, question: str) -> str | None:
        index, searcher = handle
        try:
            query = index.parse_query(question, ["text"])
        except ValueError:  # a syntax error: what a user's fallback would do
            lenient[0] += 1
            query, _ = index.parse_query_lenient(question, ["text"])
        hits = searcher.search(query, 1).hits
        return searcher.doc(hits[0][1])["text"][0] if hits else None

    def add(handle: Any, _: list[str], new: list[str]) -> Any:
        index = handle[0]
        writer = index.writer()
        for sentence in new:
            writer.add_document(tantivy.Document(text=sentence))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return index, index.searcher()

    out = peer_figures(build, ask, add, work)
    out["lenient_queries"] = lenient[0]
    out["version"] = _version("tantivy")
    return out


def _bm25s(work: Path, backend: str) -> dict[str, Any]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus: list[str] = []

    def build(sentences: list[str]) -> Any:
        corpus[:] = sentences
        retriever = bm25s.BM25(backend=backend)
        tokens = bm25s.tokenize(sentences, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever.index(tokens, show_progress=False)
        return retriever

    def ask(retriever: Any, question: str) -> str | None:
        query = bm25s.tokenize(
            [question], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        if not query[0]:
            return None
        docs, _ = retriever.retrieve(query, k=1, show_progress=False)
        return corpus[int(docs[0, 0])]

    def add(_: Any, sentences: list[str], new: list[str]) -> Any:
        return build(sentences + new)  # bm25s has no incremental add: index everything again

    out = peer_figures(build, ask, add, work)
    out["version"] = _version("bm25s")
    return out


def child_bm25s(work: Path) -> dict[str, Any]:
    return _bm25s(work, "numpy")


def child_bm25s_numba(work: Path) -> dict[str, Any]:
    try:
        import numba  # noqa: F401 - bm25s's fast backend, installed by `make bench`
    except ImportError:
        return {"skipped": "numba is not installed"}
    return _bm25s(work, "numba")


def child_sqlite(work: Path) -> dict[str, Any]:
    import sqlite3

    path = work / "fts5.sqlite"
    path.unlink(missing_ok=True)
    word = re.compile(r"\w+")

    def build(sentences: list[str]) -> Any:
        db = sqlite3.connect(path)
        db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter')")
        with db:
            db.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", enumerate(sentences, start=1))
        return db

    def ask(db: Any, question: str) -> str | None:
        terms = word.findall(question)
        if not terms:
            return None
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        row = db.execute("SELECT text FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 1", (match,)).fetchone()
        return row[0] if row else None

    def add(db: Any, _: list[str], new: list[str]) -> Any:
        with db:
            db.executemany("INSERT INTO t(text) VALUES (?)", [(s,) for s in new])
        return db

    out = peer_figures(build, ask, add, work)
    out["version"] = "SQLite " + sqlite3.sqlite_version
    return out


def _version(package: str) -> str:
    from importlib.metadata import version

    return f"{package} {version(package)}"


CHILDREN: dict[str, Callable[[Path], dict[str, Any]]] = {
    "build": child_build,
    "vectors": child_vectors,
    "load": child_load,
    "factbot": child_factbot,
    "add": child_add,
    "tantivy": child_tantivy,
    "bm25s": child_bm25s,
    "bm25s-numba": child_bm25s_numba,
    "sqlite-fts5": child_sqlite,
}


def run_child(kind: str, work: Path) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is the JSON result."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--child", kind, "--work", str(work)],
        capture_output=True,
        text=True,
        cwd=work,
        env=_child_env(),
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} step failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def run_median(kind: str, work: Path, runs: int, before: Callable[[], None] | None = None) -> dict[str, Any]:
    """``runs`` runs of a child; each number is the median of the runs (others from the first run)."""
    results = []
    for _ in range(runs):
        if before:
            before()
        results.append(run_child(kind, work))
    return median_of(results)


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(results[0])
    for key, value in out.items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in results)
        elif isinstance(value, dict) and all(isinstance(v, float) for v in value.values()):
            out[key] = {k: statistics.median(r[key][k] for r in results) for k in value}
    out["runs"] = len(results)
    return out


def _child_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def load_average() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=100_000, help="synthetic sentences to generate")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each timed step (medians reported)")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated subset of " + ", ".join(PEERS)
    )
    parser.add_argument("--real-vectors", action="store_true", help="embed the corpus with the real model")
    parser.add_argument("--json", type=Path, default=None, help="write figures here (default bench/results/)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(CHILDREN[args.child](args.work)))
        return 0
    peers = [p for p in (s.strip() for s in args.peers.split(",")) if p]
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")

    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="factbot-scale-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        if args.keep and work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        corpus = Corpus(args.facts)
        corpus.write_seeds(work / "seeds")
        (work / "questions.json").write_text(json.dumps(corpus.questions(args.questions)))
        if args.real_vectors:
            (work / "real-vectors").touch()
        print(
            f"generated {args.facts:,} sentences in {len(corpus.articles):,} articles, "
            f"{args.questions:,} questions ({time.perf_counter() - t0:.1f} s) in {work}",
            flush=True,
        )
        build = run_child("build", work)
        print(f"build_index: {build['build_s']:.2f} s, peak {build['peak_mb']:.0f} MB", flush=True)
        vectors = run_child("vectors", work)
        kind = "real model" if vectors["real"] else "FAKE random unit vectors"
        print(f"vector cache: {vectors['facts']:,} facts, {kind} ({vectors['s']:.1f} s)", flush=True)

        def drop_index_cache() -> None:
            for pickle in cache_dir(work).glob("index-*.pickle"):
                pickle.unlink()

        cold = run_median("load", work, args.runs, drop_index_cache)
        warm_load = run_median("load", work, args.runs)
        semantic = (
            "semantic on" if cold["semantic"] else "semantic off (the embedding model is not installed)"
        )
        print(
            f"Engine.load: cold {cold['load_s']:.2f} s (peak {cold['peak_mb']:.0f} MB), "
            f"warm {warm_load['load_s']:.2f} s; {semantic}",
            flush=True,
        )
        loads.append(load_average())
        warm = run_median("factbot", work, args.runs)
        print(f"engine.ask: p50 {warm['p50_ms']:.2f} ms, p99 {warm['p99_ms']:.2f} ms", flush=True)
        loads.append(load_average())

        article = sorted((REPO / "seeds").glob("*.md"))[0]
        shutil.copy(article, work / "seeds" / f"{ADDED_ARTICLE}.md")
        added = run_child("add", work)
        restart = run_child("load", work)
        added["restart_load_s"] = restart["load_s"]
        added["article"] = article.name
        print(
            f"add an article ({added['added_facts']} facts, {added['embedded']} embedded): "
            f"build_index {added['build_s']:.2f} s, Engine.load {added['load_s']:.2f} s, "
            f"restart load {added['restart_load_s']:.2f} s",
            flush=True,
        )
        results: dict[str, dict[str, Any]] = {}
        for peer in peers:
            results[peer] = run_median(peer, work, 1 if peer == "bm25s-numba" else args.runs)
            r = results[peer]
            if "skipped" in r:
                print(f"{peer}: skipped ({r['skipped']})", flush=True)
            else:
                print(f"{peer}: p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms", flush=True)
        loads.append(load_average())
    peers_run = {name: r for name, r in results.items() if "skipped" not in r}

    factbot_ready = build["build_s"] + cold["load_s"]
    factbot_peak = max(build["peak_mb"], cold["peak_mb"], warm["peak_mb"])
    print(
        f"\nFactBot: {warm['facts']:,} facts, {semantic}; fact vectors: {kind}. Engine.load cold "
        f"{cold['load_s']:.2f} s, warm {warm['load_s']:.2f} s (first ask {warm['first_ask_ms']:.1f} ms)"
    )
    rows = [
        (
            "FactBot",
            f"{factbot_ready:.2f}",
            f"{factbot_peak:.0f}",
            f"{warm['p50_ms']:.3f}",
            f"{warm['p99_ms']:.3f}",
            pct(warm["hit"]),
            f"{added['build_s'] + added['load_s']:.2f}",
        )
    ]
    for name, r in peers_run.items():
        rows.append(
            (
                name,
                f"{r['index_s']:.2f}",
                f"{r['peak_mb']:.0f}",
                f"{r['p50_ms']:.3f}",
                f"{r['p99_ms']:.3f}",
                pct(r["hit"]),
                f"{r['add_s']:.3f}" if r.get("add_s") is not None else "-",
            )
        )
    header = ("system", "ready s", "peak MB", "p50 ms", "p99 ms", "hit", "add article s")
    print(table(rows, header))
    ratios = {
        name: {
            "p50": ratio(warm["p50_ms"], r["p50_ms"]),
            "p99": ratio(warm["p99_ms"], r["p99_ms"]),
            "ready": ratio(factbot_ready, r["index_s"]),
            "peak_mb": ratio(factbot_peak, r["peak_mb"]),
        }
        for name, r in peers_run.items()
    }
    if ratios:
        print(
            table(
                [(name, *(f"{v:.1f}x" if v else "-" for v in r.values())) for name, r in ratios.items()],
                ("FactBot / peer", "p50", "p99", "ready", "peak MB"),
            )
        )
    print(
        f"(FactBot ready = build_index {build['build_s']:.2f} s + cold Engine.load {cold['load_s']:.2f} s; "
        f"peak MB: build {build['peak_mb']:.0f}, cold load {cold['peak_mb']:.0f}, "
        f"load+questions {warm['peak_mb']:.0f}; interpreter with imports ~{warm['base_mb']:.0f})\n"
        f"hit = the top quote is the question's source sentence (FactBot: a decline is a miss). FactBot "
        f"answered {pct(warm['answered'])} of the questions made from a sentence and declined "
        f"{pct(warm['off_declined'])} of the off-index ones; a decline takes {warm['decline_p50_ms']:.1f} ms"
    )
    st = warm.get("stages_ms")
    if st:
        print(
            "where a question's time goes (median ms): "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in st.items())
            + f"; a full cosine scan of {warm['facts']:,} facts would take {warm['full_scan_ms']:.2f} ms"
        )
    print(
        f"adding a {added['added_facts']}-fact article ({added['article']}) to {warm['facts']:,} facts: "
        f"build_index {added['build_s']:.2f} s + Engine.load {added['load_s']:.2f} s (embeds "
        f"{added['embedded']} new facts with the real model), "
        f"then a restart's load {added['restart_load_s']:.2f} s"
    )
    ok = warm["p50_ms"] <= TARGET_P50_MS
    print(f"target: engine.ask p50 <= {TARGET_P50_MS:g} ms {mark(ok)}; load average {loads}")
    result = {
        "facts_requested": args.facts,
        "facts": warm["facts"],
        "articles": len(corpus.articles),
        "questions": args.questions,
        "runs": args.runs,
        "semantic": bool(cold["semantic"]),
        "fake_vectors": not vectors["real"],
        "vectors": vectors,
        "build": build,
        "cold": cold,
        "warm_load": warm_load,
        "warm": warm,
        "ready_s": factbot_ready,
        "peak_mb": factbot_peak,
        "add": added,
        "peers": results,
        "ratios": ratios,
        "load_average": loads,
        "targets": {"p50_ms": TARGET_P50_MS},
    }
    print(f"(figures in {write_result('scale', result, args.json)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
