"""Running the real ``factbot`` command in a subprocess, with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def factbot_command() -> list[str]:
    """The installed ``factbot`` script next to this interpreter, else ``python -m bot.cli``."""
    script = Path(sys.executable).with_name("factbot")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot.cli"]


def clean_env() -> dict[str, str]:
    """The current environment without any Slack or FactBot setting, so defaults and flags rule."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}


def run_factbot(
    *args: str | Path, cwd: Path = REPO, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``factbot ARGS`` in ``cwd`` and return its exit code and output."""
    return subprocess.run(
        [*factbot_command(), *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=timeout,
    )


def run_python(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a fresh interpreter (the one running the tests)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
