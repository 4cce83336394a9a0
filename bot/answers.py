"""From a ranked fact to a short answer: the question's type, the span that answers it, a clause.

A short answer is never invented: it is a piece of the quote (a typed span with the clause that
holds it, or the clause that covers the question), or a curator's ``answer``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.matching import Term
from bot.model import Fact, Span
from bot.text import fold

# Question type -> (preferred span kinds, other acceptable span kinds).
ANSWER_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "date": (frozenset({"date", "year"}), frozenset()),
    "year": (frozenset({"year"}), frozenset({"date"})),
    "day": (frozenset({"date"}), frozenset({"year"})),
    "money": (frozenset({"money"}), frozenset({"count"})),
    "count": (frozenset({"count"}), frozenset({"money"})),
    "percent": (frozenset({"percent"}), frozenset()),
    "person": (frozenset({"person", "org"}), frozenset({"name", "place"})),
    "place": (frozenset({"place"}), frozenset({"name", "org"})),
    "name": (frozenset({"name", "org", "person", "place"}), frozenset()),
}
# Types whose answer must be a span of that kind: no span, no answer from that fact.
STRICT_TYPES = frozenset({"date", "year", "day", "money", "count", "percent"})

_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "percent",
            r"\b(?:what|which)\s+(?:percentage|percent|share|portion|proportion|fraction)\b"
            r"|\bhow fast\b|\bby how much\b|\bwhat rate\b|\bpercent(?:age)?\b",
        ),
        ("count", r"\bhow many\b|\b(?:what|which) (?:is |was )?the number of\b"),
        ("money", r"\bhow much\b|\b(?:what|which) (?:amount|sum|price|cost)\b|\bhow expensive\b"),
        ("year", r"\b(?:what|which|in what) year\b"),
        ("day", r"\b(?:what|which|on what) (?:date|dates|day|days)\b|\bthe dates? of\b"),
        (
            "date",
            r"\bwhen\b|\b(?:what|which|in what) (?:month|time|century|decade|period|era)\b"
            r"|\bsince when\b|\bhow long ago\b",
        ),
        ("person", r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|man|woman|leader|president|official)\b"),
        (
            "place",
            r"\bwhere\b|\b(?:what|which|in what) (?:country|countries|city|cities|place|region|sea|"
            r"island|islands|state|province|location|continent|town|capital)\b",
        ),
        (
            "name",
            r"\b(?:what|which) (?:\w+ )?(?:is|was|were|are)? ?(?:the )?(?:name|named|called)\b"
            r"|\bname of\b|\bwhich (?!of\b)\w+",
        ),
    )
)
# Keyword questions ("japan defence spending") hint at a type through their nouns.
_KEYWORD_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", re.compile(r"\b(?:spending|budget|cost|costs|price|spent|spend|funding|expenditure)\b")),
    ("percent", re.compile(r"\b(?:percent|percentage|share|rate)\b")),
    ("count", re.compile(r"\b(?:number of|how many)\b")),
    ("year", re.compile(r"\b(?:year|founded|established)\b")),
)
_WH_RE = re.compile(r"\b(?:what|when|where|which|who|whom|whose|why|how)\b")

_DISCOURSE = re.compile(
    r"^(?:and|but|or|so|yet|while|whereas|meanwhile|additionally|furthermore|moreover|however|"
    r"nevertheless|similarly|also|thus|therefore|then|in addition|in fact|as well as|"
    r"on the other hand|as a result)\b[,\s]*",
    re.IGNORECASE,
)
MAX_ANSWER_WORDS = 28


def question_type(question: str) -> str | None:
    """The kind of answer a question wants (``date``, ``money``, ``person``...), or None for any."""
    text = fold(question).lower()
    for kind, pattern in _TYPE_RULES:
        if pattern.search(text):
            return kind
    if not _WH_RE.search(text):
        for kind, pattern in _KEYWORD_TYPES:
            if pattern.search(text):
                return kind
    return None


@dataclass(frozen=True)
class Chunk:
    """A clause-sized piece of a sentence, between commas, semicolons, colons, dashes, brackets."""

    start: int
    end: int


def chunks_of(quote: str, spans: tuple[Span, ...]) -> list[Chunk]:
    """Cut the quote at clause punctuation, never inside a typed span or a number."""
    protected = [(s.start, s.end) for s in spans]
    cuts = [0]
    for match in re.finditer(r"[,;:()]|\s[–—-]\s", quote):
        position = match.start()
        if any(start <= position < end for start, end in protected):
            continue
        if quote[position] == "," and position + 1 < len(quote) and quote[position + 1].isdigit():
            continue
        cuts.append(match.end())
    cuts.append(len(quote))
    chunks = []
    for start, end in itertools.pairwise(cuts):
        if quote[start:end].strip(" ,;:()–—-."):
            chunks.append(Chunk(start, end))
    return chunks


def _chunk_of(chunks: list[Chunk], position: int) -> int:
    for i, chunk in enumerate(chunks):
        if chunk.start <= position < chunk.end:
            return i
    return len(chunks) - 1


def _words(text: str) -> int:
    return len(text.split())


def tidy(text: str) -> str:
    """A clause made presentable: no leading connective, no dangling punctuation."""
    text = text.strip(" ,;:–—-")
    text = _DISCOURSE.sub("", text).strip(" ,;:–—-")
    if text.count("(") > text.count(")"):
        text = text.replace("(", "", 1)
    if text.count(")") > text.count("("):
        text = text[::-1].replace(")", "", 1)[::-1]
    text = text.strip(" ,;:")
    if text.endswith("."):
        text = text[:-1]
    return text[:1].upper() + text[1:] if text else text


@dataclass(frozen=True)
class Extraction:
    """The short answer and whether it came from a span of the wanted type."""

    text: str
    typed: bool


def extract(
    fact: Fact,
    terms: tuple[Term, ...],
    hits: list[tuple[int, float, bool]],
    kind: str | None,
    span_overlap: dict[int, float],
) -> Extraction:
    """The short answer from ``fact`` for a question of type ``kind``.

    ``hits`` are (position in ``terms``, weight, is_name) of the sentence terms that match the
    question; ``span_overlap`` maps a span's start to the share of its words the question has.
    """
    if fact.answer:
        return Extraction(fact.answer, True)
    quote = fact.quote
    chunks = chunks_of(quote, fact.spans)
    hit_chunks: dict[int, float] = {}
    name_chunks: set[int] = set()
    for position, weight, is_name in hits:
        index = _chunk_of(chunks, terms[position].start)
        hit_chunks[index] = hit_chunks.get(index, 0.0) + weight
        if is_name:
            name_chunks.add(index)
    foreign_name_chunks = {
        _chunk_of(chunks, t.start)
        for i, t in enumerate(terms)
        if t.capitalized and t.start > 0 and i not in {p for p, _, _ in hits}
    }
    if kind is not None:
        span = _best_span(fact, terms, hits, kind, span_overlap, chunks, hit_chunks, foreign_name_chunks)
        if span is not None:
            index = _chunk_of(chunks, span.start)
            return Extraction(_around(quote, chunks, index, index, span), True)
    if not hit_chunks:
        return Extraction(tidy(quote), False)
    first, last = min(hit_chunks), max(hit_chunks)
    # Keep the best-covered stretch within the length limit.
    while _words(quote[chunks[first].start : chunks[last].end]) > MAX_ANSWER_WORDS and first < last:
        if hit_chunks.get(first, 0.0) <= hit_chunks.get(last, 0.0):
            first += 1
            while first < last and first not in hit_chunks:
                first += 1
        else:
            last -= 1
            while last > first and last not in hit_chunks:
                last -= 1
    return Extraction(_around(quote, chunks, first, last, None), False)


def _best_span(
    fact: Fact,
    terms: tuple[Term, ...],
    hits: list[tuple[int, float, bool]],
    kind: str,
    span_overlap: dict[int, float],
    chunks: list[Chunk],
    hit_chunks: dict[int, float],
    foreign_name_chunks: set[int],
) -> Span | None:
    preferred, accepted = ANSWER_KINDS[kind]
    total = sum(w for _, w, _ in hits) or 1.0
    best: tuple[float, int, Span] | None = None
    for span in fact.spans:
        if span.kind in preferred:
            score = 2.0
        elif span.kind in accepted:
            score = 1.0
        else:
            continue
        overlap = span_overlap.get(span.start, 0.0)
        if overlap >= 0.99:
            continue
        score -= 1.5 * overlap
        index = _chunk_of(chunks, span.start)
        score += hit_chunks.get(index, 0.0) / total
        if index in foreign_name_chunks and span.kind not in ("person", "org", "name", "place"):
            score -= 0.3
        # Nearness to the question's non-name words ("condemnation" for "who condemned").
        gravity = 0.0
        for position, weight, is_name in hits:
            if is_name:
                continue
            term = terms[position]
            distance = abs(_token_distance(fact.quote, term.start, span.start, span.end))
            gravity += weight / (1 + distance)
        score += 0.5 * gravity / total
        rank = (score, -span.start, span)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _token_distance(quote: str, position: int, start: int, end: int) -> int:
    if start <= position < end:
        return 0
    low, high = (position, start) if position < start else (end, position)
    return len(quote[low:high].split())


def _around(quote: str, chunks: list[Chunk], first: int, last: int, span: Span | None) -> str:
    """The chunks first..last, widened when too short to read alone, trimmed when too long."""
    while _words(tidy(quote[chunks[first].start : chunks[last].end])) < 5:
        grew = False
        if last + 1 < len(chunks):
            last += 1
            grew = True
        elif first > 0:
            first -= 1
            grew = True
        if not grew:
            break
    start, end = chunks[first].start, chunks[last].end
    text = quote[start:end]
    if _words(text) > MAX_ANSWER_WORDS and span is not None:
        text = _window(quote, start, end, span)
    return tidy(text)


def _window(quote: str, start: int, end: int, span: Span) -> str:
    """About ten words either side of the span, cut at word boundaries."""
    left = quote[start : span.start]
    right = quote[span.end : end]
    head_words = left.split()
    if len(head_words) > 10:
        cut = left.rfind(head_words[-10])
        left = left[cut:]
    tail_words = right.split()
    if len(tail_words) > 10:
        cut = right.find(tail_words[9]) + len(tail_words[9])
        right = right[:cut]
    return left + quote[span.start : span.end] + right
