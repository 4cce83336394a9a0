"""``factbot check``: every facts file against the schema and the articles, as ``path:line: message``."""

from __future__ import annotations

from pathlib import Path

from bot.engine.articles import Article, load_articles
from bot.engine.facts import facts_paths, load_facts_files, load_vocabulary, parse_facts_file
from bot.errors import ArticleError, FactsFileError


def check_index(facts_dir: Path, seeds_dir: Path) -> tuple[list[str], list[str]]:
    """Return (problems, warnings). No problems means the index is sound."""
    problems: list[str] = []
    warnings: list[str] = []
    try:
        articles = {a.stem: a for a in load_articles(seeds_dir)}
    except ArticleError as exc:
        return [str(exc)], warnings
    if not facts_paths(facts_dir):
        return [f"{facts_dir}: no facts files; run `factbot build`"], warnings
    try:
        load_vocabulary(facts_dir)
    except FactsFileError as exc:
        problems.extend(exc.problems)
    try:
        files = load_facts_files(facts_dir)
    except FactsFileError as exc:
        problems.extend(exc.problems)
        files = [f for p in facts_paths(facts_dir) if (f := parse_facts_file(p)[0]) is not None]
    covered: set[str] = set()
    for facts_file in files:
        article = articles.get(facts_file.article)
        if article is None:
            problems.append(
                f"{facts_file.path}:1: unknown article {facts_file.article!r}: no such file in {seeds_dir}"
            )
            continue
        covered.add(article.stem)
        problems.extend(_check_quotes(facts_file.path, facts_file.facts, facts_file.fact_lines, article))
        warnings.extend(_check_order(facts_file.path, facts_file.facts, facts_file.fact_lines, article))
        for orphan in facts_file.orphaned:
            warnings.append(
                f"{facts_file.path}: orphaned curated fact {orphan.get('id')!r}: its quote is no longer in "
                "the article; move its answer/questions to the fact that replaced it, then delete it"
            )
    # A facts file too broken to parse is reported above; its article is not also "without a file".
    parsed_paths = {f.path for f in files}
    covered.update(p.stem for p in facts_paths(facts_dir) if p not in parsed_paths)
    for stem, article in articles.items():
        if stem not in covered:
            problems.append(f"{article.path}:1: article has no facts file; run `factbot build`")
    return problems, warnings


def _check_quotes(path: Path, facts, lines: dict[str, int], article: Article) -> list[str]:
    problems = []
    for fact in facts:
        line = lines.get(fact.id, 1)
        if fact.paragraph > len(article.paragraphs):
            problems.append(
                f"{path}:{line}: fact {fact.id}: paragraph {fact.paragraph} does not exist "
                f"({article.stem} has {len(article.paragraphs)})"
            )
        elif fact.quote not in article.paragraphs[fact.paragraph - 1]:
            where = next((i for i, p in enumerate(article.paragraphs, 1) if fact.quote in p), None)
            hint = f" (it is in paragraph {where})" if where else " (it is nowhere in the article)"
            problems.append(
                f"{path}:{line}: fact {fact.id}: quote is not word for word in paragraph "
                f"{fact.paragraph} of {article.stem}{hint}"
            )
    return problems


def _check_order(path: Path, facts, lines: dict[str, int], article: Article) -> list[str]:
    """A fact listed before one that comes earlier in the article: answers read a sentence with the
    one before it (whom "it" names), so each fact belongs where its sentence stands."""
    warnings = []
    last: tuple[int, int] = (0, -1)
    for fact in facts:
        if fact.paragraph > len(article.paragraphs):
            continue
        at = (fact.paragraph, article.paragraphs[fact.paragraph - 1].find(fact.quote))
        if at[1] < 0:
            continue  # reported as a problem
        if at < last:
            warnings.append(
                f"{path}:{lines.get(fact.id, 1)}: fact {fact.id} is listed after a fact that follows it in "
                f"the article; move it to where its sentence stands (paragraph {fact.paragraph})"
            )
        else:
            last = at
    return warnings
