"""Short answers that are short: a learned selector of the span of a sentence that answers a question.

``short_answer(question, quote, spans)`` returns the date, amount, count, person, organisation,
place or name that answers the question, cut word for word from the quote; "Yes, ..." / "No, ..."
plus a clause for a yes/no question the sentence settles; the listed items for a list question;
the reason clause for a why question; and the clause that covers the question when no span is
confident.

Candidates are generated without a tagger: the typed spans of ``bot.engine.spans``, capitalised runs,
runs of content words (with their determiner, with "of" phrases, their shorter tails), phrases
after prepositions, enumerations, reason clauses and clauses. Boosted trees (:class:`SpanModel`,
``bot/engine/models/short_answer.json``, trained by ``python -m bench.train_answers --write``) give each
the probability that it is the answer, from the dense row of :func:`dense_row` (names in
``DENSE_NAMES``): the question's wh-word, its head noun's WordNet class ("city" -> location), the
candidate's kinds, its head word's WordNet class, how many of its words are the question's, how
far it stands from the question's words, its length, position, capitals, digits and the words
either side of it. When the question asks for a type (:func:`wanted`: who -> a name, when -> a date,
how much -> money...) and the sentence has a candidate of it, only those are scored (:func:`typed`).
Below the model's gate for the question's kind (chosen by cross-validation) the clause is the answer.
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.engine.learned import TreeModel
from bot.engine.model import Span
from bot.engine.text import STOP_WORDS, fold, normalize_word
from bot.errors import ModelFileError

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
MODEL_PATH = Path(__file__).parent / "models" / "short_answer.json"
# Below this probability the best span is not trusted and the clause is the answer (the shipped
# model's own gate, chosen by cross-validation, replaces it).
DEFAULT_GATE = 0.5
MAX_CLAUSE_WORDS = 28


@dataclass(frozen=True)
class ShortAnswer:
    """The short answer: ``text`` is the quote's ``start:end`` (None when it is built: yes/no, list).

    ``kind`` is ``span``, ``yes``, ``no``, ``list``, ``reason`` or ``clause``; ``confidence`` 0..1: the
    model's probability for a span or list it chose (the gate applies), 1.0 for a reason or list found
    by rule, the share of the question's words found for yes/no.
    """

    text: str
    start: int | None
    end: int | None
    kind: str
    confidence: float


# -- words ------------------------------------------------------------------------------------------


class NounClasses:
    """Noun lemma -> WordNet lexicographer classes of its first senses, looked up by bisection in the
    sorted lines of ``data/wordnet_nouns.tsv.gz`` (a dict of its 57,000 lemmas took 40 ms to build,
    a tenth of a ``factbot ask``)."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def get(self, lemma: str) -> tuple[str, ...] | None:
        probe = lemma + "\t"
        at = bisect_left(self._lines, probe)
        if at < len(self._lines) and self._lines[at].startswith(probe):
            return tuple(self._lines[at][len(probe) :].split(","))
        return None

    def __contains__(self, lemma: str) -> bool:
        return self.get(lemma) is not None


@cache
def noun_classes() -> NounClasses:
    """The WordNet noun classes (``data/wordnet_nouns.tsv.gz``, lines sorted by lemma)."""
    text = gzip.decompress((DATA_DIR / "wordnet_nouns.tsv.gz").read_bytes()).decode("utf-8")
    lines = [line for line in text.splitlines() if line[:1] != "#"]
    lines.sort()  # already sorted: linear; a hand-edited file still looks up right
    return NounClasses(lines)


