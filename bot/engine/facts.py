"""The fact index on disk: one reviewable YAML file per article in ``facts/``, plus ``aliases.yaml``.

Reading keeps line numbers, so every problem is reported as ``path:line: message``.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.engine.model import Fact, Span
from bot.engine.text import fold
from bot.errors import FactsFileError, TextFileError

logger = logging.getLogger(__name__)

ALIASES_FILE = "aliases.yaml"
# The largest facts or aliases file read: a bound on the memory parsing takes (a 1 MB paragraph
# makes a facts file of about 1.7 MB).
MAX_YAML_BYTES = 64 * 1024 * 1024
CURATED_FIELDS = ("answer", "questions", "hidden")
_FACT_KEYS = frozenset({"id", "paragraph", "quote", "spans", *CURATED_FIELDS})
_FILE_KEYS = frozenset({"article", "title", "url", "facts", "orphaned"})

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _LineLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader (libyaml's parser when installed) for reading documents with their lines."""


class _LineDict(dict):
    """A dict that knows the line of its first key and of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class YamlAnchorError(yaml.MarkedYAMLError):
    """An anchor (``&name``) or alias (``*name``): refused, as an alias may expand a few hundred bytes
    into gigabytes (a "billion laughs" file). FactBot's files never need one."""

    def __str__(self) -> str:
        return self.problem or "YAML anchors and aliases are not allowed"


# Where an anchor or alias can stand: at the start, after white space, a flow indicator or ':'.
# Anything this misses is no anchor; what it finds is checked by the parser (`R&D` is text).
_ANCHOR_CANDIDATE_RE = re.compile(r"(?:^|[\s\[{,:\ufeff])[&*][^\s\[\]{},]")


def refuse_anchors(text: str) -> None:
    """Raise YamlAnchorError at the first anchor or alias of the YAML ``text``, before anything is built.

    Parsing events is linear in the text and expands nothing.
    """
    if not _ANCHOR_CANDIDATE_RE.search(text):
        return
    loader = _LineLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                problem = f"YAML alias *{event.anchor} is not allowed (no anchors or aliases in this file)"
            elif getattr(event, "anchor", None):
                problem = f"YAML anchor &{event.anchor} is not allowed (no anchors or aliases in this file)"
            else:
                continue
            raise YamlAnchorError(None, None, problem, event.start_mark)
    finally:
        loader.dispose()


def load_yaml_text(text: str) -> Any:
    """A safe load of ``text`` that refuses anchors and aliases (raises yaml.YAMLError)."""
    refuse_anchors(text)
    return yaml.load(text, Loader=_BaseLoader)  # a safe loader


def _load_with_lines(text: str) -> Any:
    """The YAML document in ``text`` as plain values, with every mapping a _LineDict.

    Anchors and aliases are refused first. The parser builds the node tree; plain strings, lists
    and mappings are then read straight off the nodes (PyYAML's constructor machinery costs more
    than the parsing). Any other tag is left to the safe constructor, so values and errors are those
    of a safe load.
    """
    refuse_anchors(text)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _node_value(loader, node, set())
    finally:
        loader.dispose()


def _node_value(loader: yaml.SafeLoader, node: yaml.Node, seen: set[int]) -> Any:
    if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
        return node.value
    if node.tag not in (_MAP_TAG, _SEQ_TAG) or isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node, deep=True)
    if id(node) in seen:  # a node reached twice is an alias (refused above; never expand one)
        raise YamlAnchorError(None, None, "YAML anchors and aliases are not allowed", node.start_mark)
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(loader, item, seen) for item in node.value]
    loader.flatten_mapping(node)
    value = _LineDict()
    value.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = _node_value(loader, key_node, seen)
        value[key] = _node_value(loader, value_node, seen)
        value.key_lines[key] = key_node.start_mark.line + 1
    return value


def yaml_error_line(exc: yaml.MarkedYAMLError) -> int:
    """The 0-based line to blame: where an unclosed quote or bracket opened, else where parsing failed."""
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark and exc.context and ("quoted scalar" in exc.context or "flow" in exc.context):
        mark = exc.context_mark
    return mark.line if mark else 0


