"""SQuAD 2.0 benchmark (issue 5): FactBot's top-1 quote against bm25s, rank_bm25 and rapidfuzz.

Each of the 8 SQuAD dev articles in ``shared/eval/squad2-dev-8.json`` becomes a ``.txt`` seed (one
paragraph per line, file name = title); all are built into one index and every answerable question is
asked in this one process. A question is a hit when the returned quote contains one annotator's answer
(case, quotes, dashes and whitespace normalised); a declined question is a miss. The peers rank the
very same sentences (``engine.facts()`` quotes), so segmentation is identical.

Declining: index 4 articles, ask the other 4's questions (all should be declined) and the indexed
articles' own answerable questions (all should be answered), for both halves.

    .venv/bin/python -m bench.squad                 # full report
    .venv/bin/python -m bench.squad --misses 20     # plus 20 FactBot misses, grouped by cause
    .venv/bin/python -m bench.squad --articles 2 --no-peers --no-decline   # quick look
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import contains_any, mark, norm, pct, shared_dir, simple_tokens, table, write_result

TARGET_TOP1 = 0.82
TARGET_DECLINE = 0.80
TARGET_OWN_ANSWERED = 0.80


# -- data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One SQuAD question; ``paragraph`` indexes the article's paragraphs from 0."""

    article: str
    paragraph: int
    text: str
    answers: tuple[str, ...]
    starts: tuple[int, ...]
    impossible: bool


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...]

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.questions if not q.impossible and q.answers]


def squad_path() -> Path:
    return shared_dir() / "eval" / "squad2-dev-8.json"


def load_squad(path: Path | None = None) -> list[Article]:
    """The articles of a SQuAD-format JSON file, in file order."""
    data = json.loads((path or squad_path()).read_text(encoding="utf-8"))
    articles = []
    for art in data["data"]:
        title = art["title"]
        paragraphs, questions = [], []
        for i, para in enumerate(art["paragraphs"]):
            paragraphs.append(para["context"].replace("\n", " "))
            for qa in para["qas"]:
                answers = qa.get("answers") or []
                questions.append(
                    Question(
                        article=title,
                        paragraph=i,
                        text=qa["question"].strip(),
                        answers=tuple(a["text"] for a in answers),
                        starts=tuple(a["answer_start"] for a in answers),
                        impossible=bool(qa.get("is_impossible")),
                    )
                )
        articles.append(Article(title, tuple(paragraphs), tuple(questions)))
    return articles


def select_articles(articles: list[Article], spec: str | None) -> list[Article]:
    """``spec`` is a count (the first N) or comma-separated titles; None keeps all."""
    if not spec:
        return articles
    if spec.isdigit():
        return articles[: int(spec)]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    by_title = {a.title.casefold(): a for a in articles}
    missing = [w for w in wanted if w.casefold() not in by_title]
    if missing:
        raise SystemExit(f"unknown article(s) {missing}; known: {[a.title for a in articles]}")
    return [by_title[w.casefold()] for w in wanted]


def write_seeds(articles: Sequence[Article], seeds_dir: Path) -> None:
    """One ``<title>.txt`` per article, one paragraph per line."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    for art in articles:
        (seeds_dir / f"{art.title}.txt").write_text("\n".join(art.paragraphs) + "\n", encoding="utf-8")


QTYPE = re.compile(
    r"\b(how (?:many|much)|(?:what|which) (?:year|century|decade|date|day|month|time|period|era)|when"
    r"|who(?:m|se)?|where|why|how|which|what)\b",
    re.IGNORECASE,
)


def question_type(text: str) -> str:
    """The question's kind from its first wh-word (when, who, where, why, how many, how, which, what)."""
    found = list(QTYPE.finditer(text))
    if not found:
        return "other"
    m = found[0]
    # "When X happens, ... what?" is a what-question: a clause-opening "when" gives way to a wh-word
    # after the clause's comma.
    if m.group(1).lower() == "when" and "," in text:
        m = QTYPE.search(text, text.index(",")) or m
    word = m.group(1).lower()
    if word.startswith("how ") and word != "how":
        return "how many/much"
    if word == "when" or " " in word:
        return "when"
    if word.startswith("who"):
        return "who"
    return word


