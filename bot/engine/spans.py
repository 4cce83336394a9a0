"""Typed spans of a sentence: dates, years, money, percentages, counts, and named things.

Rule-based and lexicon-light, so it works on any article without a model. The answer builder
uses the spans to pick "a year for when, an amount for how much, a name for who".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.engine.model import Span
from bot.engine.text import STOP_WORDS, fold

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_SCALE = r"(?:trillion|billion|million|thousand|hundred|bn|mn|tn)"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# _NUMBER where nothing before it says where it starts. Inside a run of digits only the grouped form
# can start ("1234,567" holds "234,567"): \d+ from there ends where it ends from the run's first
# digit, so it would fail again, and retrying it at every digit makes a long run quadratic.
_LEADING_NUMBER = rf"(?:(?<!\d)(?:{_NUMBER})|(?<=\d)\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)"
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    " sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
    " hundred thousand million billion dozen dozens hundreds thousands millions billions"
).split()
_NUMBER_WORD = r"(?:" + "|".join(_NUMBER_WORDS) + r")(?:[- ](?:" + "|".join(_NUMBER_WORDS) + r"))*"
# How many times, or how much of something: "won the cup twice", "half as much coal".
_MULTIPLIERS = r"twice|thrice|half"
# A four-digit number before a unit or a counted noun is a quantity, not a year ("2000 kilometres").
_UNITS = (
    r"(?:km|kilomet(?:er|re)s|miles|met(?:er|re)s|feet|ft|tons|tonnes|kg|kilograms|acres|hectares|"
    r"people|persons|inhabitants|residents|employees|members|students|soldiers|troops|workers|men|women)\b"
)
_QUALIFIER = (
    r"(?:(?:more|fewer|less) than|over|under|about|around|approximately|nearly|almost|roughly|"
    r"some|at least|at most|up to|as many as|as much as|just over|just under)\s+"
)
_CURRENCY_WORDS = (
    r"(?:dollars?|euros?|pounds?(?: sterling)?|yen|yuan|renminbi|won|rupees?|francs?|marks?|rubles?|"
    r"roubles?|pesos?|lira|lire|z[lł]oty|kron(?:a|or|e|er)|guilders?|florins?|ducats?|shillings?|"
    r"dinars?|dirhams?|riyals?|rand|baht|reais|real|"
    r"USD|EUR|GBP|JPY|CNY|KRW|PLN|CHF|INR|RUB|BRL|AUD|CAD|SEK|NOK|DKK|HKD|SGD|MXN|ZAR|TRY)"
)


def _money_re(number: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:{_QUALIFIER})?(?:(?:US|A|C|NZ|HK|S)?[$€£¥₹₩]\s?(?:{_NUMBER})(?:\s?{_SCALE})?"
        rf"|{number}\s?(?:{_SCALE}\s)?{_CURRENCY_WORDS}\b)",
    )


def _percent_re(number: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:{_QUALIFIER})?(?:{number}|\b(?i:{_NUMBER_WORD}))\s?(?:%|percent\b|per cent\b|"
        r"percentage points?\b)"
    )


# The money and percent patterns as written, with a number starting anywhere: tried only where a
# match ended inside a run of digits ("€3,0005 rupees"), where the run's first digit was not tried.
_UNGUARDED = {"money": _money_re(f"(?:{_NUMBER})"), "percent": _percent_re(_NUMBER)}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", _money_re(_LEADING_NUMBER)),
    ("percent", _percent_re(_LEADING_NUMBER)),
    (
        "date",
        re.compile(
            rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s?[-–]\s?\d{{1,2}})?(?:,?\s+\d{{4}})?\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s?[-–]\s?\d{{1,2}})?\s+{_MONTH}(?:,?\s+\d{{4}})?\b"
            rf"|\b(?:(?:early|mid|late)[- ])?{_MONTH}\s+(?:of\s+)?\d{{4}}\b"
            rf"|\b(?:the\s+)?(?:early|mid|late)[- ]\d{{4}}s?\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)[- ]centur(?:y|ies)(?:\s+(?:BC|AD|BCE|CE))?"
            rf"|\b\d{{3}}0s\b"
            r"|\b(?:[Ll]ast|[Nn]ext|[Tt]his|[Ee]arly|[Ll]ate|[Mm]id-?)\s?(?:January|February|March|April|May|June|"
            r"July|August|September|October|November|December)\b"
            r"|\b(?:January|February|March|April|June|July|August|September|October|November|December)\b"
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?:(?:AD|BC)\s)?(?:1[0-9]{3}|20[0-9]{2})(?:\s?[-–]\s?(?:1[0-9]{3}|20[0-9]{2}|[0-9]{2}))?"
            rf"(?:\s(?:AD|BC|BCE|CE))?\b(?![.,]\d)(?!\s?%)(?!\s{_UNITS})"
        ),
    ),
    (
        "count",
        re.compile(
            rf"(?:{_QUALIFIER})?(?:(?<![\w-])(?:{_NUMBER})(?:\s{_SCALE})?\b|\b{_NUMBER_WORD}\b"
            rf"|\b(?:{_MULTIPLIERS})\b)(?![.,]\d)",
            re.IGNORECASE,
        ),
    ),
)

# Cheap tests that a pattern can match at all: each pattern needs what its test looks for, so a
# sentence failing a test is skipped without trying the pattern at every position (that costs
# microseconds a character, and a long paragraph has millions).
_DIGIT_RE = re.compile(r"\d")
_MONTH_PREFIX_RE = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
# A number word or multiplier stands as a whole word (the "one" of "someone" is none).
_COUNT_WORDS = frozenset((*_NUMBER_WORDS, "twice", "thrice", "half"))
_WORD_RUN_RE = re.compile(r"\w+")


def _may_match(kind: str, text: str, has_digit: bool) -> bool:
    """False only when pattern ``kind`` cannot match ``text``."""
    if kind in ("money", "year"):
        return has_digit
    if kind == "percent":
        return "%" in text or "percent" in text or "per cent" in text
    if kind == "date":
        return has_digit or _MONTH_PREFIX_RE.search(text) is not None
    if kind == "count" and text.isascii():  # case-insensitive; beyond ASCII, "ſix" is "six"
        return has_digit or not _COUNT_WORDS.isdisjoint(_WORD_RUN_RE.findall(text.lower()))
    return True


_ORG_WORDS = frozenset(
    """
    institute institution university department ministry council organization organisation
    agency bank company corporation corp inc ltd party association union commission committee
    court parliament congress senate army navy forces force group foundation society college
    school church alliance office bureau service services administration government league
    federation assembly board academy museum library club team network press times post journal
    """.split()
)
_PLACE_WORDS = frozenset(
    """
    sea ocean river lake island islands mountain mountains mount peninsula strait bay gulf city
    province state states county valley desert region republic kingdom empire coast canal street
    square park district island continent straits basin plain plains
    """.split()
)
_PERSON_TITLES = frozenset(
    """
    president premier minister secretary chancellor king queen emperor empress pope dr mr mrs ms
    general senator governor saint sir lord lady duke duchess prince princess chairman
    chairwoman ceo professor prof admiral colonel captain judge justice ambassador mayor
    archbishop bishop
    """.split()
)
# Countries and a few regions, so that "China" at the start of a sentence is known for a place.
_COUNTRIES = frozenset(
    """
    afghanistan albania algeria angola argentina armenia australia austria azerbaijan bahrain bangladesh
    belarus belgium bhutan bolivia bosnia brazil brunei bulgaria cambodia cameroon canada chad chile
    china colombia congo croatia cuba cyprus czechia denmark ecuador egypt england eritrea estonia
    ethiopia europe finland france georgia germany ghana greece guatemala haiti honduras hungary iceland
    india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya korea kosovo
    kuwait kyrgyzstan laos latvia lebanon liberia libya lithuania luxembourg madagascar malaysia mali
    malta mexico moldova mongolia montenegro morocco mozambique myanmar namibia nepal netherlands
    nicaragua niger nigeria norway oman pakistan palestine panama paraguay peru philippines poland
    portugal qatar romania russia rwanda scotland senegal serbia singapore slovakia slovenia somalia
    spain sudan sweden switzerland syria taiwan tajikistan tanzania thailand tunisia turkey turkmenistan
    uganda ukraine uruguay uzbekistan venezuela vietnam wales yemen zambia zimbabwe africa asia america
    antarctica oceania
    """.split()
)
_PLACE_PREPOSITIONS = frozenset(
    """
    in at near from across into throughout
    """.split()
)

# Words that open a sentence with a capital without being names.
_NOT_NAMES = frozenset(
    """
    despite however although additionally furthermore moreover meanwhile nevertheless similarly
    firstly secondly thirdly finally amidst amid since according following during after before
    while as in on at with many some most several one two three this these those there it its
    other another each both all no not such because unlike like though once when where which who
    what today yesterday here overall economically politically historically militarily increased
    increasing last next first second third understanding bringing policies the a an if but and
    or so yet for nor by from to of than
    """.split()
)

_CAP_WORD = r"[A-Z][\w'’\-.]*[\w]|[A-Z]"
_CONNECTOR = r"(?:of|the|de|du|des|del|della|von|van|der|la|le|for|on|upon|al|bin|ibn)"
_ENTITY_RE = re.compile(rf"(?:{_CAP_WORD})(?:\s+(?:{_CONNECTOR}\s+)*(?:{_CAP_WORD}))*")
_QUOTED_NAME_RE = re.compile(r"[\"“]([A-Z][^\"“”]{1,60}?)[\"”]")
_FOLLOWING_NOUN_RE = re.compile(r"\s+([A-Za-z]+)|-([a-z]+)")
_TRAILING_WORDS = STOP_WORDS | {"of", "the", "and"}
_BEFORE_WINDOW = 256


class _Taken:
    """The characters already in a span: an overlap test that costs the length of the span tested,
    not the number of spans found, so finding spans stays linear in the sentence's length."""

    def __init__(self, length: int) -> None:
        self._covered = bytearray(length)

    def overlaps(self, start: int, end: int) -> bool:
        return self._covered.find(1, start, end) >= 0

    def add(self, start: int, end: int) -> None:
        self._covered[start:end] = b"\x01" * (end - start)


