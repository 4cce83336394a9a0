"""How long ``build_index`` takes on one long paragraph: ``python -m bench.long_paragraph``.

Issue 15 found sentence splitting and span finding quadratic (one 1 MB paragraph took 20 s, 30 MB
never finished). This times the build alone, in this process, on a seed that is one paragraph of
250 kB, 1 MB and 4 MB (the first article of ``seeds/`` repeated): CPU seconds (what the algorithm
costs, whatever else the machine runs) and wall seconds, median of ``--runs``. The embedding that
``factbot build`` does afterwards (``Engine.load``) and the process's start are not included.
Target: 1 MB in under 2 s of CPU, and time growing in step with length.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bot.engine.articles import load_article
from bot.engine.build import build_index

REPO = Path(__file__).resolve().parents[1]
SIZES = (250_000, 1_000_000, 4_000_000)
TARGET_CPU_S = 2.0
TARGET_SIZE = 1_000_000


def one_paragraph_of(size: int) -> str:
    """About ``size`` characters of real prose as one paragraph, cut at a word."""
    article = load_article(sorted((REPO / "seeds").glob("*.md"))[0])
    prose = " ".join(article.paragraphs)
    return (" ".join([prose] * (size // len(prose) + 1)))[:size].rsplit(" ", 1)[0]


def measure(size: int, runs: int) -> tuple[int, float, float]:
    """Facts built, and median CPU and wall seconds of ``build_index`` on one paragraph of ``size``."""
    cpu, wall, facts = [], [], 0
    with tempfile.TemporaryDirectory() as scratch:
        seeds = Path(scratch) / "seeds"
        seeds.mkdir()
        (seeds / "long.txt").write_text(one_paragraph_of(size) + "\n", "utf-8")
        for run in range(runs):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            report = build_index(seeds, Path(scratch) / f"facts{run}")
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
            facts = report.facts
    return facts, statistics.median(cpu), statistics.median(wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="builds per size (default: 3)")
    args = parser.parse_args()
    print("| paragraph | facts | build CPU (median) | build wall (median) | CPU per MB | target | result |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | --- |")
    passed = True
    for size in SIZES:
        facts, cpu, wall = measure(size, args.runs)
        target, result = "", ""
        if size == TARGET_SIZE:
            passed = cpu < TARGET_CPU_S
            target, result = f"< {TARGET_CPU_S:g} s CPU", "pass" if passed else "FAIL"
        print(
            f"| {size / 1e6:g} MB | {facts:,} | {cpu:.2f} s | {wall:.2f} s | {cpu / (size / 1e6):.2f} s "
            f"| {target} | {result} |"
        )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"| load average at the end (1, 5, 15 min; {os.cpu_count()} cores) | {load} | | | | | |")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
