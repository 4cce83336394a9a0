"""Latency benchmark: ``engine.ask`` in one process, and one ``factbot ask`` process.

Loads the committed seed index (``facts/`` + ``seeds/`` at the repo root; built into a temp dir when
``facts/`` is absent), asks the questions of ``shared/eval/dev-questions.yaml`` plus ``tests/questions.yaml``
(when present) round after round until at least 5,000 timings after a warm-up round, and times ~10 runs
of ``.venv/bin/factbot ask "..."`` as a whole process. With the embedding model installed (engine v2),
every question is embedded by it, and ``Engine.load`` loads the model; without it the engine runs
lexical-only and the output says "semantic off".

    .venv/bin/python -m bench.latency              # targets: p50 <= 10 ms, one ask process <= 0.5 s
    .venv/bin/python -m bench.latency --runs 3 --timings 1000   # quicker
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import REPO, contains_any, latency_stats, mark, pct, shared_dir, table, write_result
from bench.scale import time_stages

TARGET_P50_MS = 10.0
TARGET_PROCESS_S = 0.5
CLI_QUESTION = "How much did Japan spend on defense?"


def _questions_from(data: Any) -> list[dict[str, Any]]:
    """Question entries from a YAML document: a list of strings or of mappings with ``q``/``question``."""
    if isinstance(data, dict):
        data = data.get("questions") or data.get("cases") or []
    out = []
    for item in data or []:
        if isinstance(item, str):
            out.append({"q": item})
        elif isinstance(item, dict) and (item.get("q") or item.get("question")):
            out.append({**item, "q": item.get("q") or item.get("question")})
    return out


def load_questions() -> tuple[list[dict[str, Any]], list[str]]:
    """The dev questions and the project's test questions, with the files they came from."""
    questions, sources = [], []
    for path in (shared_dir() / "eval" / "dev-questions.yaml", REPO / "tests" / "questions.yaml"):
        if path.is_file():
            found = _questions_from(yaml.safe_load(path.read_text(encoding="utf-8")))
            questions += found
            sources.append(f"{path.name} ({len(found)})")
    return questions, sources


def index_dirs(tmp: Path) -> tuple[Path, Path, str]:
    """(facts dir, seeds dir, note): the committed index, else one built from ``seeds/`` into ``tmp``."""
    facts, seeds = REPO / "facts", REPO / "seeds"
    if facts.is_dir() and any(facts.iterdir()):
        return facts, seeds, "committed facts/"
    from bot.engine import build

    build.build_index(seeds, tmp / "facts")
    return tmp / "facts", seeds, "facts/ absent: built from seeds/ into a temp dir"


def time_asks(
    engine: Any, questions: list[str], min_timings: int
) -> tuple[list[float], dict[str, list[float]]]:
    """One warm-up round, then whole rounds until ``min_timings``; returns all timings and per question."""
    for q in questions:
        engine.ask(q)
    rounds = math.ceil(min_timings / len(questions))
    per_q: dict[str, list[float]] = {q: [] for q in questions}
    clock = time.perf_counter
    for _ in range(rounds):
        for q in questions:
            t0 = clock()
            engine.ask(q)
            per_q[q].append(clock() - t0)
    return [t for ts in per_q.values() for t in ts], per_q


