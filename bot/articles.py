"""Seed articles: reading ``.md`` (optional YAML front matter) and ``.txt`` files into paragraphs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ArticleError

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".txt")

# Page furniture copied along with an article: comment forms, share bars, newsletter boxes.
# A line that is wholly one of these is not article text.
_FURNITURE_LINE = re.compile(
    r"""^\s*(?:
        leave\ a\ (?:reply|comment)(?:\ cancel\ reply)?
      | (?:your\ )?email\ address\ will\ not\ be\ published\b.*
      | required\ fields\ are\ marked\b.*
      | (?:post\ )?comments?\ ?(?:\(\d+\))?:?
      | \d+\ comments?
      | share\ (?:this|on\ \w+)(?:\ (?:article|post|story))?:?
      | like\ this:?
      | related(?:\ (?:posts|articles|stories))?:?
      | (?:subscribe|sign\ up)\ (?:to|for)\ (?:our|the)\ newsletter\b.*
      | click\ to\ (?:share|print|email)\b.*
      | (?:posted\ in|filed\ under|tags?):.*
      | (?:copyright\ )?©.*|all\ rights\ reserved\.?
      | (?:previous|next)\ (?:post|article)\b.*
      | advertisement
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Once a comment section opens, nothing after it is article text.
_COMMENTS_START = re.compile(r"^\s*(?:leave\ a\ (?:reply|comment)|\d+\ comments?|comments)\s*$", re.I | re.X)


@dataclass(frozen=True)
class Article:
    """An article as indexed: its file stem, title, optional metadata and its paragraphs."""

    stem: str
    title: str
    paragraphs: tuple[str, ...]
    path: Path
    url: str | None = None
    published: str | None = None
    author: str | None = None


def title_from_stem(stem: str) -> str:
    """A readable title from a file name: ``steam_engine`` -> ``Steam engine``."""
    words = re.sub(r"[_\-]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


def _split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return {}, text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            raw = "".join(lines[1:index])
            try:
                meta = yaml.safe_load(raw) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line_no = mark.line + 2 if mark else 2
                raise ArticleError(f"{path}:{line_no}: front matter is not valid YAML: {exc}") from None
            if not isinstance(meta, dict):
                raise ArticleError(
                    f"{path}:2: front matter must be a mapping of title, url, published, author"
                )
            return meta, "".join(lines[index + 1 :])
    raise ArticleError(f"{path}:1: front matter opened with '---' is never closed")


def paragraphs_of(body: str) -> tuple[str, ...]:
    """Every non-empty line is a paragraph; page furniture and a trailing comment section are dropped."""
    lines = [line.strip() for line in body.splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line:
            continue
        if _COMMENTS_START.match(line) and kept:
            break
        if _FURNITURE_LINE.match(line):
            continue
        kept.append(line)
    return tuple(kept)


def load_article(path: Path) -> Article:
    """Read one seed file. Raises ArticleError with ``path:line`` on anything malformed."""
    if path.suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(f"{path}: unsupported seed type (use .md or .txt)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    meta: dict = {}
    body = text
    if path.suffix == ".md":
        meta, body = _split_front_matter(text, path)
    title = str(meta.get("title") or "").strip() or title_from_stem(path.stem)
    paragraphs = paragraphs_of(body)
    if not paragraphs:
        raise ArticleError(f"{path}: the article has no text")
    unknown = set(meta) - {"title", "url", "published", "author"}
    if unknown:
        logger.warning("%s: front matter keys ignored: %s", path, ", ".join(sorted(unknown)))
    return Article(
        stem=path.stem,
        title=title,
        paragraphs=paragraphs,
        path=path,
        url=_optional_str(meta.get("url")),
        published=_optional_str(meta.get("published")),
        author=_optional_str(meta.get("author")),
    )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def article_paths(seeds_dir: Path) -> list[Path]:
    """The seed files of a directory, sorted by name (hidden files and README skipped)."""
    if not seeds_dir.is_dir():
        raise ArticleError(f"{seeds_dir}: no such seeds directory (set --seeds or FACTBOT_SEEDS_DIR)")
    return sorted(
        p
        for p in seeds_dir.iterdir()
        if p.is_file()
        and p.suffix in ARTICLE_SUFFIXES
        and not p.name.startswith(".")
        and p.stem.lower() != "readme"
    )


def load_articles(seeds_dir: Path) -> list[Article]:
    """Every article of ``seeds_dir``; stems must be unique."""
    articles = [load_article(p) for p in article_paths(seeds_dir)]
    seen: dict[str, Path] = {}
    for article in articles:
        if article.stem in seen:
            raise ArticleError(f"{article.path}: same name as {seen[article.stem]}; rename one of them")
        seen[article.stem] = article.path
    return articles