# -- systems ----------------------------------------------------------------------------------------


@dataclass
class FactBotIndex:
    """A built and loaded FactBot index plus lookups from facts back to paragraphs."""

    engine: Any
    facts: tuple[Any, ...]
    build_s: float
    load_s: float
    pos_by_id: dict[str, int] = field(default_factory=dict)
    pos_by_quote: dict[str, int] = field(default_factory=dict)
    pos_by_prefix: dict[str, int] = field(default_factory=dict)

    def position(self, answer: Any) -> int | None:
        """Where the answer's fact stands in ``facts`` (None when declined or unknown)."""
        if not answer.answered:
            return None
        if answer.fact_id and answer.fact_id in self.pos_by_id:
            return self.pos_by_id[answer.fact_id]
        return self.pos_by_quote.get(norm(answer.quote or ""))

    def suggested(self, answer: Any) -> int | None:
        """The fact behind a declined answer's first suggestion (its quote's opening words), if any."""
        if answer.answered or not answer.suggestions:
            return None
        return self.pos_by_prefix.get(norm(answer.suggestions[0].rstrip("…")))


def build_factbot(articles: Sequence[Article], workdir: Path) -> FactBotIndex:
    """Write the seeds, run ``build_index`` and ``Engine.load`` on them."""
    from bot.engine import build
    from bot.engine.engine import Engine

    seeds, facts = workdir / "seeds", workdir / "facts"
    write_seeds(articles, seeds)
    t0 = time.perf_counter()
    build.build_index(seeds, facts)
    t1 = time.perf_counter()
    engine = Engine.load(facts, seeds)
    t2 = time.perf_counter()
    all_facts = tuple(engine.facts())
    idx = FactBotIndex(engine, all_facts, t1 - t0, t2 - t1)
    for i, f in enumerate(all_facts):
        idx.pos_by_id.setdefault(f.id, i)
        idx.pos_by_quote.setdefault(norm(f.quote), i)
        words = f.quote.split()
        for n in (12, len(words)):  # the engine's suggestion: a quote's first 12 words
            idx.pos_by_prefix.setdefault(norm(" ".join(words[:n])), i)
    return idx


