"""Scale benchmark (issue 5): FactBot on a synthetic 100,000-fact corpus, side by side with bm25s.

The corpus is generated deterministically: articles of paragraphs of sentences drawn from a Zipfian
vocabulary of pronounceable pseudo-words, English function words, capitalised names and numbers, so
terms have realistic document frequencies. It is written as ``.txt`` seeds. Each measurement runs in a
fresh process so peak memory (VmHWM) is that step's own:

- build: ``build_index`` wall time and peak memory;
- load: ``Engine.load`` in a first (cold) and a second (warm) fresh process;
- questions: 1,000 made from random sentences (a fitting question word, then 4-6 of their other content
  words; half lower-cased, 30% with one word swapped for another vocabulary word, 30% with a typo),
  asked one by one: p50/p99 latency and the share whose quote is the source sentence, then once more
  to split each one's time into analysis, search and the rest (re-ranking, the answer);
- bm25s (stemmer, English stop words) on the very same sentences (``engine.facts()`` quotes): index time,
  peak memory, hit rate, and the time per query three ways, tokenisation included: its scoring kernel
  (``get_scores``, then ``argmax``: the target's peer), and ``retrieve(k=1)``
  with the numba backend (when numba is installed, as ``make bench`` does) and with the default numpy
  backend, whose top-k selection (``np.argpartition`` over scores that are mostly zero) is slow.

    .venv/bin/python -m bench.scale                 # 100,000 facts; targets: p50 < 10 ms, <= 3x bm25s
    .venv/bin/python -m bench.scale --facts 10000   # quick run
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import current_rss_mb, latency_stats, mark, norm, pct, peak_rss_mb, table, write_result

TARGET_P50_MS = 10.0
TARGET_RATIO = 3.0

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


# -- child processes: each prints one JSON line ------------------------------------------------------


def child_build(work: Path) -> dict[str, Any]:
    from bot import build

    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    build.build_index(work / "seeds", work / "facts")
    return {"build_s": time.perf_counter() - t0, "peak_mb": peak_rss_mb(), "base_mb": rss0}


def child_factbot(work: Path) -> dict[str, Any]:
    from bot.engine import Engine

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
    times, hits, answered, misses, off_declined, decline_times = [], 0, 0, [], 0, []
    for q, target in questions:
        t0 = clock()
        a = engine.ask(q)
        times.append(clock() - t0)
        if not a.answered:
            decline_times.append(times[-1])
        if not target:
            off_declined += not a.answered
            continue
        answered += bool(a.answered)
        hit = bool(a.answered) and is_hit(a.quote, target)
        hits += hit
        if not hit and len(misses) < 6:
            misses.append([q, target[:120], a.quote[:120] if a.answered and a.quote else None])
    on = sum(1 for _, t in questions if t)
    stages = time_stages(engine, [q for q, _ in questions])
    slowest = sorted(zip(times, (q for q, _ in questions), strict=True), reverse=True)[:5]
    return {
        "facts": len(facts),
        "load_s": load_s,
        "first_ask_ms": first_ms,
        **latency_stats(times),
        "hit": hits / on,
        "answered": answered / on,
        "off_declined": off_declined / max(1, len(questions) - on),
        "decline_p50_ms": latency_stats(decline_times)["p50_ms"],
        "stages_ms": stages,
        "slowest": [[1000 * t, q] for t, q in slowest],
        "misses": misses,
        "peak_mb": peak_rss_mb(),
        "base_mb": rss0,
    }


def time_stages(engine: Any, questions: list[str]) -> dict[str, float]:
    """Where a question's time goes, median ms per step: analysis (answer type, year bounds, index
    terms), search (the ranked facts), and the rest of ``ask`` (re-ranking, cutting the answer or
    a decline's suggestions): that question's whole ``ask`` less the other two, timed right after it."""
    from bot.answers import question_type, year_bounds

    index, clock = engine.index, time.perf_counter
    steps: dict[str, list[float]] = {"analysis": [], "search": [], "rest": []}
    for question in questions:
        t0 = clock()
        engine.ask(question)
        t1 = clock()
        text = " ".join(question.split())
        kind = question_type(text)
        year_bounds(text)
        query = index.query_terms(text)
        t2 = clock()
        index.search(query, kind=kind)
        t3 = clock()
        steps["analysis"].append(t2 - t1)
        steps["search"].append(t3 - t2)
        steps["rest"].append((t1 - t0) - (t3 - t1))
    return {step: 1000 * sorted(times)[len(times) // 2] for step, times in steps.items()}


def child_bm25s(work: Path) -> dict[str, Any]:
    import bm25s
    import numpy as np
    import Stemmer

    sentences = json.loads((work / "sentences.json").read_text())
    questions = json.loads((work / "questions.json").read_text())
    stemmer = Stemmer.Stemmer("english")
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(sentences, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - t0
    peak_mb = peak_rss_mb()
    clock = time.perf_counter
    on = [(q, t) for q, t in questions if t]

    def tokenized(question: str) -> list[list[str]]:
        return bm25s.tokenize(
            [question], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )

    def retrieve_times(bm25: Any) -> list[float]:
        times = []
        for q, _ in questions:
            t0 = clock()
            query = tokenized(q)
            if query[0]:
                bm25.retrieve(query, k=1, show_progress=False)
            times.append(clock() - t0)
        return times

    times, hits = [], 0  # the scoring kernel: get_scores, then argmax (no top-k selection)
    for q, target in questions:
        t0 = clock()
        ids = retriever.get_tokens_ids(tokenized(q)[0])
        top = int(np.argmax(retriever.get_scores_from_ids(ids))) if ids else None
        times.append(clock() - t0)
        hits += bool(target) and top is not None and is_hit(sentences[top], target)
    result = {
        "index_s": index_s,
        **latency_stats(times),
        "retrieve_p50_ms": latency_stats(retrieve_times(retriever))["p50_ms"],  # default (numpy) backend
        "numba_p50_ms": None,
        "numba_jit_s": None,
        "hit": hits / len(on),
        "peak_mb": peak_mb,
        "base_mb": rss0,
    }
    del retriever
    try:
        import numba  # noqa: F401 - bm25s's fast backend, installed by `make bench`
    except ImportError:
        return result
    fast = bm25s.BM25(backend="numba")
    fast.index(tokens, show_progress=False)
    t0 = clock()
    fast.retrieve(tokenized(questions[0][0]), k=1, show_progress=False)  # compiles
    result["numba_jit_s"] = clock() - t0
    result["numba_p50_ms"] = latency_stats(retrieve_times(fast))["p50_ms"]
    return result


CHILDREN = {"build": child_build, "factbot": child_factbot, "bm25s": child_bm25s}


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


def _child_env() -> dict[str, str]:
    import os

    from bench.common import REPO

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=100_000, help="synthetic sentences to generate")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--no-bm25s", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write figures here (default bench/results/)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(CHILDREN[args.child](args.work)))
        return 0

    with tempfile.TemporaryDirectory(prefix="factbot-scale-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        corpus = Corpus(args.facts)
        corpus.write_seeds(work / "seeds")
        (work / "questions.json").write_text(json.dumps(corpus.questions(args.questions)))
        (work / "sentences.json").unlink(missing_ok=True)
        gen_s = time.perf_counter() - t0
        print(
            f"generated {args.facts:,} sentences in {len(corpus.articles):,} articles, "
            f"{args.questions:,} questions ({gen_s:.1f} s) in {work}",
            flush=True,
        )
        build = run_child("build", work)
        print(f"build_index: {build['build_s']:.2f} s, peak {build['peak_mb']:.0f} MB", flush=True)
        cold = run_child("factbot", work)
        warm = run_child("factbot", work)
        bm = None if args.no_bm25s else run_child("bm25s", work)

    ratio = warm["p50_ms"] / bm["p50_ms"] if bm and bm["p50_ms"] > 0 else None
    print(
        f"\nFactBot: {warm['facts']:,} facts. Engine.load: cold {cold['load_s']:.2f} s, "
        f"warm {warm['load_s']:.2f} s "
        f"(first ask {warm['first_ask_ms']:.1f} ms; whole process {warm['process_s']:.1f} s)"
    )
    rows = [
        (
            "FactBot",
            f"{build['build_s']:.2f} (build)",
            f"{warm['load_s']:.2f}",
            f"{max(build['peak_mb'], warm['peak_mb']):.0f}",
            f"{warm['p50_ms']:.2f}",
            f"{warm['p99_ms']:.2f}",
            pct(warm["hit"]),
        )
    ]
    if bm:
        rows.append(
            (
                "bm25s",
                f"{bm['index_s']:.2f} (index)",
                "-",
                f"{bm['peak_mb']:.0f}",
                f"{bm['p50_ms']:.2f}",
                f"{bm['p99_ms']:.2f}",
                pct(bm["hit"]),
            )
        )
    print(table(rows, ("system", "index s", "load s", "peak MB", "p50 ms", "p99 ms", "hit")))
    print(
        f"(peak MB: FactBot build {build['peak_mb']:.0f}, load+questions {warm['peak_mb']:.0f}; "
        f"bare interpreter with imports ~{warm['base_mb']:.0f})\n"
        f"FactBot answered {pct(warm['answered'])} of the questions made from a sentence and declined "
        f"{pct(warm['off_declined'])} of the off-index ones; "
        f"a decline takes {warm['decline_p50_ms']:.1f} ms (p50)"
    )
    if bm:
        numba = f"{bm['numba_p50_ms']:.3f} ms" if bm.get("numba_p50_ms") else "not installed"
        print(
            f"bm25s p50 is its scoring kernel (tokenize, get_scores, argmax); its retrieve(k=1) takes "
            f"{numba} with the numba backend, {bm['retrieve_p50_ms']:.2f} ms with the default numpy one"
        )
    st = warm["stages_ms"]
    print(
        f"where a question's time goes (median ms): analysis {st['analysis']:.3f}, "
        f"search {st['search']:.3f}, re-ranking and answer {st['rest']:.3f}"
    )
    print("slowest questions: " + "; ".join(f"{ms:.1f} ms {q!r}" for ms, q in warm["slowest"]))
    print("some misses (question -> returned quote | source sentence):")
    for q, target, got in warm["misses"][:4]:
        print(f"  {q!r} -> {got or 'DECLINED'!r} | {target!r}")
    print(
        f"targets: p50 < {TARGET_P50_MS:g} ms {mark(warm['p50_ms'] < TARGET_P50_MS)}"
        + (
            f"   p50 within {TARGET_RATIO:g}x of bm25s: {ratio:.2f}x {mark(ratio <= TARGET_RATIO)}"
            if ratio
            else ""
        )
    )
    result = {
        "facts_requested": args.facts,
        "facts": warm["facts"],
        "articles": len(corpus.articles),
        "questions": args.questions,
        "build": build,
        "cold": cold,
        "warm": warm,
        "bm25s": bm,
        "p50_ratio_vs_bm25s": ratio,
        "targets": {"p50_ms": TARGET_P50_MS, "ratio": TARGET_RATIO},
    }
    print(f"(figures in {write_result('scale', result, args.json)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