def read_text_file(path: Path, limit: int, encoding: str = "utf-8") -> str:
    """The text of a UTF-8 file of at most ``limit`` bytes, line ends made ``\\n``.

    Raises TextFileError with one ``path:line: message`` when it cannot be read, is larger, or is
    not UTF-8 (a Latin-1 or binary file).
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise TextFileError(f"{path}:1: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise TextFileError(
            f"{path}:1: file too large: over {limit // (1024 * 1024)} MiB; split it into smaller files"
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TextFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# What YAML 1.1 allows in a stream (tab, line ends, printable characters).
_NOT_YAML_CHAR_RE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; any problem becomes FactsFileError with one ``path:line: message``.

    The file is refused before anything is expanded when it is larger than MAX_YAML_BYTES, not
    UTF-8, or holds an anchor or alias.
    """
    try:
        text = read_text_file(path, MAX_YAML_BYTES)
    except TextFileError as exc:
        raise FactsFileError([str(exc)]) from None
    try:
        return _load_with_lines(text)
    except YamlAnchorError as exc:
        raise FactsFileError([f"{path}:{yaml_error_line(exc) + 1}: {exc}"]) from None
    except yaml.MarkedYAMLError as exc:
        line = yaml_error_line(exc) + 1
        problem = exc.problem or "malformed YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise FactsFileError([f"{path}:{line}: malformed YAML: {problem}"]) from None
    except yaml.reader.ReaderError:  # a character YAML does not allow (NUL, other controls)
        bad = _NOT_YAML_CHAR_RE.search(text)
        where = f"{text.count(chr(10), 0, bad.start()) + 1}" if bad else "1"
        code = f"U+{ord(bad.group()):04X}" if bad else "a character"
        raise FactsFileError([f"{path}:{where}: malformed YAML: {code} is not allowed in YAML"]) from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise FactsFileError([f"{path}:1: malformed YAML: {message}"]) from None


# ---------------------------------------------------------------------------------------------
# Facts files
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactsFile:
    """The facts of one article as stored in ``facts/<article>.yaml``."""

    path: Path
    article: str
    title: str
    facts: tuple[Fact, ...]
    orphaned: tuple[dict[str, Any], ...] = ()
    url: str | None = None
    fact_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


def fact_id(article: str, quote: str, taken: set[str], next_free: dict[str, int] | None = None) -> str:
    """A stable id from the article and the quote, so curation survives a rebuild.

    A repeated quote gets ``-2``, ``-3``...; ``next_free`` (kept by the caller across calls)
    remembers how far each id has been numbered, so many repeats cost no more than one.
    """
    digest = hashlib.sha1(f"{article}\n{fold(quote).strip()}".encode()).hexdigest()[:8]
    prefix = re.sub(r"[^A-Za-z0-9]+", "-", article).strip("-")[:24] or "fact"
    base = f"{prefix}-{digest}"
    n = next_free.get(base, 1) if next_free is not None else 1
    candidate = base if n == 1 else f"{base}-{n}"
    while candidate in taken:
        candidate, n = f"{base}-{n + 1}", n + 1
    taken.add(candidate)
    if next_free is not None:
        next_free[base] = n
    return candidate


def _span_to_yaml(span: Span) -> list[str]:
    return [span.kind, span.text]