_PLURAL_RULES = (("ies", "y"), ("ves", "f"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"))


def noun_class(word: str) -> str | None:
    """The WordNet class of a noun's most frequent sense ("cities" -> "location"), None if unknown."""
    table = noun_classes()
    w = word.lower()
    kinds = table.get(w)
    if kinds is None and len(w) > 3 and w.endswith("s"):
        for suffix, repl in _PLURAL_RULES:
            if w.endswith(suffix) and (kinds := table.get(w[: -len(suffix)] + repl)):
                break
        else:
            # "cases" -> case, else "crises" -> crisis
            kinds = table.get(w[:-1]) or (table.get(w[:-2] + "is") if w.endswith("ses") else None)
    return kinds[0] if kinds else None


_TOKEN_RE = re.compile(
    r"(?:[A-Z]\.){2,}|[$€£¥₹]?\d+(?:[.,:]\d+)*(?:%|st|nd|rd|th|s)?|[^\W\d_]+(?:['’\-][^\W_]+)*|\S"
)
_DETERMINERS = frozenset("the a an his her its their our your this that these those".split())
_PREPOSITIONS = frozenset(
    "in on at by from to of for with into during after before since until under over between among "
    "through across near within without about against toward towards via upon as like than".split()
)
_JOINERS = frozenset("of and for de".split())
_CONNECTORS = frozenset("of the de du des del della von van der la le for and al bin ibn".split())
_NEGATIONS = frozenset("not never no neither nor none nobody nothing n't cannot without".split())
_REASON_RE = re.compile(
    r"\b(?:because(?: of)?|due to|owing to|amid|driven by|as a result of|thanks to|since|so that|"
    r"in order to|so as to|caused by|resulting from|for fear of|on account of)\b",
    re.IGNORECASE,
)
_CLAUSE_CUT_RE = re.compile(r"[;:()]|,(?!\d)|\s[–—-]\s")
_AUX = "is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must|shall"
_YESNO_RE = re.compile(rf"^\W*(?:{_AUX})(?:n't)?\b", re.IGNORECASE)
_LIST_RE = re.compile(
    r"\b(?:name (?:the|some|three|two|four|five)|kinds of|types of|what (?:are|were) (?:the|some)"
    r"(?: \w+)? \w+s\b|which \w+s\b|list\b)",
    re.IGNORECASE,
)
_WH_RE = re.compile(
    r"\b(how (?:many|much|long|far|old|large|big|often|tall|high|fast|quickly)|how|what|which|who|whom"
    r"|whose|when|where|why)\b",
    re.IGNORECASE,
)
_HEAD_SKIP = frozenset(
    "is are was were did does do has have had can could would should will might may must the a an of kind "
    "kinds type types sort sorts form forms one some".split()
)


_OF_HEADS = frozenset("name kind kinds type types sort sorts form forms example examples".split())


def _plural_form(word: str) -> bool:
    """Whether ``word`` is a noun's plural, not a lemma ("crises", not "news" or "glass")."""
    return word.endswith("s") and not word.endswith("ss") and word not in noun_classes()


def _head_noun(after: str) -> str | None:
    """The last noun of the nouns after the wh-word ("what target percentage of" -> percentage)."""
    table = noun_classes()
    run: list[str] = []
    raws = after.split()[:8]
    for at, raw in enumerate(raws):
        word = raw.strip("?,.'\"()").lower()
        following = raws[at + 1] if at + 1 < len(raws) else ""
        if run and word.endswith("s") and (following.lower() in _DETERMINERS or following[:1].isupper()):
            break  # "what article limits Japan's ...", "what threat drives the pact": a verb
        if not run and word in _HEAD_SKIP:
            continue
        if word in STOP_WORDS or not word.isalpha():
            if run and run[-1] in _OF_HEADS and word == "of":
                run = []  # "the name of the donor" -> donor
                continue
            break
        if noun_class(word) is None and not (word in table or raw[:1].isupper()):
            break
        if run and _plural_form(run[-1]) and not word.endswith("s"):
            break  # "what crises call for ...": a plural noun, then a verb
        run.append(word)
        if len(run) == 3:
            break
    return run[-1] if run else None


@dataclass(frozen=True)
class QuestionClass:
    """What a question asks for: its wh-word, its head noun and the noun's WordNet class."""

    wh: str
    head: str | None
    head_class: str | None
    plural: bool
    yes_no: bool
    wants_list: bool
    stems: frozenset[str]
    head_stem: str | None = None
    before: str = "-"  # the preposition before the wh-word ("in which city" -> in), else "-"

    @property
    def kind(self) -> str:
        """A coarse answer kind for reports: date, number, person, place, reason, yes-no or other."""
        if self.yes_no:
            return "yes-no"
        if self.wh == "when" or self.head_class == "time":
            return "date"
        if self.wh.startswith("how ") and self.wh != "how":
            return "number"
        if self.wh in ("who", "whom", "whose") or self.head_class == "person":
            return "person"
        if self.wh == "where" or self.head_class == "location":
            return "place"
        if self.wh == "why":
            return "reason"
        return "other"


@lru_cache(maxsize=256)  # the engine reads a question's class before its short answer does
def question_class(question: str) -> QuestionClass:
    """The wh-word ("how many" counts as one), head noun ("which city" -> city) and its class."""
    text = fold(question).strip()
    yes_no = bool(_YESNO_RE.match(text)) and not _WH_RE.search(text)
    match = _WH_RE.search(text)
    wh = match.group(1).lower() if match else ("yesno" if yes_no else "none")
    head = (
        _head_noun(text[match.end() :]) if match and wh in ("what", "which", "how many", "how much") else None
    )
    head_class = noun_class(head) if head else None
    plural = bool(head and head.endswith("s") and not head.endswith("ss"))
    words = [
        t
        for t in _TOKEN_RE.findall(text)
        if t[0].isalnum() and t.lower() not in STOP_WORDS and not _WH_RE.fullmatch(t.lower())
    ]
    # "China-Japan-Korea talks" names China, Japan and Korea as well as the compound.
    parts = [p for w in words if "-" in w for p in w.split("-") if p and p.lower() not in STOP_WORDS]
    stems = frozenset(normalize_word(t) for t in (*words, *parts))
    wants_list = (bool(_LIST_RE.search(text)) and wh not in ("who", "when", "where", "why")) or (
        # "what crises ...", not "what do bakers sell"
        wh in ("what", "which")
        and head is not None
        and _plural_form(head)
        and text[match.end() :].split()[0].strip("?,.'\"()").lower() == head
    )
    head_stem = normalize_word(head) if head else None
    before = "-"
    if match:
        words = text[: match.start()].lower().split()
        if words and words[-1] in _PREPOSITIONS:
            before = words[-1]
    return QuestionClass(wh, head, head_class, plural, yes_no, wants_list, stems, head_stem, before)


# -- candidates -------------------------------------------------------------------------------------


class Token(NamedTuple):
    """A word, number or punctuation mark of the quote."""

    text: str
    lower: str
    start: int
    end: int
    stop: bool  # a stop word or punctuation
    word: bool  # a word or number (not punctuation)
    stem: str


class Candidate:
    """A piece of the quote, tokens ``first..last`` inclusive, with every way it was found."""

    __slots__ = ("end", "first", "kinds", "last", "start")

    def __init__(self, first: int, last: int, start: int, end: int, kind: str) -> None:
        self.first, self.last, self.start, self.end = first, last, start, end
        self.kinds = [kind]


def tokens_of(quote: str) -> list[Token]:
    """The quote's words, numbers and punctuation marks, with offsets and stems."""
    out = []
    folded = fold(quote)
    for m in _TOKEN_RE.finditer(folded):
        start, end = m.span()
        text = quote[start:end]
        lower = m.group().lower()
        word = text[0].isalnum() or text[0] in "$€£¥₹"
        stop = not word or (lower in STOP_WORDS and not (len(text) > 1 and text.isupper()))
        out.append(Token(text, lower, start, end, stop, word, normalize_word(text) if word else ""))
    return out


# A sentence's tokens and candidates depend on it alone: those of the sentences answered lately are
# kept (read-only: a caller filters them into lists of its own).
SENTENCES_KEPT = 256


@lru_cache(maxsize=SENTENCES_KEPT)
def _tokens(quote: str) -> list[Token]:
    return tokens_of(quote)


@lru_cache(maxsize=SENTENCES_KEPT)
def _candidates(quote: str, spans: tuple[Span, ...]) -> list[Candidate]:
    return candidates(quote, _tokens(quote), spans)


def candidates(quote: str, tokens: list[Token], spans: tuple[Span, ...]) -> list[Candidate]:
    """Overlapping candidate spans of the quote, each with the kinds that proposed it."""
    found: dict[tuple[int, int], Candidate] = {}
    n = len(tokens)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]

    def add(first: int, last: int, kind: str) -> None:
        if first > last or first < 0 or last >= n:
            return
        cand = found.get((first, last))
        if cand is None:
            found[first, last] = Candidate(first, last, starts[first], ends[last], kind)
        elif kind not in cand.kinds:
            cand.kinds.append(kind)

    def token_range(start: int, end: int) -> tuple[int, int]:
        first = bisect_left(starts, start)
        last = bisect_right(ends, end) - 1
        while first <= last and not tokens[first].word:
            first += 1
        while last >= first and not tokens[last].word:
            last -= 1
        return first, last

    for span in spans:
        first, last = token_range(span.start, span.end)
        if first <= last:
            kind = "t:" + span.kind
            add(first, last, kind)
            if first > 0 and tokens[first - 1].lower in _DETERMINERS:
                add(first - 1, last, kind)
    # Runs of content words (a noun phrase without its determiner), and their tails and heads.
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if tokens[i].stop:
            i += 1
            continue
        j = i
        while j + 1 < n and not tokens[j + 1].stop:
            j += 1
        runs.append((i, j))
        i = j + 1
    for first, last in runs:
        add(first, last, "np")
        before = tokens[first - 1].lower if first > 0 else ""
        det = first - 1 if before in _DETERMINERS else None
        if det is not None:
            add(det, last, "np")
        for k in range(first + 1, min(last, first + 4) + 1):
            add(k, last, "tail")
        for k in range(max(first, last - 3), last):
            add(first, k, "head")
        if before in _PREPOSITIONS:
            add(first - 1, last, "pp")
            add(first, last, "after:" + before)
        if det is not None and det > 0 and tokens[det - 1].lower in _PREPOSITIONS:
            add(det - 1, last, "pp")
    # Noun phrases joined by "of" / "and" ("the Duke of Normandy", "Paris and Lyon").
    for (a1, a2), (b1, b2) in itertools.pairwise(runs):
        gap = [tokens[k].lower for k in range(a2 + 1, b1)]
        if 0 < len(gap) <= 2 and gap[0] in _JOINERS and all(w in _DETERMINERS or w in _JOINERS for w in gap):
            add(a1, b2, "np_of")
            if a1 > 0 and tokens[a1 - 1].lower in _DETERMINERS:
                add(a1 - 1, b2, "np_of")
    # Capitalised runs, with connectors ("University of Chicago").
    i = 0
    while i < n:
        token = tokens[i]
        if not token.word or not token.text[0].isupper() or (i == 0 and token.stop):
            i += 1
            continue
        j = i
        while True:
            k = j + 1
            while k < n and k - j <= 2 and tokens[k].lower in _CONNECTORS:
                k += 1
            if k < n and tokens[k].word and tokens[k].text[0].isupper():
                j = k
            else:
                break
        add(i, j, "cap")
        i = j + 1
    # Clauses, enumerations and reasons: found on the text, then mapped to tokens.
    folded = fold(quote)
    for start, end in _clauses(folded):
        add(*token_range(start, end), "clause")
    for first, last in (*_enumerations(tokens), *_introduced_lists(tokens)):
        add(first, last, "list")
    for m in _REASON_RE.finditer(folded):
        add(*token_range(m.start(), _reason_end(folded, m)), "reason")
    return list(found.values())


_ITEM_END = frozenset("which who whom that were was are is have has had will would can could".split())
MAX_ITEM_TOKENS = 6
_LIST_OPENERS = frozenset("including includes include included namely especially notably".split())
_ITEM_WORDS = frozenset("of the a an".split())


def _enumerations(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of enumerations of three or more items: "the otter, beaver and bird species"."""
    out = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        if token.lower not in ("and", "or") or i == 0:
            continue
        # The last item: after "and", to punctuation or a verb-like word.
        last = i
        while last + 1 < n and tokens[last + 1].word and tokens[last + 1].lower not in _ITEM_END:
            last += 1
            if last - i >= MAX_ITEM_TOKENS:
                break
        if last == i or last - i >= MAX_ITEM_TOKENS:
            continue
        # The items before: back from "and" (over an Oxford comma) from comma to comma.
        j = i - 1 if tokens[i - 1].text != "," else i - 2
        items = 1
        first = None
        while j >= 0:
            k = j
            while (
                k >= 0
                and tokens[k].text != ","
                and j - k < MAX_ITEM_TOKENS
                and tokens[k].word
                and (not tokens[k].stop or tokens[k].lower in _ITEM_WORDS)
            ):
                k -= 1
            if k >= 0 and tokens[k].text == ",":
                items += 1
                first = k + 1
                j = k - 1
                continue
            # The first item: the noun phrase just before the first comma.
            start = j
            while (
                start - 1 >= 0
                and tokens[start - 1].word
                and not tokens[start - 1].stop
                and tokens[start - 1].lower not in _LIST_OPENERS
            ):
                start -= 1
            if start - 1 >= 0 and tokens[start - 1].lower in _DETERMINERS:
                start -= 1
            if start <= j:
                items += 1
                first = start
            break
        if items >= 3 and first is not None:
            out.append((first, last))
    return out


MAX_INTRODUCED_ITEM_TOKENS = 12
MAX_INTRODUCED_ITEMS = 20  # (bounds the work on a long run of commas)
_LIST_STOPS = frozenset(";:.()")


def _introduced_lists(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges of lists that a word introduces, whose items may be long phrases: "including the
    crisis in Ukraine, North Korea's nuclear testing, geopolitical unrest, and supply chains".

    The items run from the opener, comma to comma, to the one after "and"/"or"; three at least.
    """
    out = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        if token.lower not in _LIST_OPENERS and not (
            token.lower == "as" and i and tokens[i - 1].lower == "such"
        ):
            continue
        # The comma-separated pieces after the opener, to the end of the sentence or its clause.
        pieces: list[tuple[int, int]] = []
        k = i + 1
        while k < n and tokens[k].text not in _LIST_STOPS:
            end = k
            while end < n and tokens[end].text not in _LIST_STOPS and tokens[end].text != ",":
                end += 1
            if end - k > MAX_INTRODUCED_ITEM_TOKENS:
                break
            pieces.append((k, end))
            if end >= n or tokens[end].text != "," or len(pieces) >= MAX_INTRODUCED_ITEMS:
                break
            k = end + 1
        # "A, B, and C": a piece that opens with the conjunction; else "A, B and C": one that holds it.
        opens = [(at, a) for at, (a, b) in enumerate(pieces) if at >= 2 and tokens[a].lower in ("and", "or")]
        holds = [
            (at, j)
            for at, (a, b) in enumerate(pieces)
            if at >= 1
            for j in range(a + 1, b)
            if tokens[j].lower in ("and", "or")
        ]
        if not (opens or holds):
            continue
        at, join = (opens or holds)[0]
        last = join + 1
        end = pieces[at][1]
        while last < end and tokens[last].word and tokens[last].lower not in _ITEM_END:
            last += 1
        if last > join + 1:
            out.append((i + 1, last - 1))
    return out


def _clauses(folded: str) -> list[tuple[int, int]]:
    cuts = [0, *(m.end() for m in _CLAUSE_CUT_RE.finditer(folded)), len(folded)]
    out = []
    for a, b in itertools.pairwise(cuts):
        piece = folded[a:b]
        lead = len(piece) - len(piece.lstrip(" ,;:()-"))
        trail = len(piece.rstrip(" ,;:()-."))
        if trail > lead:
            out.append((a + lead, a + trail))
    return out


_REASON_STOP_OPENING = re.compile(r"[,;:(]|\s-\s|\.\s*$")
_REASON_STOP = re.compile(r"[;:(]|\s-\s|\.\s*$")


def _reason_end(folded: str, m: re.Match[str]) -> int:
    """A reason runs to the end of its clause (to the first comma when it opens the sentence)."""
    opening = m.start() == 0 or folded[: m.start()].rstrip().endswith(",")
    found = (_REASON_STOP_OPENING if opening else _REASON_STOP).search(folded, m.end())
    return found.start() if found else len(folded)


# -- features ---------------------------------------------------------------------------------------


WINDOW = 6  # tokens either side in which question words are counted
_CLAUSE_MARKS = frozenset(",;:()–—")

# How close in meaning each of the quote's (lower-case) content words is to the closest of some
# words (None: the question's), 0..1 (the engine's word embeddings; 0 for a word it has none for).
Closeness = Callable[[Sequence[str], Sequence[str] | None], Sequence[float]]


class Context:
    """What every candidate of one (question, quote) pair reads: per-token tags, computed once."""

    __slots__ = (
        "clause",
        "clause_bounds",
        "clause_hits",
        "close",
        "close_cum",
        "cum",
        "head_at",
        "head_class",
        "head_close",
        "hits",
        "qc",
        "qword",
        "tiers",
        "tokens",
        "wanted",
    )

    def __init__(
        self,
        qc: QuestionClass,
        tokens: list[Token],
        closeness: Closeness | None = None,
        matched: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.qc = qc
        self.tokens = tokens
        self.wanted, self.tiers = wanted(qc)
        stems = qc.stems
        self.qword = [not t.stop and (t.stem in stems or _within(t, matched)) for t in tokens]
        self.hits = [i for i, q in enumerate(self.qword) if q]
        self.head_at = [i for i in self.hits if tokens[i].stem == qc.head_stem] if qc.head_stem else []
        self.head_class = [_token_class(t) for t in tokens]
        # Question words before each position (cum[i]: among tokens[:i]), and each token's clause.
        self.cum = list(itertools.accumulate(self.qword, initial=0))
        # Each word's closeness in meaning to the question (without embeddings: its exact match).
        # An exact question word is 1 whatever the embeddings say. And how close each word is to the
        # question's head noun ("instrument" -> piano), 0 without one.
        close = [float(q) for q in self.qword]
        self.head_close = [0.0] * len(tokens)
        if closeness is not None:
            content = [i for i, t in enumerate(tokens) if not t.stop]
            words = [tokens[i].lower for i in content]
            for i, value in zip(content, closeness(words, None), strict=True):
                close[i] = max(close[i], min(1.0, max(0.0, float(value))))
            if qc.head:
                for i, value in zip(content, closeness(words, [qc.head.lower()]), strict=True):
                    self.head_close[i] = min(1.0, max(0.0, float(value)))
        self.close = close
        self.close_cum = list(itertools.accumulate(close, initial=0.0))
        clause = 0
        self.clause = []
        for t in tokens:
            if t.text in _CLAUSE_MARKS:
                clause += 1
            self.clause.append(clause)
        self.clause_hits = [0] * (clause + 1)
        for h in self.hits:
            self.clause_hits[self.clause[h]] += 1
        # Each clause's tokens are one run: [start, end) of each, so sums over a clause are O(1).
        self.clause_bounds = [[len(tokens), 0] for _ in range(clause + 1)]
        for i, c in enumerate(self.clause):
            bounds = self.clause_bounds[c]
            bounds[0], bounds[1] = min(bounds[0], i), i + 1

    def mostly_asked(self, c: Candidate) -> bool:
        """Whether most of the candidate's content words are the question's: what the question is
        about, not its answer ("the Harbourvale Lantern Festival" for "who founded the lantern festival")."""
        content = [i for i in range(c.first, c.last + 1) if not self.tokens[i].stop]
        return 2 * sum(self.qword[i] for i in content) > len(content)

    def closeness_in_clause(self, first: int, last: int) -> float:
        """The closeness of the words of ``first``'s clause outside ``first..last``."""
        start, end = self.clause_bounds[self.clause[first]]
        cum = self.close_cum
        return (cum[end] - cum[start]) - (cum[min(last + 1, end)] - cum[first])


def _within(token: Token, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether ``token`` lies inside one of the (start, end) character ranges."""
    return any(start <= token.start and token.end <= end for start, end in ranges)


_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
    "hundreds thousand thousands million millions billion billions dozen dozens twice thrice half "
    "several few".split()
)


def _token_class(t: Token) -> str:
    if not t.word:
        return "-"
    if t.text[0].isdigit() or t.lower in _NUMBER_WORDS:
        return "CD"
    return _word_class(t.lower) or ("NNP" if t.text[0].isupper() else "-")


@lru_cache(maxsize=1 << 16)
def _word_class(lower: str) -> str | None:
    """:func:`noun_class` of a word of the quotes (looked up once per word)."""
    return noun_class(lower)


_FAMILIES = {
    "t:date": "date",
    "t:year": "date",
    "t:money": "number",
    "t:percent": "number",
    "t:count": "number",
    "t:person": "person",
    "t:place": "place",
    "t:org": "org",
    "t:name": "name",
}
_CLASS_FAMILIES = {"location": "place", "person": "person", "time": "date", "group": "org", "CD": "number"}


def _family(kinds: list[str], head_cls: str, first_cls: str = "-") -> str:
    """What a candidate is, coarsely: a typed span's family, else its head word's class's (a number
    when it opens with one: "three ships")."""
    for kind in kinds:
        family = _FAMILIES.get(kind)
        if family is not None:
            return family
    if first_cls == "CD":
        return "number"
    return _CLASS_FAMILIES.get(head_cls, "cap" if "cap" in kinds else "-")


# Question kind -> candidate families that cannot answer it.
_CLASHES = {
    "place": frozenset({"date", "number", "person"}),
    "person": frozenset({"date", "number", "place"}),
    "date": frozenset({"person", "place", "org"}),
}


def _head_of(ctx: Context, cand: Candidate) -> int:
    """The candidate's last content word (its head), else its last token."""
    for i in range(cand.last, cand.first - 1, -1):
        if not ctx.tokens[i].stop:
            return i
    return cand.last


# Head nouns that ask for a place's name though WordNet files them under groups ("which country").
_PLACE_HEADS = frozenset("country countries nation nations".split())
_NAMED = frozenset({"person", "org", "name", "place"})
_MONEY_WORDS = frozenset(
    normalize_word(w)
    for w in "spend spent spends spending cost costs costed pay paid pays budget budgets worth price priced "
    "fund funds funded funding earn earned earns revenue revenues sell sold buy bought dollars money".split()
)
_CHANGE_HEADS = frozenset("percentage percent share rate proportion fraction growth".split())


def wanted(qc: QuestionClass) -> tuple[str, tuple[frozenset[str], ...]]:
    """The type the question asks for and the candidate families that can be it, most specific
    first; ("", ()) when any can.

    Each entry is a set of families; :func:`typed` keeps the candidates of the first set the sentence
    has. "Who" wants a named person, organisation or place (else a capitalised run), "when" a date,
    "where" and "which city/country" a place, "how many/much" a number whatever it counts (an amount
    of money when the question is about spending, a percentage when it asks how fast or by how much),
    "which group" a name.
    """
    if qc.yes_no or qc.wants_list:
        return "", ()
    if qc.wh in ("who", "whom", "whose"):
        return "person", (_NAMED, frozenset({"cap"}))
    if qc.wh == "when":
        return "date", (frozenset({"date"}),)
    if qc.wh == "where":
        return "place", (frozenset({"place"}),)
    # "How many members", "how many nations": a quantity, whatever the noun counts.
    if (
        qc.wh in ("how fast", "how quickly")
        or qc.head in _CHANGE_HEADS
        or (qc.wh == "how much" and qc.before == "by")
    ):
        return "percent", (frozenset({"percent"}), frozenset({"number"}))
    if qc.wh == "how much" and qc.stems & _MONEY_WORDS:
        return "money", (frozenset({"money"}), frozenset({"number"}))
    if qc.wh.startswith("how ") and qc.wh != "how":
        return "number", (frozenset({"number"}),)
    if qc.head_class == "person":
        return "person", (_NAMED, frozenset({"cap"}))
    if qc.head_class == "time":
        return "date", (frozenset({"date"}),)
    if qc.head_class == "location" or qc.head in _PLACE_HEADS:
        return "place", (frozenset({"place"}),)
    if qc.head_class == "group":
        return "group", (frozenset({"org", "place", "name"}), frozenset({"cap"}))
    return "", ()


# The types :func:`wanted` knows (a model lists those whose filter held up out of fold).
TYPES = ("person", "date", "place", "percent", "money", "number", "group")


def _in_tier(tier: frozenset[str], kinds: list[str], family: str) -> bool:
    """Whether a candidate of ``family`` (a number may be a percentage or money) is of a type in ``tier``."""
    fine = "percent" if "t:percent" in kinds else "money" if "t:money" in kinds else family
    return family in tier or fine in tier


def _type_match(tiers: tuple[frozenset[str], ...], kinds: list[str], family: str) -> int:
    """2 when the candidate is of the first type the question asks for, 1 of a later one, else 0."""
    for at, tier in enumerate(tiers):
        if _in_tier(tier, kinds, family):
            return 2 if at == 0 else 1
    return 0


def typed(
    ctx: Context, cands: list[Candidate], types: frozenset[str] | tuple[str, ...] = TYPES
) -> list[Candidate]:
    """The candidates of the type the question asks for (:func:`wanted`), when it is one of ``types``
    and the sentence has any; else all of them."""
    if ctx.wanted not in types or not cands:
        return cands
    heads = [ctx.head_class[_head_of(ctx, c)] for c in cands]
    families = [_family(c.kinds, head, ctx.head_class[c.first]) for c, head in zip(cands, heads, strict=True)]
    # A candidate made mostly of the question's words is what the question is about, not its
    # answer. Nor does a natural feature (WordNet's objects: a sea, a river, a mountain) answer "who".
    fresh = [
        not ctx.mostly_asked(c) and not (ctx.wanted == "person" and head == "object")
        for c, head in zip(cands, heads, strict=True)
    ]
    for tier in ctx.tiers:
        kept = [
            c
            for c, family, new in zip(cands, families, fresh, strict=True)
            if new and _in_tier(tier, c.kinds, family)
        ]
        if kept:
            return kept
    return cands


_WH = (
    "none", "yesno", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "how many",
    "how much", "how long", "how far", "how old", "how large", "how big", "how often", "how tall", "how high",
    "how fast", "how quickly",
)  # fmt: skip
_CLASSES = (
    "person", "artifact", "animal", "act", "plant", "communication", "attribute", "state", "location",
    "substance", "cognition", "food", "group", "body", "quantity", "object", "event", "process", "time",
    "feeling", "possession", "phenomenon", "relation", "shape", "CD", "NNP",
)  # fmt: skip
_KINDS = (
    "t:name", "t:money", "t:percent", "t:date", "t:year", "t:count", "np", "tail", "head", "pp", "np_of",
    "cap", "clause", "list", "reason",
)  # fmt: skip
_QKINDS = ("date", "number", "person", "place", "reason", "other")
_FAMILY_NAMES = ("date", "number", "person", "place", "org", "name", "cap")
_QPREPS = ("in", "on", "at", "by", "from", "to", "for", "of", "with", "during", "after", "since")
_PREV_WORDS = (
    "^", ",", "(", ":", ";", '"', "-", "the", "a", "an", "of", "in", "on", "at", "by", "from", "to", "for",
    "with", "as", "and", "or", "is", "was", "are", "were", "be", "been", "than", "during", "after",
    "before", "since", "into", "between", "about", "his", "her", "its", "their", "that", "which", "who",
    "called", "named", "known", "titled", "including", "such", "over", "under", "around",
)  # fmt: skip
_NEXT_WORDS = (
    "$", ",", ".", "(", ")", ";", ":", "of", "in", "and", "or", "is", "was", "were", "are", "to", "for",
    "by", "on", "at", "that", "which", "who", "has", "had", "s", "'s",
)  # fmt: skip
_NAMING = frozenset("called named known titled nicknamed dubbed".split())


# How close in meaning the words around and inside a candidate are to the question's (the engine's
# word embeddings, ``Closeness``; without them an exact question word is 1 and any other 0).
MEANING_NAMES = (
    "closest_left", "closest_right", "closeness_left", "closeness_right", "closest_inside",
    "closeness_in_clause", "head.closeness_to_question_head", "closest_to_question_head_inside",
)  # fmt: skip


def _names(prefix: str, choices: tuple) -> list[str]:
    return [f"{prefix}={c}" for c in choices]


# The columns of :func:`dense_row`, in order (the question's first, as :func:`question_row` makes them).
DENSE_NAMES: tuple[str, ...] = (
    *_names("q.wh", _WH),
    *_names("q.class", _CLASSES),
    *_names("q.kind", _QKINDS),
    *_names("q.before", _QPREPS),
    "q.has_head", "q.plural", "q.list", "q.words", "q.words_found", "sentence.tokens",
    *_names("kind", _KINDS),
    "kind=after_preposition", "kinds", "words", "content_words", "tokens", "question_words_inside",
    "question_share_inside", "capitals", "capital_share", "numbers", "starts_with_number", "clause_marks",
    "and_or", "starts_with_determiner", "ends_with_stop_word", "gap_before", "gap_after", "gap",
    "question_words_left", "question_words_right", "question_words_in_clause", "crosses_clause",
    "question_words_outside", "position", "tokens_before", "tokens_after", "sentence_share",
    *_names("head.class", _CLASSES),
    *_names("first.class", _CLASSES),
    "head.class_is_question's", "head_is_question_head", "gap_to_question_head",
    *_names("family", _FAMILY_NAMES),
    "family_clashes", "type_asked", "type_match", "type_match_first",
    *_names("prev", _PREV_WORDS), "prev=QW", "prev=C", "prev=W",
    *_names("next", _NEXT_WORDS), "next=QW", "next=C", "next=W",
    "opens_clause",
    *MEANING_NAMES,
)  # fmt: skip


def _one_hot(value: object, choices: tuple) -> list[float]:
    return [1.0 if value == c else 0.0 for c in choices]


def question_row(qc: QuestionClass, ctx: Context) -> list[float]:
    """The question's side of a dense row (the same for all of one sentence's candidates)."""
    n_stems = len(qc.stems)
    present = len({ctx.tokens[h].stem for h in ctx.hits})
    return [
        *_one_hot(qc.wh, _WH),
        *_one_hot(qc.head_class, _CLASSES),
        *_one_hot(qc.kind, _QKINDS),
        *_one_hot(qc.before, _QPREPS),
        float(qc.head is not None),
        float(qc.plural),
        float(qc.wants_list),
        float(n_stems),
        present / n_stems if n_stems else 0.0,
        float(len(ctx.tokens)),
    ]


def _columns(prefix: str, choices: tuple) -> dict[object, int]:
    """Each choice's column in DENSE_NAMES."""
    return {c: DENSE_NAMES.index(f"{prefix}={c}") for c in choices}


# A candidate's own columns: the one-hot ones are set by column (below), the others come in this order.
_NUMBER_NAMES = (
    "kind=after_preposition",
    *DENSE_NAMES[DENSE_NAMES.index("kinds") : DENSE_NAMES.index("sentence_share") + 1],
    "head.class_is_question's", "head_is_question_head", "gap_to_question_head",
    "family_clashes", "type_asked", "type_match", "type_match_first",
    "opens_clause", *MEANING_NAMES,
)  # fmt: skip
_NUMBER_COLUMNS = np.array([DENSE_NAMES.index(name) for name in _NUMBER_NAMES])
_KIND_COLUMNS = _columns("kind", _KINDS)
_HEAD_CLASS_COLUMNS = _columns("head.class", _CLASSES)
_FIRST_CLASS_COLUMNS = _columns("first.class", _CLASSES)
_FAMILY_COLUMNS = _columns("family", _FAMILY_NAMES)
_PREV_COLUMNS = _columns("prev", (*_PREV_WORDS, "QW", "C", "W"))
_NEXT_COLUMNS = _columns("next", (*_NEXT_WORDS, "QW", "C", "W"))


def _context_column(t: Token | None, in_question: bool, columns: dict[object, int], none: str) -> int:
    """A neighbouring token's column: itself when its group lists it, else question word / capitalised /
    other (``none``: the word that stands for no token)."""
    if t is None:
        return columns[none]
    if (t.stop or t.lower in _NAMING) and t.lower in columns:  # (a token's lower is never QW, C or W)
        return columns[t.lower]
    return columns["QW" if in_question else ("C" if t.word and t.text[0].isupper() else "W")]


class _Sentence:
    """What all candidates of one sentence share: counts over its tokens as running sums (``x[i]``:
    among ``tokens[:i]``), so a candidate's counts are two lookups; ``content_at[i]``, the last
    content word at or before ``i``; the candidate families that clash with the question's kind."""

    __slots__ = (
        "capitals",
        "clashes",
        "clause_marks",
        "content",
        "content_at",
        "coordinators",
        "digits",
        "words",
    )

    def __init__(self, ctx: Context) -> None:
        words, capitals, digits, coordinators, content, marks, content_at = [0], [0], [0], [0], [0], [0], []
        last = -1
        for i, t in enumerate(ctx.tokens):
            word = t.word
            initial = t.text[0]
            upper = word and initial.isupper()
            words.append(words[-1] + word)
            capitals.append(capitals[-1] + upper)
            digits.append(digits[-1] + (word and not upper and initial.isdigit()))
            coordinators.append(coordinators[-1] + (word and t.lower in ("and", "or")))
            content.append(content[-1] + (word and not t.stop))
            marks.append(marks[-1] + (not word and t.text in _CLAUSE_MARKS))
            if word and not t.stop:
                last = i
            content_at.append(last)
        self.words, self.capitals, self.digits, self.coordinators = words, capitals, digits, coordinators
        self.content, self.clause_marks, self.content_at = content, marks, content_at
        self.clashes = _CLASHES.get(ctx.qc.kind, frozenset())


def _own_row(ctx: Context, cand: Candidate, sentence: _Sentence) -> tuple[list[float], list[int]]:
    """A candidate's own features: the values of ``_NUMBER_NAMES`` (ints and bools stand for their
    float values), and the one-hot columns set to 1."""
    qc, tokens = ctx.qc, ctx.tokens
    first, last = cand.first, cand.last
    end = last + 1
    words, content, cum = sentence.words, sentence.content, ctx.cum
    n_words = words[end] - words[first]
    n_content = content[end] - content[first]
    caps = sentence.capitals[end] - sentence.capitals[first]
    inside = cum[end] - cum[first]  # a question word is a content word
    head = sentence.content_at[last]
    if head < first:
        head = first
    n = len(tokens)
    hits = ctx.hits
    k = bisect_left(hits, first)
    before = first - hits[k - 1] if k > 0 else 99
    m = bisect_right(hits, last)
    after = hits[m] - last if m < len(hits) else 99
    head_class = ctx.head_class
    head_cls = head_class[head]
    first_cls = head_class[first]
    kinds = cand.kinds
    family = _family(kinds, head_cls, first_cls)
    match = _type_match(ctx.tiers, kinds, family)
    head_gap = min([abs(h - head) for h in ctx.head_at], default=99)
    prev_t = tokens[first - 1] if first > 0 else None
    next_t = tokens[end] if end < n else None
    first_t = tokens[first]
    clause = ctx.clause
    close, close_cum, head_close = ctx.close, ctx.close_cum, ctx.head_close
    left = first - WINDOW if first > WINDOW else 0
    right = end + WINDOW if end + WINDOW < n else n
    numbers = [
        any([k.startswith("after:") for k in kinds]),
        len(kinds),
        n_words,
        n_content,
        end - first,
        inside,
        inside / n_content if n_content else 1.0,
        caps,
        caps / n_words if n_words else 0.0,
        sentence.digits[end] - sentence.digits[first],
        first_t.text[0].isdigit(),
        sentence.clause_marks[end] - sentence.clause_marks[first],
        sentence.coordinators[end] - sentence.coordinators[first],
        first_t.lower in _DETERMINERS,
        tokens[last].stop,
        before,
        after,
        before if before < after else after,
        cum[first] - cum[left],
        cum[right] - cum[end],
        ctx.clause_hits[clause[first]] - inside,
        clause[first] != clause[last],
        len(hits) - inside,
        first / max(1, n - 1),
        first,
        n - end,
        n_words / max(1, n),
        head_cls == qc.head_class,
        qc.head_stem is not None and tokens[head].stem == qc.head_stem,
        head_gap,
        family in sentence.clashes,
        bool(ctx.tiers),
        match > 0,
        match == 2,
        first == 0 or (prev_t is not None and prev_t.text in _CLAUSE_MARKS),
        max(close[left:first], default=0.0),
        max(close[end : end + WINDOW], default=0.0),
        close_cum[first] - close_cum[left],
        close_cum[right] - close_cum[end],
        max(close[first:end]),
        ctx.closeness_in_clause(first, last),
        head_close[head],
        max(head_close[first:end]),
    ]
    hot = [
        _context_column(prev_t, first > 0 and ctx.qword[first - 1], _PREV_COLUMNS, _PREV_WORDS[0]),
        _context_column(next_t, end < n and ctx.qword[end], _NEXT_COLUMNS, _NEXT_WORDS[0]),
    ]
    for column in (
        *[_KIND_COLUMNS.get(kind) for kind in kinds],
        _HEAD_CLASS_COLUMNS.get(head_cls),
        _FIRST_CLASS_COLUMNS.get(first_cls),
        _FAMILY_COLUMNS.get(family),
    ):
        if column is not None:
            hot.append(column)
    return numbers, hot


def dense_row(ctx: Context, cand: Candidate, question: list[float]) -> list[float]:
    """A candidate's dense features for the trees: the question's (:func:`question_row`), then its own."""
    numbers, hot = _own_row(ctx, cand, _Sentence(ctx))
    row = [*question, *[0.0] * (len(DENSE_NAMES) - len(question))]
    for column, value in zip(_NUMBER_COLUMNS.tolist(), numbers, strict=True):
        row[column] = float(value)
    for column in hot:
        row[column] = 1.0
    return row


def feature_rows(ctx: Context, cands: list[Candidate]) -> np.ndarray:
    """The candidates' dense rows, (len(cands), len(DENSE_NAMES)): what :func:`dense_row` gives each."""
    out = np.zeros((len(cands), len(DENSE_NAMES)), dtype=np.float64)
    if not cands:
        return out
    question = question_row(ctx.qc, ctx)
    out[:, : len(question)] = question
    sentence = _Sentence(ctx)
    numbers, hot_rows, hot_columns = [], [], []
    for at, cand in enumerate(cands):
        values, hot = _own_row(ctx, cand, sentence)
        numbers.append(values)
        hot_rows.extend([at] * len(hot))
        hot_columns.extend(hot)
    out[:, _NUMBER_COLUMNS] = numbers
    out[hot_rows, hot_columns] = 1.0
    return out


# -- the model --------------------------------------------------------------------------------------


class SpanModel:
    """Boosted trees over each candidate's :func:`dense_row`: the probability that it is the answer.

    ``gate``: below this probability the best span is not trusted; the caller falls back to a clause.
    ``gates``: the gate for each question kind (:func:`gate_kind`) that has its own.
    ``types``: the types of :func:`wanted` whose candidates alone are scored when the sentence has one.
    """

    def __init__(
        self,
        trees: TreeModel,
        gate: float = DEFAULT_GATE,
        meta: dict | None = None,
        gates: dict[str, float] | None = None,
        types: tuple[str, ...] = TYPES,
    ) -> None:
        self.trees = trees
        self.gate = gate
        self.gates = gates or {}
        self.types = types
        self.meta = meta or {}

    def gate_for(self, qc: QuestionClass) -> float:
        """The gate for this question's kind (:func:`gate_kind`)."""
        return self.gates.get(gate_kind(qc), self.gate)

    def predict(self, ctx: Context, cands: list[Candidate]) -> list[float]:
        """Each candidate's probability of being the answer."""
        if not cands:
            return []
        return self.trees.probability(feature_rows(ctx, cands)).tolist()

    def save(self, path: Path = MODEL_PATH) -> None:
        data = {
            "format": "factbot-short-answer/2",
            "gate": self.gate,
            "gates": self.gates,
            "types": list(self.types),
        }
        data["meta"] = self.meta
        data["trees"] = self.trees.to_json()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SpanModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        trees = TreeModel.from_json(data["trees"], str(path))
        if len(trees.names) != len(DENSE_NAMES):
            raise ModelFileError(f"{path}: {len(trees.names)} features, not {len(DENSE_NAMES)}")
        gates = {str(k): float(v) for k, v in data.get("gates", {}).items()}
        types = tuple(str(t) for t in data.get("types", TYPES))
        return cls(trees, float(data.get("gate", DEFAULT_GATE)), data.get("meta"), gates, types)


@cache
def default_model() -> SpanModel:
    """The shipped model (``bot/engine/models/short_answer.json``)."""
    model = SpanModel.load()
    logger.info("short-answer model: %d trees, gate %.2f", len(model.trees.roots), model.gate)
    return model


def gate_kind(qc: QuestionClass) -> str:
    """The kind a gate is chosen for: the question's kind, "query" for a few words without a wh-word."""
    return "query" if qc.wh == "none" and not qc.yes_no else qc.kind


# -- answers ----------------------------------------------------------------------------------------


def _clause_answer(
    quote: str,
    tokens: list[Token],
    hits: list[int],
    confidence: float,
    echo: bool = False,
    head_at: Sequence[int] = (),
) -> ShortAnswer:
    """The clause that holds most of the question's words, widened to five words at least, without
    the question's words it opens or closes with (with them when ``echo``), except the question's
    head noun (``head_at``: "what village" -> "... trades from the village")."""
    folded = fold(quote)
    clauses = _clauses(folded) or [(0, len(quote))]
    hit_starts = [tokens[h].start for h in hits]

    def covered(c: tuple[int, int]) -> int:
        return sum(1 for s in hit_starts if c[0] <= s < c[1])

    best = max(range(len(clauses)), key=lambda i: (covered(clauses[i]), -i))
    first = last = best
    while len(folded[clauses[first][0] : clauses[last][1]].split()) < 5:
        if last + 1 < len(clauses):
            last += 1
        elif first > 0:
            first -= 1
        else:
            break
    start, end = clauses[first][0], clauses[last][1]
    words = quote[start:end].split()
    if len(words) > MAX_CLAUSE_WORDS:
        end = start + len(" ".join(words[:MAX_CLAUSE_WORDS]))
        end = quote.find(words[MAX_CLAUSE_WORDS - 1], start) + len(words[MAX_CLAUSE_WORDS - 1])
    if not echo:
        start, end = _without_echo(tokens, {*hits} - {*head_at}, start, end)
    return ShortAnswer(quote[start:end], start, end, "clause", confidence)


def _without_echo(tokens: list[Token], asked: set[int], start: int, end: int) -> tuple[int, int]:
    """The clause ``start..end`` without the question's words it opens or closes with: "the
    university's main library is the Regenstein Library" -> "is the Regenstein Library" for "what is
    the university's main library?".

    Only lower-case question words and function words are cut (a name the question shares may be
    part of the answer: "the Rhine Valley"), from the start up to the last of them, and at the end a
    stretch that opens with a function word ("... in 2023"). What is left must hold a content word.
    """
    inside = [i for i, t in enumerate(tokens) if start <= t.start and t.end <= end]

    def echo(i: int) -> bool:
        return tokens[i].stop or (i in asked and not tokens[i].text[:1].isupper())

    lead = 0
    while lead < len(inside) and echo(inside[lead]):
        lead += 1
    asked_lead = [k for k in range(lead) if inside[k] in asked]
    first = asked_lead[-1] + 1 if asked_lead and lead < len(inside) else 0
    last = len(inside)
    while last > first and echo(inside[last - 1]):
        last -= 1
    while last < len(inside) and not (tokens[inside[last]].word and tokens[inside[last]].stop):
        last += 1  # cut only before a function word: "... in 2023", not "... two integers"
    if last == len(inside) or not any(inside[k] in asked for k in range(last, len(inside))):
        last = len(inside)
    kept = inside[first:last]
    while kept and (not tokens[kept[0]].word or tokens[kept[0]].lower in ("and", "or", "but")):
        kept = kept[1:]
    if not any(tokens[i].word and not tokens[i].stop for i in kept):
        return start, end
    return tokens[kept[0]].start, tokens[kept[-1]].end


def without_echo(question: str, text: str) -> str:
    """``text`` (a clause) without the question's words it opens or closes with (see ``_without_echo``)."""
    qc = question_class(question)
    tokens = tokens_of(text)
    asked = {i for i, t in enumerate(tokens) if not t.stop and t.stem in qc.stems and t.stem != qc.head_stem}
    if not tokens:
        return text
    start, end = _without_echo(tokens, asked, 0, len(text))
    return text[start:end]


_UNSETTLED_RE = re.compile(r"\b(?:than|or|whether)\b")


def _yes_no(
    qc: QuestionClass, question: str, quote: str, tokens: list[Token], hits: list[int]
) -> ShortAnswer | None:
    """ "Yes, ..." or "No, ..." when the sentence has most of the question's words; else None. Not
    for a comparison or a choice ("more than", "A or B"), which the words present cannot settle."""
    if not qc.stems or _UNSETTLED_RE.search(fold(question).lower()):
        return None
    present = {tokens[h].stem for h in hits}
    if len(present) / len(qc.stems) < 0.6:
        return None
    negated = sum(1 for t in tokens if t.lower in _NEGATIONS or t.lower.endswith("n't"))
    asked_negated = bool(re.search(r"n't\b|\bnot\b|\bnever\b", fold(question).lower()))
    clause = _clause_answer(quote, tokens, hits, 0.0, echo=True)
    no = (negated % 2 == 1) != asked_negated
    confidence = len(present) / len(qc.stems)
    word = "No" if no else "Yes"
    return ShortAnswer(f"{word}, {clause.text}", clause.start, clause.end, word.lower(), confidence)


def _outermost(found: list[Candidate]) -> list[Candidate]:
    """The candidates that no other one contains (one sweep by start)."""
    out, reach = [], -1
    for c in sorted(found, key=lambda c: (c.start, -c.end)):
        if c.end > reach:
            out.append(c)
            reach = c.end
    return out


def _list_text(text: str) -> str:
    """An enumeration's items as "A, B and C" (each item verbatim)."""
    items = [p.strip() for p in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", text) if p.strip()]
    if len(items) < 2:
        return text
    return ", ".join(items[:-1]) + " and " + items[-1]


def short_answer(
    question: str,
    quote: str,
    spans: tuple[Span, ...],
    previous: str | None = None,
    model: SpanModel | None = None,
    closeness: Closeness | None = None,
    matched: Sequence[tuple[int, int]] = (),
) -> ShortAnswer:
    """The short answer ``quote`` gives to ``question`` (``spans``: its typed spans, ``bot.engine.spans``;
    ``closeness``: how close in meaning the quote's words are to the question's, when known;
    ``matched``: (start, end) ranges of the quote that name what the question names under another
    name, such as an alias, which count as the question's words).

    ``previous`` (the sentence before) is accepted for the engine's sake and not used yet.
    """
    del previous
    model = model or default_model()
    qc = question_class(question)
    tokens = _tokens(quote)
    if not tokens:
        return ShortAnswer(quote, 0, len(quote), "clause", 0.0)
    ctx = Context(qc, tokens, closeness, matched)
    hits = ctx.hits
    if qc.yes_no:
        answer = _yes_no(qc, question, quote, tokens, hits)
        return answer or _clause_answer(quote, tokens, hits, 0.0, echo=True)
    cands = list(_candidates(quote, spans))  # (a list of its own: the cached one is shared)
    if qc.wh == "why":
        reasons = [c for c in cands if "reason" in c.kinds]
        if reasons:
            best = min(reasons, key=lambda c: min((abs(c.first - h) for h in hits), default=0))
            return ShortAnswer(quote[best.start : best.end], best.start, best.end, "reason", 1.0)
    if qc.wants_list:
        # "What are the ...s", "Name the ...", "kinds of": an enumeration of new things is the answer.
        lists = [c for c in cands if "list" in c.kinds and not ctx.mostly_asked(c)]
        # A list inside a longer one is a misreading of its items ("the peninsula, unrest and ...").
        lists = _outermost(lists)
        if lists:
            best = min(lists, key=lambda c: (min((abs(c.first - h) for h in hits), default=0), c.first))
            text = quote[best.start : best.end]
            listed = _list_text(text)
            same = listed == text
            return ShortAnswer(listed, best.start if same else None, best.end if same else None, "list", 1.0)
    cands = typed(ctx, cands, model.types)
    probs = model.predict(ctx, cands)
    if not probs:
        return _clause_answer(quote, tokens, hits, 0.0, head_at=ctx.head_at)
    best_i = max(range(len(probs)), key=lambda i: (probs[i], -cands[i].start))
    best = cands[best_i]
    confidence = probs[best_i]
    if confidence < model.gate_for(qc):
        return _clause_answer(quote, tokens, hits, confidence, head_at=ctx.head_at)
    text = quote[best.start : best.end]
    if "list" in best.kinds and (qc.wants_list or qc.plural):
        listed = _list_text(text)
        return ShortAnswer(
            listed,
            best.start if listed == text else None,
            best.end if listed == text else None,
            "list",
            confidence,
        )
    return ShortAnswer(text, best.start, best.end, "span", confidence)
