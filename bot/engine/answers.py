"""From a ranked fact to a short answer: the question's type, the span that answers it, a clause.

A short answer is never invented: it is a piece of the quote (a typed span with the clause that
holds it, or the clause that covers the question), or a curator's ``answer``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.engine.matching import Term
from bot.engine.model import Fact, Span
from bot.engine.spans import find_spans
from bot.engine.text import fold

# Question type -> (preferred span kinds, other acceptable span kinds).
ANSWER_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "date": (frozenset({"date", "year"}), frozenset()),
    "year": (frozenset({"year"}), frozenset({"date"})),
    "day": (frozenset({"date"}), frozenset({"year"})),
    "money": (frozenset({"money"}), frozenset({"percent"})),
    "amount": (frozenset({"count", "percent", "money"}), frozenset()),
    # "By how much did it grow?": a rate first, else an amount.
    "change": (frozenset({"percent"}), frozenset({"money", "count"})),
    # "How many Victorians are Catholic?": "26.7% of the Victorian population".
    "count": (frozenset({"count"}), frozenset({"percent"})),
    "percent": (frozenset({"percent"}), frozenset()),
    "person": (frozenset({"person", "org"}), frozenset({"name", "place"})),
    "place": (frozenset({"place"}), frozenset({"name", "org"})),
    "name": (frozenset({"name", "org", "person", "place"}), frozenset()),
}
# Types whose other acceptable kinds count only when the sentence has none of the preferred kind.
FALLBACK_ONLY_TYPES = frozenset({"change"})
# Types whose answer must be a span of that kind: no span, no answer from that fact.
STRICT_TYPES = frozenset({"date", "year", "day", "money", "amount", "change", "count", "percent"})
# "How much" before a noun asks for a quantity of it ("how much coal"), not for money.
_MONEY_NOUNS = r"money|funding|funds|cash|revenue|income|profit|debt|aid|capital|tax|taxes"
_MONEY_VERBS = (
    r"cost|costs|spend|spends|spent|pay|pays|paid|invest|invests|invested|charge|charged|earn|earned"
    r"|raise|raised|save|saved|buy|bought|sell|sold|price|prices|budget|worth"
)
_VERBS = r"is|was|are|were|did|does|do|has|have|had|will|would|can|could|should|might|must"

_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "change",
            # "How much did the population grow?", but not "How much did it cost to expand?".
            r"\bby how much\b|\bhow much (?:did|does|do|has|have|had|will|would)\b"
            rf"(?!.*\b(?:{_MONEY_VERBS})\b)"
            r"(?:\W+[\w'’-]+){0,7}?\W+(?!(?:to|the|a|an|its|their|his|her|in|of)\b)[\w'’-]+\W+"
            r"(?:increase[ds]?|grow[sn]?|rise[ns]?|risen|fall(?:s|en)?|decline[ds]?|drop(?:s|ped)?"
            r"|shr[iu]nk|shrinks|expand(?:s|ed)?|change[ds]?)\b",
        ),
        (
            "percent",
            r"\b(?:what|which)\s+(?:percentage|percent|share|portion|proportion|fraction)\b"
            r"|\bhow fast\b|\bwhat rate\b|\bpercent(?:age)?\b",
        ),
        ("amount", rf"\bhow much (?!(?:{_MONEY_NOUNS}|{_VERBS})\b)[a-z]+"),
        ("count", r"\bhow many\b|\b(?:what|which) (?:is |was )?the number of\b"),
        ("money", r"\bhow much\b|\b(?:what|which) (?:amount|sum|price|cost)\b|\bhow expensive\b"),
        ("year", r"\b(?:what|which|in what) year\b"),
        ("day", r"\b(?:what|which|on what) (?:date|dates|day|days)\b|\bthe dates? of\b"),
        (
            "date",
            # "when" asks for a date at the start or before a verb; elsewhere it is a conjunction.
            r"^\W*(?:and |so |but |then )?when\b"
            r"|\bwhen (?:did|was|were|is|are|does|do|will|would|can|could|has|have|had|should|might)\b"
            r"|\b(?:what|which|in what) (?:month|time|century|decade|period|era)\b"
            r"|\bsince when\b|\bhow long ago\b",
        ),
        ("person", r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|man|woman|leader|president|official)\b"),
        (
            "place",
            r"\bwhere\b|\b(?:what|which|in what) (?:country|countries|city|cities|place|region|sea|"
            r"island|islands|state|province|location|continent|town|capital)\b",
        ),
        (
            "money",
            # The money word must be what is asked about, near the question word, not a detail
            # further on ("which importers ... under wholesale price").
            r"^\W*(?:what|which)\b(?!.*\b(?:why|how)\b)(?:\W+[\w'’-]+){0,5}?\W+(?:budget|spending|"
            r"expenditure|cost|costs|price|revenue|salary|gdp)\b",
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
    r"^(?:of|and|but|or|so|yet|while|whereas|meanwhile|additionally|furthermore|moreover|however|"
    r"nevertheless|similarly|also|thus|therefore|then|in addition|in fact|as well as|"
    r"on the other hand|as a result)\b[,\s]*",
    re.IGNORECASE,
)
MAX_ANSWER_WORDS = 28


_HEAD_RE = re.compile(
    r"^\W*(?:what|which)\s+(?:(?:is|was|are|were)\s+(?:the|a|an)\s+)?(?:(?:kinds?|types?|sorts?|forms?)\s+of\s+)?(?!(?:is|are|was|were|did|does|do|can|could|"
    r"would|should|will|has|have|had|might|may|must|kind|kinds|type|types|of|the|a|an)\b)([A-Za-z][\w-]*)",
    re.IGNORECASE,
)


def head_word(question: str) -> str | None:
    """The noun a "what X ..." question asks about ("what crises call for ..." -> "crises")."""
    match = _HEAD_RE.search(fold(question))
    return match.group(1) if match else None


# "This process is called annealing." names what the sentence before it describes.
_NAMING_RE = re.compile(
    r"^(?P<subject>(?:this|these|such|that|those|it|they)\b[^.;:,]{0,40}?)\s+"
    r"(?:is|are|was|were|became|becomes)\s+(?:\w+ly\s+|also\s+|now\s+|then\s+|often\s+|sometimes\s+)?"
    r"(?:called|known as|termed|named|referred to as)\s",
    re.IGNORECASE,
)
# "named after the village", "called to court", "called off": no name follows.
_NOT_A_NAME_RE = re.compile(
    r"(?:for|after|by|in|on|upon|off|up|out|down|back|away|over|to|into|from|with|at|as|because|since|"
    r"during|following)\b",
    re.IGNORECASE,
)
# Where a name ends: punctuation, a dash, or a clause ("annealing because ...", "cullet and are ...").
_NAME_END_RE = re.compile(
    r"[,;:()]|\s[–—-]\s|\s(?:because|which|who|whom|whose|where|when|while|since|although|though|if|unless)\b"
    r"|\sand\s(?:is|are|was|were|has|have|had|can|could|will|would|may|might|it|its|they|their|this)\b",
    re.IGNORECASE,
)
# The question asks what something is called, not something else about a thing "now known as" X.
_ASKS_NAME_RE = re.compile(
    r"\b(?:called|known as|termed|named)\W*$"
    r"|\b(?:is|are|was|were) (?:it|this|that|they|these|those) (?:called|known as|termed|named)\b"
    r"|\bname (?:for|of|given to)\b|\bwhat (?:term|word)\b|\bwhat (?:is|was|are|were) the (?:name|term)\b"
)
MAX_NAME_WORDS = 8


def name_given(question: str, quote: str) -> str | None:
    """The name a sentence like "This process is called annealing." gives, when the question asks
    for a name ("what is ... called?") or for its noun ("what process ...?"); else None."""
    match = _NAMING_RE.match(quote)
    if match is None:
        return None
    head = head_word(question)
    asks = _ASKS_NAME_RE.search(fold(question).lower()) or (
        head and re.search(rf"\b{re.escape(head)}\b", match.group("subject"), re.IGNORECASE)
    )
    rest = quote[match.end() :].lstrip()
    if not asks or _NOT_A_NAME_RE.match(rest):
        return None
    name = _NAME_END_RE.split(rest, maxsplit=1)[0].strip(' .!?"“”‘’')
    return name if 0 < len(name.split()) <= MAX_NAME_WORDS else None


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


# A list of names, "Washington, Seoul, and Tokyo": its commas do not end a clause.
# Bounded (a name of at most 6 words, at most 20 items), so a long run of capitalised words costs
# linear time, not quadratic.
_NAME = r"(?:the )?[A-Z][\w’'.-]{0,40}(?: (?:of |de )?[A-Z][\w’'.-]{0,40}){0,5}"
_NAME_LIST_RE = re.compile(rf"\b{_NAME}(?:, {_NAME}){{0,20}},? (?:and|or) {_NAME}")


def chunks_of(quote: str, spans: tuple[Span, ...]) -> list[Chunk]:
    """Cut the quote at clause punctuation, never inside a typed span, a number or a list of names."""
    protected = [(s.start, s.end) for s in spans]
    protected += [m.span() for m in _NAME_LIST_RE.finditer(quote)]
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
    bounds: tuple[int | None, int | None] = (None, None),
    head: str | None = None,
) -> Extraction:
    """The short answer from ``fact`` for a question of type ``kind``.

    ``hits`` are (position in ``terms``, weight, is_name) of the sentence terms that match the
    question; ``span_overlap`` maps a span's start to the share of its words the question has.
    """
    if fact.answer and (kind is None or any(span_fit(s, kind) for s in find_spans(fact.answer))):
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
    hit_positions = {p for p, _, _ in hits}
    foreign_name_chunks = {
        _chunk_of(chunks, t.start)
        for i, t in enumerate(terms)
        if t.capitalized and t.start > 0 and i not in hit_positions
    }
    if kind is not None:
        span = _best_span(fact, terms, hits, kind, span_overlap, chunks, foreign_name_chunks, bounds)
        if span is not None:
            index = _chunk_of(chunks, span.start)
            return Extraction(_around(quote, chunks, index, index, span), True)
    if not hit_chunks:
        return Extraction(tidy(quote), False)
    head_at = [terms[p].start for p, _, _ in hits if terms[p].key == head] if head else []
    if head_at:
        # "What crises ...?": the answer is what the sentence says from "crises" on.
        first = last = _chunk_of(chunks, head_at[0])
        while (
            last + 1 < len(chunks)
            and _words(quote[chunks[first].start : chunks[last + 1].end]) <= MAX_ANSWER_WORDS
        ):
            last += 1
        return Extraction(_around(quote, chunks, first, last, None), False)
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


ENTITY_TYPES = frozenset({"person", "place", "name"})


def _best_span(
    fact: Fact,
    terms: tuple[Term, ...],
    hits: list[tuple[int, float, bool]],
    kind: str,
    span_overlap: dict[int, float],
    chunks: list[Chunk],
    foreign_name_chunks: set[int],
    bounds: tuple[int | None, int | None] = (None, None),
) -> Span | None:
    """The span of the wanted kind that best answers: near the question's words, not in them.

    For names (who, where, which) the question's own names say little about where the answer
    is; its other words do ("who condemned" -> next to "condemnation"). For values (when, how
    much) the question's names pick among several values ("Japan spent X, and South Korea Y").
    """
    wants_entity = kind in ENTITY_TYPES
    word_hits = [(p, w) for p, w, is_name in hits if not is_name]
    name_hits = [(p, w) for p, w, is_name in hits if is_name]
    word_total = sum(w for _, w in word_hits) or 1.0
    name_total = sum(w for _, w in name_hits) or 1.0
    best: tuple[float, int, Span] | None = None
    preferred = ANSWER_KINDS[kind][0]
    only_preferred = kind in FALLBACK_ONLY_TYPES and any(s.kind in preferred for s in fact.spans)
    for span in fact.spans:
        score = span_fit(span, kind)
        if not score or (only_preferred and span.kind not in preferred):
            continue
        overlap = span_overlap.get(span.start, 0.0)
        if overlap >= 0.99 or not within_bounds(span, bounds):
            continue
        score -= 1.5 * overlap
        index = _chunk_of(chunks, span.start)
        in_chunk = [w for p, w in word_hits if _chunk_of(chunks, terms[p].start) == index]
        score += 0.5 * sum(in_chunk) / word_total
        gravity = sum(
            w / (1 + _token_distance(fact.quote, terms[p].start, span.start, span.end)) for p, w in word_hits
        )
        score += (2.0 if wants_entity else 0.5) * gravity / word_total
        if wants_entity and span.start <= 1:
            score += 0.1  # the sentence's subject
        if not wants_entity:
            names_in_chunk = [w for p, w in name_hits if _chunk_of(chunks, terms[p].start) == index]
            score += 0.5 * sum(names_in_chunk) / name_total
            if index in foreign_name_chunks:
                score -= 0.3
            if kind == "count" and counts_a_question_word(span, [t.start for t in terms], hits):
                score += 0.5
        rank = (score, -span.start, span)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


_DAY_RE = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\b(?!\d)")


def span_fit(span: Span, kind: str) -> float:
    """How well a span answers a question of ``kind``: 1 for the wanted kind, less for a fallback.

    Asked for dates, a day ("May 26–27, 2024") beats a month ("July 2024"), which beats a year.
    """
    preferred, accepted = ANSWER_KINDS[kind]
    if span.kind not in preferred and span.kind not in accepted:
        return 0.0
    if kind == "day":
        if span.kind == "year":
            return 0.3
        return 1.0 if _DAY_RE.search(re.sub(r"\b\d{4}\b", "", span.text)) else 0.6
    return 1.0 if span.kind in preferred else 0.6


_BOUND_RE = re.compile(r"\b(before|prior to|until|after|since)\s+(?:the\s+)?(?:year\s+)?(\d{4})\b", re.I)


def year_bounds(question: str) -> tuple[int | None, int | None]:
    """Years a date answer must fall strictly between: "before 2024" -> (None, 2024)."""
    low: int | None = None
    high: int | None = None
    for word, year in _BOUND_RE.findall(fold(question)):
        if word.lower() in ("before", "prior to", "until"):
            high = int(year)
        else:
            low = int(year)
    return low, high


def within_bounds(span: Span, bounds: tuple[int | None, int | None]) -> bool:
    """False for a dated span outside the question's "before/after YEAR"."""
    low, high = bounds
    if low is None and high is None:
        return True
    years = [int(y) for y in re.findall(r"\b(\d{4})\b", span.text)]
    if not years:
        return True
    return (low is None or min(years) > low) and (high is None or max(years) < high)


def counts_a_question_word(span: Span, starts: list[int], hits: list[tuple[int, float, bool]]) -> bool:
    """True when a count is of something the question names: "25 joint exercises" for exercises."""
    positions = {p for p, _, _ in hits}
    after = [i for i, start in enumerate(starts) if start >= span.end][:3]
    return any(i in positions for i in after)


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