def _entity_kind(words: list[str], before: str) -> str:
    lowered = [w.lower().strip(".") for w in words]
    if any(w in _PERSON_TITLES for w in lowered[:-1]):
        return "person"
    if any(w in _ORG_WORDS for w in lowered):
        return "org"
    if any(w in _PLACE_WORDS for w in lowered) or lowered[-1] in _COUNTRIES:
        return "place"
    if len(words) == 1 and re.fullmatch(r"[A-Z]{2,6}", words[0]):
        return "org"
    if before in _PLACE_PREPOSITIONS:
        return "place"
    if before in _PERSON_TITLES:
        return "person"
    return "name"


def _finditer(kind: str, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, with the original pattern where a guarded one may not be exact."""
    unguarded = _UNGUARDED.get(kind)
    if unguarded is None:
        yield from pattern.finditer(text)
        return
    pos = 0
    while pos <= len(text):
        match = pattern.search(text, pos)
        if match is None:
            return
        yield match
        pos = match.end() + (match.end() == match.start())
        while 0 < pos < len(text) and _DIGIT_RE.match(text, pos - 1) and _DIGIT_RE.match(text, pos):
            # Ended inside a run of digits: here a number may start anywhere, as in the original.
            match = unguarded.match(text, pos)
            if match is None:
                pos += 1
                break
            yield match
            pos = match.end() + (match.end() == match.start())


def find_spans(sentence: str, lowercase_words: frozenset[str] = frozenset()) -> tuple[Span, ...]:
    """Typed spans of ``sentence``, without overlaps, in order of position.

    ``lowercase_words`` are words the article also uses in lower case: a capitalised one of them at
    the start of a sentence is not taken for a name.
    """
    text = fold(sentence)
    spans: list[Span] = []
    taken = _Taken(len(text))
    for match in _QUOTED_NAME_RE.finditer(text):
        spans.append(Span("name", sentence[match.start(1) : match.end(1)], match.start(1), match.end(1)))
        taken.add(match.start(1), match.end(1))
    has_digit = _DIGIT_RE.search(text) is not None
    for kind, pattern in _PATTERNS:
        if not _may_match(kind, text, has_digit):
            continue
        for match in _finditer(kind, pattern, text):
            start, end = match.start(), match.end()
            if end <= start or taken.overlaps(start, end):
                continue
            if (
                kind == "count"
                and not any(ch.isdigit() for ch in match.group())
                and not re.fullmatch(_MULTIPLIERS, match.group(), re.IGNORECASE)
            ):
                # A number word counts something only before a noun: "four-valve", "ten ships"
                # ("Six-Party Talks" is a name).
                following = _FOLLOWING_NOUN_RE.match(text, end)
                if not following or (following.group(1) or following.group(2)).lower() in STOP_WORDS:
                    continue
            spans.append(Span(kind, sentence[start:end], start, end))
            taken.add(start, end)
    for match in _ENTITY_RE.finditer(text):
        start, end = match.start(), match.end()
        words = match.group().split()
        # Drop capitalised function words at the front ("In Japan" -> "Japan") and the back; the
        # kept words are words[first:last] (indices, not copies: a "name" may be very long).
        first, last = 0, len(words)
        while first < last and (
            words[first].lower() in _NOT_NAMES
            or words[first].lower() in STOP_WORDS
            or (start == 0 and words[first].lower() in lowercase_words)
        ):
            start = text.index(words[first + 1], start + len(words[first])) if last - first > 1 else end
            first += 1
        while last > first and words[last - 1].lower() in _TRAILING_WORDS:
            last -= 1
            end = text.rindex(words[last - 1], start, end) + len(words[last - 1]) if last > first else start
        words = words[first:last]
        if not words or taken.overlaps(start, end):
            continue
        if len(words) == 1 and len(words[0]) == 1:
            continue
        possessive = re.search(r"['’]s?$", text[start:end])
        if possessive:
            end -= len(possessive.group())
        # The word before the name (looked for close by: a longer "word" is no preposition or title).
        before_words = text[max(0, start - _BEFORE_WINDOW) : start].split()
        before = before_words[-1].lower().strip(",.;:") if before_words else ""
        spans.append(Span(_entity_kind(words, before), sentence[start:end], start, end))
        taken.add(start, end)
    return tuple(sorted(spans, key=lambda s: s.start))
