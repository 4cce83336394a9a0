"""Helpers shared by the benchmarks: paths, timing statistics, text matching, machine facts, output."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def shared_dir() -> Path:
    """The project's ``shared/`` folder: $FACTBOT_SHARED, else the repo's parent's ``shared/``."""
    env = os.environ.get("FACTBOT_SHARED", "").strip()
    return Path(env) if env else REPO.parent / "shared"


def norm(text: str) -> str:
    """Case-, quote-, dash- and whitespace-insensitive form of a text, for containment checks."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _SPACE.sub(" ", text).strip().casefold()


def contains_any(quote: str | None, answers: Iterable[str]) -> bool:
    """True when ``quote`` contains one of ``answers`` (compared with :func:`norm`)."""
    if not quote:
        return False
    q = norm(quote)
    return any(a and norm(a) in q for a in answers)


def simple_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (the 'simple tokenisation' of the rank_bm25 peer)."""
    return _WORD.findall(text.lower())


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of already sorted values, linearly interpolated."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_stats(seconds: Iterable[float]) -> dict[str, float]:
    """p50/p90/p99/mean/max in milliseconds, plus the count."""
    values = sorted(s * 1000 for s in seconds)
    if not values:
        return {"n": 0, "p50_ms": float("nan"), "p90_ms": float("nan"), "p99_ms": float("nan")}
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99),
        "mean_ms": sum(values) / len(values),
        "max_ms": values[-1],
    }


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """This process's current resident set in MB (0 where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def git_revision() -> str:
    """The short commit the benchmark ran on (with '+dirty' for uncommitted changes), or '?'."""
    import subprocess

    try:
        cmd = ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]
        rev = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def write_result(name: str, data: dict[str, Any], path: Path | None = None) -> Path:
    """Write a benchmark's figures as JSON (default ``bench/results/<name>.json``) and return the path."""
    path = path or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), "revision": git_revision(), **data}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def pct(x: float | None, digits: int = 1) -> str:
    """A share as a percentage string ('-' for None)."""
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def mark(ok: bool | None) -> str:
    """A pass/fail mark for a target."""
    return "" if ok is None else ("ok" if ok else "MISSED")


def table(rows: Sequence[Sequence[Any]], header: Sequence[str], align: str = "") -> str:
    """A plain-text table; ``align`` has one 'l' or 'r' per column (default: first left, rest right)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or "l" + "r" * (len(header) - 1)
    lines = []
    for n, row in enumerate(cells):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
