"""Typed spans of a sentence: dates, years, money, percentages, counts, and named things.

Rule-based and lexicon-light, so it works on any article without a model. The answer builder
uses the spans to pick "a year for when, an amount for how much, a name for who".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.model import Span
from bot.text import STOP_WORDS, fold

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_SCALE = r"(?:trillion|billion|million|thousand|hundred|bn|mn|tn)"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
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

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "money",
        re.compile(
            rf"(?:{_QUALIFIER})?(?:(?:US|A|C|NZ|HK|S)?[$€£¥₹₩]\s?(?:{_NUMBER})(?:\s?{_SCALE})?"
            rf"|(?:{_NUMBER})\s?(?:{_SCALE}\s)?{_CURRENCY_WORDS}\b)",
        ),
    ),
    (
        "percent",
        re.compile(
            rf"(?:{_QUALIFIER})?(?:{_NUMBER}|\b(?i:{_NUMBER_WORD}))\s?(?:%|percent\b|per cent\b|"
            r"percentage points?\b)"
        ),
    ),
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


def _overlaps(start: int, end: int, taken: Iterable[tuple[int, int]]) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)


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


def find_spans(sentence: str, lowercase_words: frozenset[str] = frozenset()) -> tuple[Span, ...]:
    """Typed spans of ``sentence``, without overlaps, in order of position.

    ``lowercase_words`` are words the article also uses in lower case: a capitalised one of them at
    the start of a sentence is not taken for a name.
    """
    text = fold(sentence)
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for match in _QUOTED_NAME_RE.finditer(text):
        spans.append(Span("name", sentence[match.start(1) : match.end(1)], match.start(1), match.end(1)))
        taken.append((match.start(1), match.end(1)))
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if end <= start or _overlaps(start, end, taken):
                continue
            if (
                kind == "count"
                and not any(ch.isdigit() for ch in match.group())
                and not re.fullmatch(_MULTIPLIERS, match.group(), re.IGNORECASE)
            ):
                # A number word counts something only before a noun: "four-valve", "ten ships"
                # ("Six-Party Talks" is a name).
                following = re.match(r"\s+([A-Za-z]+)|-([a-z]+)", text[end:])
                if not following or (following.group(1) or following.group(2)).lower() in STOP_WORDS:
                    continue
            spans.append(Span(kind, sentence[start:end], start, end))
            taken.append((start, end))
    for match in _ENTITY_RE.finditer(text):
        start, end = match.start(), match.end()
        words = match.group().split()
        # Drop capitalised function words at the front ("In Japan" -> "Japan").
        while words and (
            words[0].lower() in _NOT_NAMES
            or words[0].lower() in STOP_WORDS
            or (start == 0 and words[0].lower() in lowercase_words)
        ):
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else end
            words = words[1:]
        while words and words[-1].lower() in STOP_WORDS | {"of", "the", "and"}:
            words = words[:-1]
            end = text.rindex(words[-1], start, end) + len(words[-1]) if words else start
        if not words or _overlaps(start, end, taken):
            continue
        if len(words) == 1 and len(words[0]) == 1:
            continue
        possessive = re.search(r"['’]s?$", text[start:end])
        if possessive:
            end -= len(possessive.group())
        before_words = text[:start].split()
        before = before_words[-1].lower().strip(",.;:") if before_words else ""
        spans.append(Span(_entity_kind(words, before), sentence[start:end], start, end))
        taken.append((start, end))
    return tuple(sorted(spans, key=lambda s: s.start))
