"""Seed articles: reading ``.md`` (optional YAML front matter) and ``.txt`` files into paragraphs."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.engine.facts import YamlAnchorError, load_yaml_text, read_text_file, yaml_error_line
from bot.errors import ArticleError, TextFileError

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".txt")
# The largest seed read (its facts file is about 1.7 times as large).
MAX_SEED_BYTES = 32 * 1024 * 1024
# A seed is refused as not article text when control characters make up more than this share of
# its characters (not counting white space), or letters less than _MIN_LETTERS.
_MAX_CONTROLS = 0.05
_MIN_LETTERS = 0.5
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # not tab, line ends, form feed
_SPACE_RE = re.compile(r"\s")
_LETTER_RE = re.compile(r"[^\W\d_]")

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
                meta = load_yaml_text(raw) or {}
            except YamlAnchorError as exc:
                raise ArticleError(f"{path}:{yaml_error_line(exc) + 2}: front matter: {exc}") from None
            except yaml.YAMLError as exc:
                marked = isinstance(exc, yaml.MarkedYAMLError)
                line_no = yaml_error_line(exc) + 2 if marked else 2
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


def _refuse_junk(path: Path, body: str, first_line: int) -> None:
    """ArticleError when ``body`` is not prose: mostly control characters, or too few letters.

    Such a file is valid UTF-8 (binary junk often is) but would become hundreds of junk facts.
    """
    _, spaces = _SPACE_RE.subn("", body)
    characters = len(body) - spaces
    if not characters:
        return
    _, controls = _CONTROL_RE.subn("", body)
    if controls > _MAX_CONTROLS * characters:
        first = _CONTROL_RE.search(body)
        line = first_line + body.count("\n", 0, first.start()) if first else first_line
        raise ArticleError(
            f"{path}:{line}: not article text: {controls / characters:.0%} of its characters are control "
            "characters; save the article as plain text"
        )
    _, letters = _LETTER_RE.subn("", body)
    if letters < _MIN_LETTERS * characters:
        raise ArticleError(
            f"{path}:{first_line}: not article text: only {letters / characters:.0%} of its characters are "
            "letters; a seed must be prose"
        )


def load_article(path: Path) -> Article:
    """Read one seed file. Raises ArticleError with ``path:line`` on anything malformed."""
    if path.suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(f"{path}: unsupported seed type (use .md or .txt)")
    try:
        text = read_text_file(path, MAX_SEED_BYTES, encoding="utf-8-sig")
    except TextFileError as exc:
        raise ArticleError(str(exc)) from None
    meta: dict = {}
    body = text
    if path.suffix == ".md":
        meta, body = _split_front_matter(text, path)
    _refuse_junk(path, body, first_line=text.count("\n", 0, len(text) - len(body)) + 1)
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