def dev_accuracy(engine: Any, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """How many ``kind: answer`` dev questions get an expected short answer, and ``abstain`` ones decline."""
    answer = [e for e in entries if e.get("kind", "answer") == "answer" and e.get("expect")]
    abstain = [e for e in entries if e.get("kind") == "abstain"]
    right = 0
    wrong: list[str] = []
    for e in answer:
        a = engine.ask(e["q"])
        if a.answered and contains_any(a.answer or "", e["expect"]):
            right += 1
        else:
            wrong.append(e["q"])
    declined = sum(not engine.ask(e["q"]).answered for e in abstain)
    return {
        "answer_right": right,
        "answer_total": len(answer),
        "abstain_declined": declined,
        "abstain_total": len(abstain),
        "wrong": wrong,
    }


#: The timed processes run as an installed ``factbot`` does: with Python's bytecode cache. (Some
#: sandboxes set PYTHONDONTWRITEBYTECODE, which makes every process compile bot/ from source again.)
PROCESS_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def time_process(cmd: list[str], runs: int) -> tuple[float, list[float], subprocess.CompletedProcess]:
    """Median wall time of ``runs`` runs of ``cmd`` (after one untimed run), and the last result."""
    last = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=PROCESS_ENV)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        last = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=PROCESS_ENV)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timings", type=int, default=5000, help="at least this many ask timings")
    parser.add_argument("--runs", type=int, default=10, help="timed runs of the factbot ask process")
    parser.add_argument("--json", type=Path, default=None, help="write figures here (default bench/results/)")
    args = parser.parse_args(argv)

    entries, sources = load_questions()
    if not entries:
        print(f"no questions found (looked in {shared_dir() / 'eval'} and tests/)", file=sys.stderr)
        return 2
    questions = list(dict.fromkeys(e["q"] for e in entries))
    from bot.engine.engine import Engine

    with tempfile.TemporaryDirectory(prefix="factbot-latency-") as tmp:
        facts, seeds, note = index_dirs(Path(tmp))
        t0 = time.perf_counter()
        engine = Engine.load(facts, seeds)
        load_s = time.perf_counter() - t0
        n_facts = len(engine.facts())
        semantic = "semantic on" if engine.semantic else "semantic off (the embedding model is not installed)"
        timings, per_q = time_asks(engine, questions, args.timings)
        stats = latency_stats(timings)
        dev = dev_accuracy(engine, entries)
        stages = time_stages(engine, questions) if engine.semantic else None

        bindir = Path(sys.executable).parent
        factbot = bindir / "factbot"
        ask_cmd = [str(factbot), "ask", "--facts", str(facts), "--seeds", str(seeds), CLI_QUESTION]
        proc_s, proc_all, last = time_process(ask_cmd, args.runs)
        python_s, _, _ = time_process([sys.executable, "-c", "pass"], args.runs)
        import_s, _, _ = time_process([sys.executable, "-c", "import bot.cli"], args.runs)
        load_code = (
            f"from pathlib import Path; from bot.engine import Engine; Engine.load(Path({str(facts)!r}))"
        )
        load_proc_s, _, _ = time_process([sys.executable, "-c", load_code], args.runs)

    print(
        f"engine.ask over the seed index ({n_facts} facts, {note}; {semantic}; "
        f"Engine.load {1000 * load_s:.0f} ms): "
        f"{len(questions)} distinct questions from {', '.join(sources)}, {stats['n']:,} timings after warm-up"
    )
    print(
        table(
            [
                (
                    f"{stats['p50_ms']:.3f}",
                    f"{stats['p90_ms']:.3f}",
                    f"{stats['p99_ms']:.3f}",
                    f"{stats['mean_ms']:.3f}",
                    f"{stats['max_ms']:.3f}",
                    f"<= {TARGET_P50_MS:g} ms {mark(stats['p50_ms'] <= TARGET_P50_MS)}",
                )
            ],
            ("p50 ms", "p90 ms", "p99 ms", "mean ms", "max ms", "target p50"),
            align="rrrrrl",
        )
    )
    slowest = sorted(per_q.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    print(
        "slowest questions (median ms): "
        + "; ".join(f"{1000 * statistics.median(t):.3f} {q!r}" for q, t in slowest)
    )
    if stages:
        print(
            "where a question's time goes (median ms): "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in stages.items())
        )
    print(
        f"dev questions: {dev['answer_right']}/{dev['answer_total']} right short answers, "
        f"{dev['abstain_declined']}/{dev['abstain_total']} 'abstain' declined"
    )
    status = "ok" if last.returncode == 0 else f"EXIT {last.returncode}: {last.stderr.strip()[-300:]}"
    print(
        f"\none `factbot ask` process: median {proc_s:.3f} s of {len(proc_all)} runs "
        f"(min {min(proc_all):.3f}, max {max(proc_all):.3f}); target <= {TARGET_PROCESS_S} s "
        f"{mark(proc_s <= TARGET_PROCESS_S and last.returncode == 0)}  [{status}]"
    )
    print(
        f"  for comparison: bare `python -c pass` {python_s:.3f} s, `import bot.cli` {import_s:.3f} s, "
        f"`Engine.load` process {load_proc_s:.3f} s (all medians; bytecode cache on, as installed)"
    )
    print(f"  it printed: {' '.join(last.stdout.split())[:160]!r}")

    result = {
        "facts": n_facts,
        "index": note,
        "semantic": engine.semantic,
        "questions": len(questions),
        "question_sources": sources,
        "load_ms": 1000 * load_s,
        **stats,
        "slowest": [(q, 1000 * statistics.median(t)) for q, t in slowest],
        "dev": dev,
        "stages_ms": stages,
        "dev_answer_share": dev["answer_right"] / max(1, dev["answer_total"]),
        "process_s": proc_s,
        "process_runs": proc_all,
        "process_ok": last.returncode == 0,
        "python_startup_s": python_s,
        "import_cli_s": import_s,
        "load_process_s": load_proc_s,
        "targets": {"p50_ms": TARGET_P50_MS, "process_s": TARGET_PROCESS_S},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"(figures in {write_result('latency', result, args.json)}; "
        f"dev share {pct(result['dev_answer_share'])})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
