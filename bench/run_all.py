"""Run every benchmark, each in its own process, then rewrite ``bench/README.md`` with the figures.

    make bench                                   # everything (scale at 100,000 facts)
    .venv/bin/python -m bench.run_all --quick    # scale at 10,000 facts, fewer process runs
    .venv/bin/python -m bench.run_all --only squad,latency

A benchmark left out (``--only``) or failing keeps its last figures from ``bench/results/<name>.json``.
Other modules in ``bench/`` (e.g. ``slack_http``) are run with no arguments too; the Markdown table they
print (lines starting with ``|``) goes into the README as is.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import REPO, RESULTS_DIR, git_revision, machine, pct, write_result

BENCHES = ("latency", "squad", "scale")
# Not benchmarks: shared code, this harness, a data builder and an experiment (run by hand).
HELPERS = ("__init__", "common", "run_all", "wordnet_classes", "reader_probe")
README = REPO / "bench" / "README.md"


def other_benches() -> list[str]:
    """Benchmark modules in bench/ that are not this harness's own (they print a Markdown table)."""
    here = REPO / "bench"
    return sorted(p.stem for p in here.glob("*.py") if p.stem not in BENCHES + HELPERS)


def run_other(name: str) -> tuple[bool, float]:
    """Run ``python -m bench.<name>``, echo its output and keep its Markdown table in bench/results/."""
    print(f"\n===== bench.{name} =====", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    print(proc.stdout, end="", flush=True)
    lines = proc.stdout.splitlines()
    write_result(
        name,
        {
            "exit": proc.returncode,
            "table": _tables(lines),
            "tail": lines[-15:],
        },
    )
    # A non-zero exit with a table is a missed target (the table says so), not a broken benchmark.
    return proc.returncode == 0 or any(line.startswith("|") for line in lines), time.perf_counter() - t0


def _tables(lines: list[str]) -> list[str]:
    """The lines from the first table row to the last (blank lines between tables kept)."""
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    if not rows:
        return []
    return [line for line in lines[rows[0] : rows[-1] + 1] if line.startswith("|") or not line.strip()]


def run(name: str, extra: list[str]) -> tuple[bool, float]:
    """Run ``python -m bench.<name>`` with its output on this terminal."""
    print(f"\n===== bench.{name} {' '.join(extra)} =====", flush=True)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", f"bench.{name}", "--json", str(RESULTS_DIR / f"{name}.json"), *extra]
    code = subprocess.run(cmd, cwd=REPO).returncode
    return code == 0, time.perf_counter() - t0


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def ok(good: bool) -> str:
    return "✅" if good else "❌"


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


PEER_NOTES = {
    "tantivy": "one document per sentence, `en_stem` tokenizer, `index.parse_query`, `search(q, 1)`",
    "bm25s": "`bm25s.tokenize` (stemmer, English stop words), `retrieve(k=1)`, default numpy backend",
    "bm25s-numba": "the same with `backend='numba'` (JIT compile not counted in p50)",
    "sqlite-fts5": "`porter` tokenizer; words quoted and OR-ed; `ORDER BY bm25(t) LIMIT 1`",
}


def scale_rows(sc: dict[str, Any]) -> list[list[Any]]:
    """Headline rows of the scale benchmark."""
    t, w, b, add = sc["targets"], sc["warm"], sc["build"], sc["add"]
    n = f"{sc['facts']:,} facts"
    vectors = "fake fact vectors" if sc["fake_vectors"] else "real fact vectors"
    semantic = vectors if sc["semantic"] else "semantic off"
    rows: list[list[Any]] = [
        ["scale", f"`build_index`, {n}", f"{b['build_s']:.1f} s", "", ""],
        [
            "scale",
            "`Engine.load` cold / warm",
            f"{sc['cold']['load_s']:.2f} / {sc['warm_load']['load_s']:.2f} s",
            "",
            "",
        ],
        [
            "scale",
            "peak memory: build / cold load / load + questions",
            f"{b['peak_mb']:.0f} / {sc['cold']['peak_mb']:.0f} / {w['peak_mb']:.0f} MB",
            "",
            "",
        ],
        [
            "scale",
            f"`engine.ask` p50 / p99, {n} ({semantic})",
            f"{w['p50_ms']:.2f} / {w['p99_ms']:.2f} ms",
            f"p50 <= {t['p50_ms']:g} ms",
            ok(w["p50_ms"] <= t["p50_ms"]),
        ],
        [
            "scale",
            "off-index questions declined; time of a decline (p50)",
            f"{pct(w['off_declined'])}; {w['decline_p50_ms']:.1f} ms",
            "",
            "",
        ],
        [
            "scale",
            f"add a {add['added_facts']}-fact article: `build_index` + `Engine.load`",
            f"{add['build_s']:.1f} + {add['load_s']:.1f} s",
            "",
            "",
        ],
    ]
    for name, r in sc["peers"].items():
        if "skipped" in r:
            continue
        ratio = sc["ratios"][name]
        rows.append(
            [
                "scale",
                f"p50 / p99 vs {name} ({r['p50_ms']:.3f} / {r['p99_ms']:.3f} ms)",
                f"{ratio['p50']:.1f}x / {ratio['p99']:.1f}x",
                "reference",
                "",
            ]
        )
    hits = ", ".join(f"{name} {pct(r['hit'])}" for name, r in sc["peers"].items() if "skipped" not in r)
    rows.append(
        [
            "scale",
            "synthetic questions whose top quote is the source sentence",
            pct(w["hit"]) + (f" ({hits})" if hits else ""),
            "",
            "",
        ]
    )
    return rows


def scale_section(sc: dict[str, Any]) -> list[str]:
    """The scale benchmark's section: FactBot against each peer, ratios, time split, adding an article."""
    w, b, add, cold = sc["warm"], sc["build"], sc["add"], sc["cold"]
    peers = {name: r for name, r in sc["peers"].items() if "skipped" not in r}
    out = ["", f"## Scale: {sc['facts']:,} synthetic facts ({sc['articles']:,} articles)", ""]
    if not sc["semantic"]:
        vectors = "**Semantic off**: the embedding model is not installed, so the engine ran lexical-only."
    elif sc["fake_vectors"]:
        vectors = (
            "**The fact vectors are fake.** The sentences are pseudo-words, meaningless to the embedding "
            "model, and embedding them all would take 15+ minutes; so the vector cache is filled with "
            "random unit vectors (seeded by each sentence) before the first `Engine.load`. The cosine "
            "scan is timed at full size, but what it finds is noise, which may cost FactBot some hits "
            "here. Each question is embedded by the real model, so its cost is real."
        )
    else:
        vectors = "Fact vectors from the real model (`--real-vectors`)."
    out += [
        f"{sc['questions']:,} questions made from random sentences (1 in 20 off-index); every peer indexes "
        "the same sentences and is called as its users call it, for its top 1. "
        + (f"Medians of {sc['runs']} runs" if sc["runs"] > 1 else "One run")
        + ", each step in a fresh process; load average "
        f"{', '.join(str(x[0]) for x in sc['load_average'])} (1-minute, during the run) on "
        f"{machine()['cores']} cores shared with other work.",
        "",
        vectors,
        "",
    ]
    rows = [
        [
            "**FactBot**",
            f"{sc['ready_s']:.2f} ({b['build_s']:.2f} build + {cold['load_s']:.2f} load)",
            f"{sc['peak_mb']:.0f}",
            f"{w['p50_ms']:.3f}",
            f"{w['p99_ms']:.3f}",
            pct(w["hit"]),
            f"{add['build_s'] + add['load_s']:.2f}",
        ]
    ]
    for name, r in peers.items():
        rows.append(
            [
                f"{name} ({r['version']})",
                f"{r['index_s']:.2f}",
                f"{r['peak_mb']:.0f}",
                f"{r['p50_ms']:.3f}",
                f"{r['p99_ms']:.3f}",
                pct(r["hit"]),
                f"{r['add_s']:.3f}" if r.get("add_s") is not None else "-",
            ]
        )
    out.append(
        md_table(
            ["system", "to a queryable index, s", "peak MB", "p50 ms", "p99 ms", "hit", "add an article, s"],
            rows,
        )
    )
    if peers:
        out += ["", "FactBot / peer, same run:", ""]
        out.append(
            md_table(
                ["peer", "p50", "p99", "to a queryable index", "peak memory"],
                [[name, *(f"{v:.1f}x" if v else "-" for v in sc["ratios"][name].values())] for name in peers],
            )
        )
    out += ["", "How each peer was called:", ""]
    out += [f"- {name}: {note}." for name, note in PEER_NOTES.items() if name in sc["peers"]]
    skipped = [f"{name} ({r['skipped']})" for name, r in sc["peers"].items() if "skipped" in r]
    if skipped:
        out.append(f"- not measured: {', '.join(skipped)}.")
    out += [
        "",
        f"hit = the top quote is the question's source sentence; a FactBot decline counts as a miss "
        f"(it answered {pct(w['answered'])} of the questions made from a sentence, and declined "
        f"{pct(w['off_declined'])} of the off-index ones, which the peers always answer). Peak memory "
        f"is each process's VmHWM: FactBot's is the largest of build ({b['peak_mb']:.0f} MB), cold "
        f"load ({cold['peak_mb']:.0f} MB) and load + questions ({w['peak_mb']:.0f} MB); the embedding "
        "model accounts for about 50 MB of it (int8 weights; 170-190 MB as float32). "
        "A peer's includes its imports "
        + ", ".join(f"{name} {r['base_mb']:.0f} MB" for name, r in peers.items())
        + f" (FactBot's interpreter with imports: {w['base_mb']:.0f} MB).",
    ]
    st = w.get("stages_ms")
    if st:
        out += [
            "",
            "Where FactBot's time goes, median ms per question: "
            f"question embedding {st['embedding']:.2f}, lexical search (analysis, BM25 fields, top 20) "
            f"{st['lexical']:.2f}, cosines + evidence + feature rows {st['semantic_features']:.2f}, "
            f"ranker + confidence model {st['models']:.2f}, short answer {st['answer']:.2f}. "
            f"Above 20,000 facts the engine compares the question by meaning only with the facts of "
            f"the lexical candidates' paragraphs; a full scan of all {sc['facts']:,} would take "
            f"{w['full_scan_ms']:.2f} ms.",
        ]
    out += [
        "",
        f"Adding an article: `seeds/{add['article']}` ({add['added_facts']} facts) added to the built "
        f"index; `build_index` {add['build_s']:.2f} s (it rewrites every facts file), then "
        f"`Engine.load` {add['load_s']:.2f} s (index compiled again; the vector cache embeds only the "
        f"{add['embedded']} new facts, with the real model); the next process's `Engine.load` "
        f"{add['restart_load_s']:.2f} s. The peers add the same sentences: tantivy and SQLite "
        "incrementally (then commit), bm25s by indexing everything again (it has no incremental add).",
    ]
    return out


def render(
    results: dict[str, dict[str, Any] | None], status: dict[str, str], others: Sequence[str] = ()
) -> str:
    """The README text: a headline table, then one section per benchmark."""
    m = machine()
    out = [
        "# FactBot benchmarks",
        "",
        "Generated by `make bench` (`.venv/bin/python -m bench.run_all`); do not edit by hand.",
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, {m['platform']}; "
        f"{m['date']}; revision `{git_revision()}`.",
        "",
        "## Headline figures",
        "",
    ]
    rows: list[list[Any]] = []
    lat, sq, sc = results.get("latency"), results.get("squad"), results.get("scale")
    if sc and "peers" not in sc:  # figures of the old benchmark (before engine v2): not comparable
        sc = None
    if lat:
        t = lat["targets"]
        rows.append(
            [
                "latency",
                f"`engine.ask` p50 / p99 / mean over the seed index ({lat['n']:,} timings)",
                f"{lat['p50_ms']:.3f} / {lat['p99_ms']:.3f} / {lat['mean_ms']:.3f} ms",
                f"p50 <= {t['p50_ms']:g} ms",
                ok(lat["p50_ms"] <= t["p50_ms"]),
            ]
        )
        rows.append(
            [
                "latency",
                f"one `factbot ask` process (median of {len(lat['process_runs'])})",
                f"{lat['process_s']:.3f} s",
                f"<= {t['process_s']:g} s",
                ok(lat["process_ok"] and lat["process_s"] <= t["process_s"]),
            ]
        )
        rows.append(
            [
                "latency",
                "dev questions: right short answers / abstains declined",
                f"{lat['dev']['answer_right']}/{lat['dev']['answer_total']} / "
                f"{lat['dev']['abstain_declined']}/{lat['dev']['abstain_total']}",
                "",
                "",
            ]
        )
    if sq:
        t = sq["targets"]
        best_peer = max(sq["peers"].items(), key=lambda kv: kv[1]["top1"], default=None)
        rows.append(
            [
                "squad",
                f"top-1 quote holds the answer ({sq['questions']:,} questions, "
                f"{len(sq['articles'])} articles)",
                pct(sq["top1"]),
                f">= {pct(t['top1'], 0)}"
                + (f" (best peer {best_peer[0]} {pct(best_peer[1]['top1'])})" if best_peer else ""),
                ok(sq["top1"] >= t["top1"]),
            ]
        )
        rows.append(["squad", "answered (8-article index)", pct(sq["answered"]), "", ""])
        rows.append(
            [
                "squad",
                "mean quote length",
                f"{sq['quote_words']:.1f} words, {sq['quote_chars']:.0f} chars",
                "",
                "",
            ]
        )
        if sq.get("decline_mean") is not None:
            rows.append(
                [
                    "squad",
                    "off-index questions declined (mean of 2 splits)",
                    pct(sq["decline_mean"]),
                    f">= {pct(t['declined'], 0)}",
                    ok(sq["decline_mean"] >= t["declined"]),
                ]
            )
            rows.append(
                [
                    "squad",
                    "indexed articles' questions answered (mean of 2 splits)",
                    pct(sq["own_answered_mean"]),
                    f">= {pct(t['own_answered'], 0)}",
                    ok(sq["own_answered_mean"] >= t["own_answered"]),
                ]
            )
    if sc:
        rows += scale_rows(sc)
    out.append(md_table(["bench", "figure", "value", "target", ""], rows))
    stale = []
    for name, state in status.items():
        if state != "ran":
            r = results.get(name)
            when = f"figures of {r['machine']['date']}, revision `{r['revision']}`" if r else "no figures"
            stale.append(f"`{name}` {state} ({when})")
    if stale:
        out += ["", "Not re-run this time: " + "; ".join(stale) + "."]

    if sq:
        out += ["", "## SQuAD 2.0 dev, 8 articles: FactBot vs peers on the same sentences", ""]
        out.append(
            f"{sq['sentences']:,} sentences; {sq['questions']:,} answerable questions; "
            "a hit = the top-1 quote "
            f"contains an annotator's answer; declining counts as a miss. Answer inside a single sentence "
            f"(ceiling): {pct(sq['reachable'])}."
        )
        out.append("")
        rows = [
            [
                "**FactBot**",
                f"**{pct(sq['top1'])}**",
                pct(sq["answered"]),
                f"{sq['quote_words']:.1f}",
                f"{sq['ask_ms_per_q']:.3f}",
            ]
        ]
        for name, p in sq["peers"].items():
            rows.append([name, pct(p["top1"]), "100%", f"{p['quote_words']:.1f}", f"{p['ms_per_q']:.3f}"])
        out.append(md_table(["system", "top-1", "answered", "quote words", "ms/question"], rows))
        peers = list(sq["peers"])
        out += ["", "By question type:", ""]
        out.append(
            md_table(
                ["type", "n", "FactBot", *peers],
                [
                    [t, v["n"], pct(v["factbot"]), *(pct(v[p]) for p in peers)]
                    for t, v in sq["by_type"].items()
                ],
            )
        )
        out += [
            "",
            "FactBot misses by cause: " + ", ".join(f"{c} {k}" for c, k in sq["miss_causes"].items()) + ".",
        ]
        if sq.get("splits"):
            out += [
                "",
                "Declining (index half the articles; ask the other half's questions, and the own ones):",
                "",
            ]
            rows = [
                [
                    ", ".join(s["indexed"]),
                    pct(s["off_declined"]),
                    pct(s["own_answered"]),
                    pct(s["own_top1"]),
                ]
                for s in sq["splits"]
            ]
            rows.append(
                ["**mean**", pct(sq["decline_mean"]), pct(sq["own_answered_mean"]), pct(sq["own_top1_mean"])]
            )
            out.append(md_table(["indexed", "off-index declined", "own answered", "own top-1"], rows))
    if sc:
        out += scale_section(sc)
    for name in others:
        r = results.get(name)
        out += ["", f"## {name}", ""]
        if r is None:
            out.append("No figures yet.")
            continue
        out.append(f"From `python -m bench.{name}` ({r['machine']['date']}, exit {r['exit']}):")
        out += [""] + (r["table"] or ["(it printed no table)"])
    out += [
        "",
        "## Commands",
        "",
        "- `make bench` — all of the below, then rewrites this file (`--quick`: scale at 10,000 facts).",
        "- `.venv/bin/python -m bench.latency` — `engine.ask` percentiles on the seed index;"
        " one `factbot ask` process.",
        "- `.venv/bin/python -m bench.squad [--misses 20] [--cause neighbour] [--articles 2] [--no-peers]`"
        " — SQuAD top-1 vs peers, declining splits, misses by cause. `--data FILE` measures any"
        " other SQuAD-format file the same way (articles the engine was never tuned on).",
        "- `.venv/bin/python -m bench.scale [--facts 10000] [--runs 3]` — synthetic corpus: build, load,"
        " memory, latency, adding an article; vs tantivy, bm25s and SQLite FTS5 (fake fact vectors).",
        "",
        "- `.venv/bin/python -m bench.<other>` — the other modules in `bench/`, each printing its own table.",
        "",
        "Each writes its figures as JSON to `bench/results/<name>.json` (not committed).",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    others = other_benches()
    parser.add_argument("--only", help="comma-separated subset of " + ", ".join(BENCHES + tuple(others)))
    parser.add_argument("--quick", action="store_true", help="scale at 10,000 facts, fewer process runs")
    parser.add_argument(
        "--render", action="store_true", help="run nothing: rewrite the README from bench/results/ as it is"
    )
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",")] if args.only else [*BENCHES, *others]
    if args.render:
        chosen = []
    extra = {
        "latency": ["--runs", "5"] if args.quick else [],
        "squad": [],
        "scale": ["--facts", "10000"] if args.quick else [],
    }
    status = {b: "not selected" for b in (*BENCHES, *others)}
    failed = []
    for name in chosen:
        if name in others:
            good, secs = run_other(name)
        else:
            good, secs = run(name, extra.get(name, []))
        status[name] = "ran" if good else "FAILED"
        print(f"----- bench.{name}: {'ok' if good else 'FAILED'} in {secs:.1f} s", flush=True)
        if not good:
            failed.append(name)
    results = {b: load(b) for b in (*BENCHES, *others)}
    README.write_text(render(results, status, others), encoding="utf-8")
    print(f"\nwrote {README.relative_to(REPO)}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