def _spans_from_yaml(raw: Any, quote: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    cursor = 0
    for item in raw or ():
        if not (isinstance(item, list) and len(item) == 2):
            continue
        kind, text = str(item[0]), str(item[1])
        start = quote.find(text, cursor)
        if start < 0:
            start = quote.find(text)
        if start < 0:
            continue
        spans.append(Span(kind, text, start, start + len(text)))
        cursor = start + len(text)
    return tuple(spans)


def fact_to_yaml(fact: Fact) -> dict[str, Any]:
    """The YAML mapping of a fact: generated fields first, curated ones after."""
    out: dict[str, Any] = {"id": fact.id, "paragraph": fact.paragraph, "quote": fact.quote}
    if fact.spans:
        out["spans"] = [_span_to_yaml(s) for s in fact.spans]
    if fact.answer:
        out["answer"] = fact.answer
    if fact.questions:
        out["questions"] = list(fact.questions)
    if fact.hidden:
        out["hidden"] = True
    return out


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Readable YAML: block style, long lines unfolded, span pairs inline."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = len(data) == 2 and all(isinstance(x, str) for x in data) and len(str(data)) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)
# Orphaned facts are carried over as read, in line-numbered dicts.
_Dumper.add_representer(_LineDict, _Dumper.represent_dict)
# Never write an anchor or alias (reading refuses them), even for an object written twice.
_Dumper.ignore_aliases = lambda self, data: True  # type: ignore[method-assign]


def write_facts_file(facts_file: FactsFile) -> None:
    """Write one article's facts, with a header telling curators what they may edit."""
    header = (
        f"# Facts of {facts_file.article}: one per sentence, written by `factbot build`.\n"
        "# Curate a fact by adding `answer:` (a short answer), `questions:` (other ways to ask it)\n"
        "# or `hidden: true`. A rebuild keeps these edits; `factbot check` validates the file.\n"
    )
    document: dict[str, Any] = {
        "article": facts_file.article,
        "title": facts_file.title,
        **({"url": facts_file.url} if facts_file.url else {}),
        "facts": [fact_to_yaml(f) for f in facts_file.facts],
    }
    if facts_file.orphaned:
        document["orphaned"] = list(facts_file.orphaned)
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000)
    facts_file.path.write_text(header + body, encoding="utf-8")


def _problem(path: Path, line: int, message: str) -> str:
    return f"{path}:{line}: {message}"


def parse_facts_file(path: Path) -> tuple[FactsFile | None, list[str]]:
    """Parse and schema-check one facts file. Returns the file (None if unusable) and problems."""
    try:
        data = read_yaml(path)
    except FactsFileError as exc:
        return None, exc.problems
    problems: list[str] = []
    if not isinstance(data, dict):
        return None, [_problem(path, 1, "expected a mapping with keys article, title, facts")]
    for key in data:
        if key not in _FILE_KEYS:
            problems.append(_problem(path, data.line_of(key), f"unknown key {key!r}"))
    article = data.get("article")
    if not isinstance(article, str) or not article.strip():
        problems.append(_problem(path, data.line_of("article"), "`article` must name a seed file stem"))
        article = path.stem
    title = data.get("title")
    if not isinstance(title, str):
        problems.append(_problem(path, data.line_of("title"), "`title` must be a string"))
        title = article
    raw_facts = data.get("facts")
    if not isinstance(raw_facts, list):
        problems.append(_problem(path, data.line_of("facts"), "`facts` must be a list"))
        raw_facts = []
    facts: list[Fact] = []
    lines: dict[str, int] = {}
    for raw in raw_facts:
        fact = _parse_fact(path, raw, article, problems)
        if fact is not None and fact.id in lines:
            problems.append(
                _problem(path, raw.line, f"duplicate fact id {fact.id!r} (first at {path}:{lines[fact.id]})")
            )
        elif fact is not None:
            facts.append(fact)
            lines[fact.id] = raw.line
    orphaned = data.get("orphaned") or []
    if not isinstance(orphaned, list):
        problems.append(_problem(path, data.line_of("orphaned"), "`orphaned` must be a list"))
        orphaned = []
    url = data.get("url")
    url = str(url) if url else None
    return FactsFile(path, article, title, tuple(facts), tuple(orphaned), url, lines), problems


