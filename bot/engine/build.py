"""``factbot build``: turn seed articles into facts files, keeping curators' edits."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.engine.articles import Article, load_articles
from bot.engine.facts import (
    CURATED_FIELDS,
    FactsFile,
    fact_id,
    fact_to_yaml,
    facts_paths,
    parse_facts_file,
    write_facts_file,
)
from bot.engine.model import Fact
from bot.engine.spans import find_spans
from bot.engine.text import split_sentences

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orphan:
    """A curated fact whose quote no longer stands in its article."""

    path: Path
    fact_id: str
    quote: str


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    articles: int
    facts: int
    written: tuple[Path, ...]
    orphans: tuple[Orphan, ...] = ()
    removed: tuple[Path, ...] = ()
    kept_for_curation: tuple[Path, ...] = field(default_factory=tuple)


def article_facts(article: Article) -> list[Fact]:
    """One fact per sentence of the article, with typed spans, ids stable across rebuilds."""
    lowercase_words = frozenset(
        word for paragraph in article.paragraphs for word in re.findall(r"\b[a-z][a-z'-]+\b", paragraph)
    )
    taken: set[str] = set()
    next_free: dict[str, int] = {}
    facts: list[Fact] = []
    for number, paragraph in enumerate(article.paragraphs, start=1):
        for start, end in split_sentences(paragraph):
            quote = paragraph[start:end]
            facts.append(
                Fact(
                    id=fact_id(article.stem, quote, taken, next_free),
                    article=article.stem,
                    paragraph=number,
                    quote=quote,
                    spans=find_spans(quote, lowercase_words),
                )
            )
    return facts


def _is_curated(fact: Fact) -> bool:
    return bool(fact.answer or fact.questions or fact.hidden)


def build_index(seeds_dir: Path, facts_dir: Path) -> BuildReport:
    """Write ``facts_dir/<article>.yaml`` for every seed; curated fields are carried over by id."""
    articles = load_articles(seeds_dir)
    facts_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    orphans: list[Orphan] = []
    total = 0
    for article in articles:
        path = facts_dir / f"{article.stem}.yaml"
        previous, previous_orphans = _previous_curation(path)
        facts = []
        for fact in article_facts(article):
            old = previous.pop(fact.id, None)
            if old is not None:
                fact = replace(fact, answer=old.answer, questions=old.questions, hidden=old.hidden)
            facts.append(fact)
        lost = [f for f in previous.values() if _is_curated(f)]
        for fact in lost:
            orphans.append(Orphan(path, fact.id, fact.quote))
            logger.warning("%s: curated fact %s no longer matches a sentence of the article", path, fact.id)
        kept_orphans = list(previous_orphans) + [
            {k: v for k, v in fact_to_yaml(f).items() if k in ("id", "paragraph", "quote", *CURATED_FIELDS)}
            for f in lost
        ]
        write_facts_file(
            FactsFile(path, article.stem, article.title, tuple(facts), tuple(kept_orphans), article.url)
        )
        written.append(path)
        total += len(facts)
    removed, kept = _remove_stale(facts_dir, {a.stem for a in articles}, set(written))
    return BuildReport(len(articles), total, tuple(written), tuple(orphans), tuple(removed), tuple(kept))


def _previous_curation(path: Path) -> tuple[dict[str, Fact], tuple[dict, ...]]:
    """Curated fields of the facts file being replaced; a broken file stops the build, losing nothing."""
    if not path.exists():
        return {}, ()
    parsed, problems = parse_facts_file(path)
    if parsed is None or problems:
        from bot.errors import FactsFileError

        raise FactsFileError([*problems, f"{path}:1: fix this file before rebuilding, so no edit is lost"])
    return {f.id: f for f in parsed.facts}, parsed.orphaned


def _remove_stale(facts_dir: Path, stems: set[str], written: set[Path]) -> tuple[list[Path], list[Path]]:
    """Delete facts files of articles that are gone, unless they hold curation (then keep and say so).

    The files just ``written`` are of current articles: they are not read again.
    """
    removed: list[Path] = []
    kept: list[Path] = []
    for path in facts_paths(facts_dir):
        if path in written:
            continue
        parsed, _ = parse_facts_file(path)
        article = parsed.article if parsed else path.stem
        if article in stems:
            continue
        if parsed is not None and not parsed.orphaned and not any(_is_curated(f) for f in parsed.facts):
            path.unlink()
            removed.append(path)
        else:
            kept.append(path)
            logger.warning("%s: its article is gone but it holds curated facts; kept", path)
    return removed, kept
