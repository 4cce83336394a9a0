"""Text handling shared by indexing and questions: folding, tokens, stems, sentences.

Everything here is deterministic and language-light: English stemming (Snowball, via PyStemmer),
British-to-American spelling, a few irregular verbs, and a rule-based sentence splitter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import Stemmer

_STEMMER = Stemmer.Stemmer("english")

_FOLD_TABLE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)


def fold(text: str) -> str:
    """Curly quotes, dashes and odd spaces folded to plain ASCII ones (same length)."""
    return text.translate(_FOLD_TABLE)


@cache
def common_words() -> tuple[str, ...]:
    """Frequent English words that are not names, in lower case, most frequent first
    (``data/common_english.txt``)."""
    text = (Path(__file__).parent / "data" / "common_english.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


@cache
def common_english() -> frozenset[str]:
    """:func:`common_words` as a set."""
    return frozenset(common_words())


_LOWER_WORD_RE = re.compile(r"(?<![\w'’])[a-z]{4,}(?![\w'’])")


#: At most this many words of one question are looked up as typos (about 1 ms each, cached).
MAX_RESPELLED = 8


@lru_cache(maxsize=8192)
def common_spelling(word: str) -> str | None:
    """The frequent English word a lower-case typo most likely meant ("budjet": "budget"): OSA
    distance 1, 2 from 7 letters; among the closest, a word of the same length (a swap or a wrong
    letter: "mnay" is "many", not "may"), then the more frequent; None when nothing is that close."""
    from rapidfuzz import process  # imported on the first unknown word: `factbot ask` starts faster
    from rapidfuzz.distance import OSA

    limit = 1 if len(word) < 7 else 2
    matches = process.extract(word, common_words(), scorer=OSA.distance, score_cutoff=limit, limit=None)
    best = min(matches, key=lambda m: (m[1], len(m[0]) != len(word), m[2]), default=None)
    return None if best is None else best[0]


@cache
def _common_stems() -> frozenset[str]:
    """The Snowball stems of :func:`common_words` (one call into the stemmer: 12 ms, not 60)."""
    return frozenset(_STEMMER.stemWords(common_words()))


def respell(text: str, keep: Callable[[str], bool]) -> str:
    """``text`` with each lower-case word that is neither a form of a frequent English word nor
    ``keep``-ed replaced by the frequent word it most likely mistypes (for reading the question's type)."""
    frequent = common_english()
    budget = MAX_RESPELLED  # a long run of gibberish costs a bounded number of searches

    def fix(match: re.Match[str]) -> str:
        nonlocal budget
        word = match.group(0)
        if word in frequent or keep(word) or not budget or _STEMMER.stemWord(word) in _common_stems():
            return word  # frequent, the articles', or a form of a frequent word ("drills")
        budget -= 1
        return common_spelling(word) or word

    return _LOWER_WORD_RE.sub(fix, text)


# Words that carry no topic. Question words are kept apart: they tell the answer type.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn doing
    don down during each either else ever every few for from further had hadn has hasn have
    haven having he her here hers herself him himself his i if in into is isn it its itself just
    let ll me mine more most my myself neither nor not now of off on once only or other others
    our ours ourselves out over own re s same shall shan she should shouldn so some such t than
    that the their theirs them themselves then there these they this those through to too under
    until up upon us very was wasn we were weren what whatever when whenever where wherever
    whether which while who whom whose why will with within without would wouldn you your yours
    yourself yourselves ve d m o y ain per via among amongst tell know please thanks thank hi
    hello hey anything something someone somebody
    """.split()
)

QUESTION_WORDS = frozenset(
    """
    what when where which who whom whose why how
    """.split()
)

# Verbs that say little about the topic of a question; they count, but lightly.
LIGHT_WORDS = frozenset(
    """
    do does did done doing make makes made making get gets got getting go goes went gone going
    come comes came coming take takes took taken happen happened happens think thought say says
    said mean means meant call called known name named kind kinds type types way ways thing
    things much many year years time times according
    """.split()
)

# British to American spelling; applied to every word before stemming so both spellings meet.
_BRITISH = {
    "defence": "defense",
    "offence": "offense",
    "licence": "license",
    "pretence": "pretense",
    "programme": "program",
    "programmes": "programs",
    "travelled": "traveled",
    "travelling": "traveling",
    "cancelled": "canceled",
    "cancelling": "canceling",
    "modelling": "modeling",
    "modelled": "modeled",
    "labelled": "labeled",
    "fuelled": "fueled",
    "levelled": "leveled",
    "signalled": "signaled",
    "totalled": "totaled",
    "counselling": "counseling",
    "grey": "gray",
    "tyre": "tire",
    "tyres": "tires",
    "cheque": "check",
    "aluminium": "aluminum",
    "manoeuvre": "maneuver",
    "manoeuvres": "maneuvers",
    "judgement": "judgment",
    "ageing": "aging",
    "enrol": "enroll",
}
_BRITISH_RULES = (
    (re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations)$"), r"\1iz\2"),
    (re.compile(r"^(\w{2,}[^aeiou])our(s|ed|ing|ite|ites|able)?$"), r"\1or\2"),
    (re.compile(r"^(\w{2,})tre(s)?$"), r"\1ter\2"),
    (re.compile(r"^(\w{3,})yse(s|d)?$"), r"\1yze\2"),
    (re.compile(r"^(\w{3,})ogue(s)?$"), r"\1og\2"),
)

# Irregular forms the stemmer does not join to their base.
_IRREGULAR = {
    "spent": "spend",
    "built": "build",
    "held": "hold",
    "led": "lead",
    "began": "begin",
    "begun": "begin",
    "fought": "fight",
    "bought": "buy",
    "sought": "seek",
    "taught": "teach",
    "brought": "bring",
    "won": "win",
    "ran": "run",
    "grew": "grow",
    "grown": "grow",
    "rose": "rise",
    "risen": "rise",
    "fell": "fall",
    "fallen": "fall",
    "wrote": "write",
    "written": "write",
    "chose": "choose",
    "chosen": "choose",
    "gave": "give",
    "given": "give",
    "saw": "see",
    "seen": "see",
    "met": "meet",
    "sold": "sell",
    "told": "tell",
    "found": "find",
    "founded": "found",
    "founding": "found",
    "founder": "found",
    "founders": "found",
    "lost": "lose",
    "paid": "pay",
    "sent": "send",
    "struck": "strike",
    "stood": "stand",
    "left": "leave",
    "kept": "keep",
    "meant": "mean",
    "drew": "draw",
    "drawn": "draw",
    "flew": "fly",
    "flown": "fly",
    "shot": "shoot",
    "spoke": "speak",
    "spoken": "speak",
    "broke": "break",
    "broken": "break",
    "became": "become",
    "men": "man",
    "women": "woman",
    "children": "child",
    "people": "people",
    "countries": "country",
    "largest": "large",
    "larger": "large",
    "biggest": "big",
    "bigger": "big",
    "greatest": "great",
    "greater": "great",
    "highest": "high",
    "higher": "high",
    "longest": "long",
    "longer": "long",
    "oldest": "old",
    "older": "old",
    "best": "good",
    "better": "good",
    "worst": "bad",
    "worse": "bad",
}

_WORD_RE = re.compile(r"(?:[A-Z]\.){2,}|[^\W_]+(?:[.,][0-9]+)*(?:'[^\W_]+)?")


class Token(NamedTuple):
    """One word of a text: where it stands, how it was written, and its normalised stem."""

    surface: str
    stem: str
    start: int
    end: int

    @property
    def is_capitalized(self) -> bool:
        return self.surface[:1].isupper()


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """Lower-case, American spelling, irregular forms joined, then the Snowball stem."""
    word = _strip_accents(word.lower())
    if word.endswith(".") and word.count(".") >= 2:  # U.S. -> us
        word = word.replace(".", "")
    if word.endswith(("'s", "'")):
        word = word.rsplit("'", 1)[0]
    elif "'" in word:
        word = word.replace("'", "")
    if word[:1].isdigit():
        return _normalize_number(word)
    word = _BRITISH.get(word, word)
    if len(word) > 5:
        for pattern, repl in _BRITISH_RULES:
            word = pattern.sub(repl, word)
    if word in _IRREGULAR:
        return _STEMMER.stemWord(_IRREGULAR[word])
    return _STEMMER.stemWord(word)


def _strip_accents(word: str) -> str:
    """'fiancée' -> 'fiancee', 'Bolesław' -> 'boleslaw': people type without accents."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.replace("ł", "l").replace("ø", "o").replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _normalize_number(word: str) -> str:
    """'1,200' and '1200' meet; '48.0' and '48' meet; years stay as written."""
    word = word.replace(",", "")
    if "." in word:
        whole, _, frac = word.partition(".")
        frac = frac.rstrip("0")
        return f"{whole}.{frac}" if frac else whole
    return word


def tokenize(text: str) -> list[Token]:
    """Every word and number of ``text`` with its offsets, hyphenated compounds split."""
    folded = fold(text)
    return [
        Token(m.group(), normalize_word(m.group()), m.start(), m.end()) for m in _WORD_RE.finditer(folded)
    ]


def content_stems(text: str) -> list[str]:
    """The stems of the words of ``text`` that are not stop words."""
    return [t.stem for t in tokenize(text) if t.surface.lower() not in STOP_WORDS]


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres supt
    insp inc ltd co corp bros llc plc dept univ assn est approx ca cf vs etc al ed eds vol vols
    no nos pp fig figs p op ch sec art jan feb mar apr jun jul aug sep sept oct nov dec mon tue
    wed thu fri sat sun e.g i.e a.m p.m u.s u.k u.n e.u d.c b.c a.d b.c.e c.e ph.d m.d b.a m.a
    ave blvd rd hwy max min
    """.split()
)
# Words that start a sentence but never follow an initial: "... equal to P. Again, there are ..."
_SENTENCE_OPENERS = STOP_WORDS | frozenset("however moreover therefore thus hence again also".split())

# A sentence ends at . ! ? (or an ellipsis), after optional closing quotes or brackets,
# before white space and something that can start a sentence. A run of . ! ? is tried from its
# first mark only: a later start ends where the run ends, so it fails too (and retrying each
# would make a long run quadratic).
_BOUNDARY_RE = re.compile(
    r"""((?<![.!?])[.!?]+|\u2026)(["'\u201d\u2019)\]]*)(\s+)(?=["'\u201c\u2018(\[]?[A-Z0-9])"""
)
# Sentences glued without a space: "...with Washington.China anticipates..."
# (The mark is matched, then looked behind, so the search skips ahead to marks.)
_GLUED_RE = re.compile(r"[.!?](?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")


# The word before a full stop, when it may be an abbreviation or an initial. It is looked for only in
# the last _WORD_WINDOW characters, so that splitting stays linear in the paragraph's length; a
# "word" of letters and dots longer than that is neither an abbreviation nor a run of initials.
_LAST_WORD_RE = re.compile(r"(?:^|[\s(\[\"'])([A-Za-z][A-Za-z.]*)\.$")
_WORD_WINDOW = 64
_FOLLOWING_WORD_RE = re.compile(r"[\"'\u201c\u2018(\[]?([A-Za-z]+)")


def _ends_with_abbreviation(text: str, following: str = "", end: int | None = None) -> bool:
    """Whether ``text[:end]`` ends with an abbreviation or an initial ("Dr.", "J.", "U.S.")."""
    end = len(text) if end is None else end
    match = _LAST_WORD_RE.search(text, max(0, end - _WORD_WINDOW), end)
    if not match:
        return False
    word = match.group(1).lower()
    if len(word) == 1 and len(following) > 1 and following.lower() in _SENTENCE_OPENERS:
        return False  # a one-letter name ending a sentence: "... or equal to P. Again, ..."
    if word in _ABBREVIATIONS:
        return True
    # Initials like "J." or "U.S." (a single capital, or letters separated by dots).
    return bool(re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", word)) and match.group(1)[:1].isupper()


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each sentence of ``paragraph``; slicing gives it word for word.

    Linear in the paragraph's length: nothing rescans or copies the text before a boundary.
    """
    cuts: list[int] = []
    for match in _BOUNDARY_RE.finditer(paragraph):
        end = match.end(2)
        following = _FOLLOWING_WORD_RE.match(paragraph, match.end())
        if match.group(1) == "." and _ends_with_abbreviation(
            paragraph, following.group(1) if following else "", end=match.end(1)
        ):
            continue
        cuts.append(end)
    for match in _GLUED_RE.finditer(paragraph):
        if not _ends_with_abbreviation(paragraph, end=match.end()):
            cuts.append(match.end())
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(paragraph)]:
        piece = paragraph[start:cut]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if piece.strip():
            spans.append((start + lead, start + trail))
        start = cut
    return spans