def _parse_fact(path: Path, raw: Any, article: str, problems: list[str]) -> Fact | None:
    if not isinstance(raw, dict):
        line = getattr(raw, "line", 1)
        problems.append(_problem(path, line, "each fact must be a mapping with id, paragraph, quote"))
        return None
    before = len(problems)
    for key in raw:
        if key not in _FACT_KEYS:
            problems.append(_problem(path, raw.line_of(key), f"unknown fact key {key!r}"))
    fid, paragraph, quote = raw.get("id"), raw.get("paragraph"), raw.get("quote")
    if not isinstance(fid, str) or not fid.strip():
        problems.append(_problem(path, raw.line_of("id"), "fact `id` must be a non-empty string"))
    if not isinstance(paragraph, int) or isinstance(paragraph, bool) or paragraph < 1:
        problems.append(_problem(path, raw.line_of("paragraph"), "`paragraph` must be a number from 1"))
    if not isinstance(quote, str) or not quote.strip():
        problems.append(_problem(path, raw.line_of("quote"), "`quote` must be a non-empty string"))
    answer = raw.get("answer")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        problems.append(_problem(path, raw.line_of("answer"), "`answer` must be a non-empty string"))
    questions = raw.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        problems.append(_problem(path, raw.line_of("questions"), "`questions` must be a list of strings"))
        questions = []
    hidden = raw.get("hidden", False)
    if not isinstance(hidden, bool):
        problems.append(_problem(path, raw.line_of("hidden"), "`hidden` must be true or false"))
    if len(problems) > before:
        return None
    return Fact(
        id=fid,
        article=article,
        paragraph=paragraph,
        quote=quote,
        spans=_spans_from_yaml(raw.get("spans"), quote),
        answer=answer.strip() if answer else None,
        questions=tuple(q.strip() for q in questions),
        hidden=hidden,
    )


def facts_paths(facts_dir: Path) -> list[Path]:
    """The per-article facts files of ``facts_dir`` (everything but aliases.yaml)."""
    if not facts_dir.is_dir():
        return []
    return sorted(p for p in facts_dir.glob("*.yaml") if p.name != ALIASES_FILE)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; reference counting still frees what is dropped.

    Loading facts makes millions of objects and frees few, so the collector would walk them all
    again and again as they pile up: that costs more than the loading itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_facts_files(facts_dir: Path) -> list[FactsFile]:
    """Every facts file, or FactsFileError listing every problem."""
    files: list[FactsFile] = []
    problems: list[str] = []
    with collector_paused():
        for path in facts_paths(facts_dir):
            parsed, found = parse_facts_file(path)
            problems.extend(found)
            if parsed is not None:
                files.append(parsed)
    seen: dict[str, str] = {}
    for facts_file in files:
        for fact in facts_file.facts:
            where = f"{facts_file.path}:{facts_file.fact_lines.get(fact.id, 1)}"
            if fact.id in seen:
                problems.append(f"{where}: duplicate fact id {fact.id!r} (first at {seen[fact.id]})")
            else:
                seen[fact.id] = where
    if problems:
        raise FactsFileError(problems)
    return files


# ---------------------------------------------------------------------------------------------
# Aliases and synonyms
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Names of the same thing (``aliases``) and words of like meaning (``synonyms``)."""

    aliases: tuple[tuple[str, ...], ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()


def load_vocabulary(facts_dir: Path) -> Vocabulary:
    """Read ``aliases.yaml``; a missing file means no aliases."""
    path = facts_dir / ALIASES_FILE
    if not path.is_file():
        return Vocabulary()
    data = read_yaml(path)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise FactsFileError([_problem(path, 1, "expected a mapping with keys aliases and synonyms")])
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    for key in data:
        if key not in ("aliases", "synonyms"):
            problems.append(_problem(path, data.line_of(key), f"unknown key {key!r} (use aliases, synonyms)"))
    for key in ("aliases", "synonyms"):
        raw = data.get(key) or []
        if not isinstance(raw, list):
            problems.append(_problem(path, data.line_of(key), f"`{key}` must be a list of lists"))
            raw = []
        parsed: list[tuple[str, ...]] = []
        for index, group in enumerate(raw):
            if not isinstance(group, list) or len(group) < 2 or not all(isinstance(x, str) for x in group):
                line = data.line_of(key) + 1 + index
                problems.append(_problem(path, line, f"each `{key}` entry must list two or more words"))
                continue
            parsed.append(tuple(x.strip() for x in group if x.strip()))
        groups[key] = tuple(parsed)
    if problems:
        raise FactsFileError(problems)
    return Vocabulary(aliases=groups["aliases"], synonyms=groups["synonyms"])