class Bm25sPeer:
    """bm25s (Lucene BM25) with the PyStemmer English stemmer and English stop words."""

    name = "bm25s"

    def __init__(self, sentences: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(list(sentences), stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever = bm25s.BM25()
        self._retriever.index(tokens, show_progress=False)

    def top1(self, question: str) -> int | None:
        import numpy as np

        toks = self._bm25s.tokenize(
            [question], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )[0]
        ids = self._retriever.get_tokens_ids(toks)
        if not ids:
            return None
        return int(np.argmax(self._retriever.get_scores_from_ids(ids)))


class RankBm25Peer:
    """rank_bm25's BM25Okapi over lower-cased ``\\w+`` tokens (no stemming, no stop words)."""

    name = "rank_bm25"

    def __init__(self, sentences: Sequence[str]) -> None:
        from rank_bm25 import BM25Okapi

        self._model = BM25Okapi([simple_tokens(s) for s in sentences])

    def top1(self, question: str) -> int | None:
        import numpy as np

        # Terms absent from the corpus score 0 either way; dropping them only saves time.
        toks = [t for t in simple_tokens(question) if t in self._model.idf]
        if not toks:
            return None
        return int(np.argmax(self._model.get_scores(toks)))


class RapidfuzzPeer:
    """rapidfuzz ``process.extractOne`` with ``fuzz.token_set_ratio`` and ``utils.default_process``."""

    name = "rapidfuzz"

    def __init__(self, sentences: Sequence[str]) -> None:
        from rapidfuzz import fuzz, process, utils

        self._process, self._fuzz, self._utils = process, fuzz, utils
        # Same result as processor=default_process on every call, without re-processing the choices.
        self._choices = [utils.default_process(s) for s in sentences]

    def top1(self, question: str) -> int | None:
        query = self._utils.default_process(question)
        best = self._process.extractOne(
            query, self._choices, scorer=self._fuzz.token_set_ratio, processor=None
        )
        return None if best is None else int(best[2])


PEERS: tuple[Callable[[Sequence[str]], Any], ...] = (Bm25sPeer, RankBm25Peer, RapidfuzzPeer)


# -- evaluation -------------------------------------------------------------------------------------


@dataclass
class Asked:
    """FactBot's reply to one question, with where the answer really stands."""

    q: Question
    answer: Any
    seconds: float
    hit: bool
    pos: int | None
    gold: frozenset[int]
    peer_hits: dict[str, bool] = field(default_factory=dict)


_STOP: frozenset[str] | None = None
_STEM: Any = None


def content_stems(text: str) -> set[str]:
    """Stemmed non-stop-word tokens (bm25s's English list), for the word-overlap diagnosis."""
    global _STOP, _STEM
    if _STEM is None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        _STOP, _STEM = frozenset(STOPWORDS_EN), Stemmer.Stemmer("english")
    words = [w for w in simple_tokens(text) if w not in _STOP and w not in string.punctuation]
    return set(_STEM.stemWords(words))


def paragraph_map(idx: FactBotIndex, articles: Sequence[Article]) -> dict[tuple[str, int], list]:
    """(article, paragraph) -> [(fact position, offset of its quote in the paragraph)], found by text."""
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(idx.facts):
        by_article[f.article].append(i)
    out: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for art in articles:
        positions = by_article.get(art.title, [])
        for p, context in enumerate(art.paragraphs):
            found = []
            for i in positions:
                off = context.find(idx.facts[i].quote)
                if off >= 0:
                    found.append((i, off))
            out[(art.title, p)] = found
    return out


def gold_positions(q: Question, idx: FactBotIndex, pmap: dict) -> frozenset[int]:
    """The facts that hold an annotator's answer where the annotator marked it.

    Falls back to any sentence of the paragraph (then the article) containing the answer text; empty
    when no single sentence holds it (the answer straddles a sentence boundary).
    """
    cands = pmap.get((q.article, q.paragraph), [])
    spans = set()
    for text, start in zip(q.answers, q.starts, strict=False):
        for i, off in cands:
            if off <= start and start + len(text) <= off + len(idx.facts[i].quote):
                spans.add(i)
    if spans:
        return frozenset(spans)
    in_para = {i for i, _ in cands if contains_any(idx.facts[i].quote, q.answers)}
    if in_para:
        return frozenset(in_para)
    return frozenset(
        i for i, f in enumerate(idx.facts) if f.article == q.article and contains_any(f.quote, q.answers)
    )


def ask_all(idx: FactBotIndex, questions: Sequence[Question], pmap: dict | None = None) -> list[Asked]:
    """Ask every question once, in this process, timing each ``ask``."""
    out = []
    clock = time.perf_counter
    for q in questions:
        t0 = clock()
        ans = idx.engine.ask(q.text)
        dt = clock() - t0
        hit = bool(ans.answered) and contains_any(ans.quote, q.answers)
        gold = gold_positions(q, idx, pmap) if pmap is not None else frozenset()
        out.append(Asked(q, ans, dt, hit, idx.position(ans), gold))
    return out


def miss_cause(a: Asked, idx: FactBotIndex, para_of: dict[int, tuple[str, int]]) -> str:
    """Why a FactBot miss missed, from where the returned and the right sentence stand."""
    if not a.answer.answered:
        top = idx.suggested(a.answer)
        if top is None:
            return "declined, no sentence suggested"
        held = top in a.gold or contains_any(idx.facts[top].quote, a.q.answers)
        return "declined, first suggestion held the answer" if held else "declined, first suggestion wrong"
    if not a.gold:
        return "answer spans sentences"
    if a.pos is None:
        return "quote not in index"
    if idx.facts[a.pos].article != a.q.article:
        return "wrong article"
    here = para_of.get(a.pos)
    same_para = [g for g in a.gold if para_of.get(g) == here and here is not None]
    if any(abs(g - a.pos) == 1 for g in same_para):
        return "neighbouring sentence"
    if same_para:
        return "same paragraph"
    return "other paragraph"


def overlap_note(a: Asked, idx: FactBotIndex) -> tuple[str, int, int, int]:
    """('paraphrase' | 'ranking', question words, shared with the right sentence, with the returned one)."""
    qs = content_stems(a.q.text)
    gold = max((len(qs & content_stems(idx.facts[g].quote)) for g in a.gold), default=0)
    got = len(qs & content_stems(a.answer.quote)) if a.answer.answered and a.answer.quote else 0
    kind = "paraphrase" if gold < max(got, 1) or gold <= len(qs) // 3 else "ranking"
    return kind, len(qs), gold, got


def squad_f1(prediction: str, truth: str) -> float:
    """SQuAD's token F1 (lower-case, no punctuation or articles)."""

    def toks(s: str) -> list[str]:
        s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
        return [w for w in s.split() if w not in ("a", "an", "the")]

    p, t = toks(prediction), toks(truth)
    common = sum((Counter(p) & Counter(t)).values())
    if not p or not t or not common:
        return float(p == t)
    prec, rec = common / len(p), common / len(t)
    return 2 * prec * rec / (prec + rec)


def evaluate_full(articles: Sequence[Article], workdir: Path, peers: bool = True) -> dict[str, Any]:
    """Build all articles into one index; FactBot and the peers answer every answerable question."""
    idx = build_factbot(articles, workdir)
    pmap = paragraph_map(idx, articles)
    para_of = {i: key for key, found in pmap.items() for i, _ in found}
    answerable = [q for a in articles for q in a.answerable]
    t0 = time.perf_counter()
    asked = ask_all(idx, answerable, pmap)
    ask_s = time.perf_counter() - t0
    impossible = [q for a in articles for q in a.questions if q.impossible]
    unanswerable = ask_all(idx, impossible)

    sentences = [f.quote for f in idx.facts]
    peer_figs: dict[str, dict[str, float]] = {}
    if peers:
        for make in PEERS:
            t0 = time.perf_counter()
            peer = make(sentences)
            t1 = time.perf_counter()
            words = 0
            for a in asked:
                top = peer.top1(a.q.text)
                a.peer_hits[peer.name] = top is not None and contains_any(sentences[top], a.q.answers)
                words += len(sentences[top].split()) if top is not None else 0
            t2 = time.perf_counter()
            peer_figs[peer.name] = {
                "top1": sum(a.peer_hits[peer.name] for a in asked) / len(asked),
                "index_s": t1 - t0,
                "ms_per_q": 1000 * (t2 - t1) / len(asked),
                "quote_words": words / len(asked),
            }

    answered = [a for a in asked if a.answer.answered]
    quotes = [a.answer.quote or "" for a in answered]
    short = [a for a in answered if a.answer.answer]
    by_type: dict[str, list[Asked]] = defaultdict(list)
    for a in asked:
        by_type[question_type(a.q.text)].append(a)
    by_article: dict[str, list[Asked]] = defaultdict(list)
    for a in asked:
        by_article[a.q.article].append(a)
    causes = Counter(miss_cause(a, idx, para_of) for a in asked if not a.hit)

    def rate(group: list[Asked], peer: str | None = None) -> float:
        hits = [a.peer_hits.get(peer, False) if peer else a.hit for a in group]
        return sum(hits) / len(group) if group else 0.0

    return {
        "articles": [a.title for a in articles],
        "sentences": len(sentences),
        "questions": len(asked),
        "build_s": idx.build_s,
        "load_s": idx.load_s,
        "ask_ms_per_q": 1000 * ask_s / max(1, len(asked)),
        "top1": rate(asked),
        "answered": len(answered) / len(asked),
        "precision": sum(a.hit for a in answered) / len(answered) if answered else 0.0,
        "reachable": sum(bool(a.gold) for a in asked) / len(asked),
        "quote_words": sum(len(q.split()) for q in quotes) / len(quotes) if quotes else 0.0,
        "quote_chars": sum(len(q) for q in quotes) / len(quotes) if quotes else 0.0,
        "short_answer_share": len(short) / len(asked),
        "short_answer_contains_gold": sum(contains_any(a.answer.answer, a.q.answers) for a in short)
        / len(asked),
        "short_answer_f1": sum(max(squad_f1(a.answer.answer, t) for t in a.q.answers) for a in short)
        / len(asked),
        "impossible_declined": (
            sum(not u.answer.answered for u in unanswerable) / len(unanswerable) if unanswerable else None
        ),
        "peers": peer_figs,
        "by_type": {
            t: {"n": len(g), "factbot": rate(g), **{p: rate(g, p) for p in peer_figs}}
            for t, g in sorted(by_type.items(), key=lambda kv: -len(kv[1]))
        },
        "by_article": {
            t: {"n": len(g), "factbot": rate(g), **{p: rate(g, p) for p in peer_figs}}
            for t, g in by_article.items()
        },
        "miss_causes": dict(causes.most_common()),
        "_asked": asked,
        "_idx": idx,
        "_para_of": para_of,
    }


def decline_split(indexed: Sequence[Article], others: Sequence[Article], workdir: Path) -> dict[str, Any]:
    """Index ``indexed``; ask the others' questions (to decline) and the indexed ones' (to answer)."""
    idx = build_factbot(indexed, workdir)
    off = ask_all(idx, [q for a in others for q in a.questions])
    own = ask_all(idx, [q for a in indexed for q in a.answerable])
    return {
        "indexed": [a.title for a in indexed],
        "asked_about": [a.title for a in others],
        "off_questions": len(off),
        "off_declined": sum(not a.answer.answered for a in off) / len(off),
        "own_questions": len(own),
        "own_answered": sum(a.answer.answered for a in own) / len(own),
        "own_top1": sum(a.hit for a in own) / len(own),
        "_off": off,
        "_own": own,
    }


def confidence_sweep(splits: list[dict[str, Any]]) -> list[tuple[float, float, float, float]]:
    """If the engine also declined below confidence t: (t, off declined, own answered, own top-1)."""
    off = [a for s in splits for a in s["_off"]]
    own = [a for s in splits for a in s["_own"]]
    confs = sorted({round(a.answer.confidence, 2) for a in own + off if a.answer.answered})
    if not confs:
        return []
    lo, hi = confs[0], confs[-1]
    steps = sorted({round(lo + (hi - lo) * k / 8, 3) for k in range(9)})
    rows = []
    for t in steps:

        def kept(a: Asked, t: float = t) -> bool:
            return bool(a.answer.answered) and a.answer.confidence >= t

        rows.append(
            (
                t,
                sum(not kept(a) for a in off) / len(off),
                sum(kept(a) for a in own) / len(own),
                sum(kept(a) and a.hit for a in own) / len(own),
            )
        )
    return rows


# -- report -----------------------------------------------------------------------------------------


def _short(text: str | None, width: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_misses(full: dict[str, Any], n: int, cause: str | None = None) -> None:
    """Print ``n`` misses, taking causes in turn (most frequent first), in a fixed shuffled order."""
    idx, para_of = full["_idx"], full["_para_of"]
    groups: dict[str, list[Asked]] = defaultdict(list)
    for a in full["_asked"]:
        if not a.hit:
            groups[miss_cause(a, idx, para_of)].append(a)
    if cause:
        groups = {k: v for k, v in groups.items() if cause.lower() in k}
    rng = random.Random(5)
    for g in groups.values():
        rng.shuffle(g)
    order = sorted(groups, key=lambda k: -len(groups[k]))
    picked: dict[str, list[Asked]] = defaultdict(list)
    k = 0
    while sum(map(len, picked.values())) < n and any(len(picked[c]) < len(groups[c]) for c in order):
        c = order[k % len(order)]
        if len(picked[c]) < len(groups[c]):
            picked[c].append(groups[c][len(picked[c])])
        k += 1
    for c in order:
        if not picked[c]:
            continue
        print(f"\n== {c} ({len(groups[c])} misses) ==")
        for a in picked[c]:
            kind, nq, gold, got = overlap_note(a, idx)
            peers = ", ".join(p for p, h in a.peer_hits.items() if h) or "none"
            where = ""
            if a.pos is not None:
                f = idx.facts[a.pos]
                where = f" [{f.article} ¶{f.paragraph}]"
            print(f"- Q: {a.q.text}   ({question_type(a.q.text)}; {a.q.article})")
            print(f"  expected: {' | '.join(dict.fromkeys(a.q.answers))}")
            if a.answer.answered:
                print(f"  answer:   {_short(a.answer.answer, 80)!r}  confidence {a.answer.confidence:.3f}")
                print(f"  returned: {_short(a.answer.quote)}{where}")
            else:
                sugg = "; ".join(a.answer.suggestions)[:150]
                print(f"  declined (confidence {a.answer.confidence:.3f}; suggestions: {sugg})")
            if a.gold:
                g = idx.facts[min(a.gold)]
                print(f"  held in:  {_short(g.quote)} [{g.article} ¶{g.paragraph}]")
            print(
                f"  words: question {nq}, shared with held-in {gold}, with returned {got} -> {kind}; "
                f"peers that hit: {peers}"
            )


def report(full: dict[str, Any], splits: list[dict[str, Any]]) -> dict[str, Any]:
    """Print the figures; return the JSON-able summary."""
    n = full["questions"]
    print(
        f"SQuAD 2.0 dev: {len(full['articles'])} articles, {full['sentences']:,} sentences, "
        f"{n:,} answerable questions  (build {full['build_s']:.2f} s, load {full['load_s']:.2f} s, "
        f"{full['ask_ms_per_q']:.2f} ms/question)"
    )
    print(f"answer inside a single sentence (ceiling for any sentence ranker): {pct(full['reachable'])}\n")
    rows = [
        (
            "FactBot",
            pct(full["top1"]),
            pct(full["answered"]),
            pct(full["precision"]),
            f"{full['quote_words']:.1f}",
            f"{full['ask_ms_per_q']:.3f}",
        )
    ]
    for name, p in full["peers"].items():
        top1 = pct(p["top1"])
        rows.append((name, top1, "100%", top1, f"{p['quote_words']:.1f}", f"{p['ms_per_q']:.3f}"))
    print(table(rows, ("system", "top-1", "answered", "hit|answered", "quote words", "ms/q")))
    print(
        f"\ntarget top-1 >= {pct(TARGET_TOP1, 0)}: {mark(full['top1'] >= TARGET_TOP1)}   "
        f"FactBot quote: {full['quote_words']:.1f} words, {full['quote_chars']:.0f} chars (mean)"
    )
    print(
        f"short answer given {pct(full['short_answer_share'])}; contains the gold answer "
        f"{pct(full['short_answer_contains_gold'])}; SQuAD F1 {full['short_answer_f1']:.3f} "
        "(over all questions)"
    )
    if full["impossible_declined"] is not None:
        declined = pct(full["impossible_declined"])
        print(f"SQuAD 'impossible' questions of indexed articles declined: {declined}")

    peers = list(full["peers"])
    print()
    print(
        table(
            [(t, v["n"], pct(v["factbot"]), *(pct(v[p]) for p in peers)) for t, v in full["by_type"].items()],
            ("question type", "n", "FactBot", *peers),
        )
    )
    print()
    print(
        table(
            [
                (t, v["n"], pct(v["factbot"]), *(pct(v[p]) for p in peers))
                for t, v in full["by_article"].items()
            ],
            ("article", "n", "FactBot", *peers),
        )
    )
    print(
        "\nFactBot misses by cause: "
        + ", ".join(f"{c} {k} ({pct(k / n)})" for c, k in full["miss_causes"].items())
    )

    summary_splits = []
    if splits:
        rows = []
        for s in splits:
            label = f"{'+'.join(t[:12] for t in s['indexed'])}"
            rows.append(
                (
                    label,
                    f"{s['off_questions']}",
                    pct(s["off_declined"]),
                    f"{s['own_questions']}",
                    pct(s["own_answered"]),
                    pct(s["own_top1"]),
                )
            )
            summary_splits.append({k: v for k, v in s.items() if not k.startswith("_")})
        mean_decl = sum(s["off_declined"] for s in splits) / len(splits)
        mean_ans = sum(s["own_answered"] for s in splits) / len(splits)
        mean_top = sum(s["own_top1"] for s in splits) / len(splits)
        rows.append(("mean", "", pct(mean_decl), "", pct(mean_ans), pct(mean_top)))
        print(
            "\nDeclining: index half the articles, ask the other half's questions (all of them) "
            "and their own (answerable)"
        )
        print(
            table(
                rows,
                ("indexed articles", "off-index q", "declined", "own q", "answered", "own top-1"),
            )
        )
        print(
            f"targets: declined >= {pct(TARGET_DECLINE, 0)}: {mark(mean_decl >= TARGET_DECLINE)}   "
            f"own answered >= {pct(TARGET_OWN_ANSWERED, 0)}: {mark(mean_ans >= TARGET_OWN_ANSWERED)}"
        )
        sweep = confidence_sweep(splits)
        if sweep:
            print("\nif answers below confidence t were declined too (both splits pooled):")
            print(
                table(
                    [(f"{t:.3f}", pct(d), pct(a), pct(h)) for t, d, a, h in sweep],
                    ("t", "off declined", "own answered", "own top-1"),
                )
            )
    else:
        mean_decl = mean_ans = mean_top = None

    return {
        **{k: v for k, v in full.items() if not k.startswith("_")},
        "splits": summary_splits,
        "decline_mean": mean_decl,
        "own_answered_mean": mean_ans,
        "own_top1_mean": mean_top,
        "targets": {"top1": TARGET_TOP1, "declined": TARGET_DECLINE, "own_answered": TARGET_OWN_ANSWERED},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", type=int, default=0, metavar="N", help="print N FactBot misses")
    parser.add_argument("--cause", help="with --misses: only misses whose cause contains this text")
    parser.add_argument("--articles", help="the first N articles, or comma-separated titles")
    parser.add_argument("--no-peers", action="store_true", help="skip bm25s / rank_bm25 / rapidfuzz")
    parser.add_argument("--no-decline", action="store_true", help="skip the 4-vs-4 declining splits")
    parser.add_argument("--data", type=Path, default=None, help="SQuAD JSON (default shared/eval/...)")
    parser.add_argument("--json", type=Path, default=None, help="write figures here (default bench/results/)")
    args = parser.parse_args(argv)

    path = args.data or squad_path()
    if not path.is_file():
        print(f"no SQuAD file at {path} (set FACTBOT_SHARED to the shared/ folder)", file=sys.stderr)
        return 2
    articles = select_articles(load_squad(path), args.articles)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="factbot-squad-") as tmp:
        full = evaluate_full(articles, Path(tmp) / "all", peers=not args.no_peers)
        splits = []
        if not args.no_decline and len(articles) >= 2:
            half = len(articles) // 2
            a, b = articles[:half], articles[half:]
            splits = [decline_split(a, b, Path(tmp) / "first"), decline_split(b, a, Path(tmp) / "last")]
        summary = report(full, splits)
        if args.misses:
            print_misses(full, args.misses, args.cause)
    summary["wall_s"] = time.perf_counter() - t0
    print(f"\n({summary['wall_s']:.1f} s; figures in {write_result('squad', summary, args.json)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
