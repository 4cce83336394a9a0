"""Reading and hand-editing facts YAML files the way a curator would: as text, line by line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from bot.engine.articles import Article, load_article

REPO = Path(__file__).resolve().parents[2]


def copy_index(destination: Path) -> tuple[Path, Path]:
    """Copy the committed ``seeds/`` and ``facts/`` to ``destination``; return (seeds, facts)."""
    seeds, facts = destination / "seeds", destination / "facts"
    shutil.copytree(REPO / "seeds", seeds)
    shutil.copytree(REPO / "facts", facts)
    return seeds, facts


def read_facts(path: Path) -> dict[str, Any]:
    """A facts file as plain data (PyYAML's own loader, not ours)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def facts_by_id(path: Path) -> dict[str, dict[str, Any]]:
    return {fact["id"]: fact for fact in read_facts(path)["facts"]}


def line_of_fact(path: Path, fact_id: str) -> int:
    """The 1-based line of ``- id: <fact_id>`` in the file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == f"- id: {fact_id}")


def curate(path: Path, fact_id: str, **fields: Any) -> None:
    """Add ``answer:``, ``questions:`` or ``hidden:`` to one fact, typed in under its ``id`` line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = line_of_fact(path, fact_id)
    added = [f"  {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in fields.items()]
    path.write_text("".join(lines[:at] + added + lines[at:]), encoding="utf-8")


def move_first_fact_to_end(path: Path) -> None:
    """Cut the first fact of a facts file and append it after the last, as a curator might."""
    text = path.read_text(encoding="utf-8")
    first = text.index("\n- id:") + 1
    second = text.index("\n- id:", first) + 1
    path.write_text(text[:first] + text[second:] + text[first:second], encoding="utf-8")


def replace_line(path: Path, line: int, text: str) -> None:
    """Replace 1-based ``line`` of the file with ``text``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def fact_with(path: Path, needle: str) -> dict[str, Any]:
    """The one fact of the file whose quote contains ``needle``."""
    [fact] = [f for f in read_facts(path)["facts"] if needle in f["quote"]]
    return fact


def seed_article(seeds: Path, stem: str) -> Article:
    [path] = [p for p in seeds.iterdir() if p.stem == stem]
    return load_article(path)
