"""What kind of thing answers a question, and where it sits in a sentence: a count or amount
for "how many" / "how much", a date for "when", a name for "what is the name"."""

from __future__ import annotations

import re
from functools import lru_cache

from index.terms import terms, words
from rag.text import MONTHS, NUMBER_WORDS, YEAR, Question, capitalized

_SINCE_WHEN = re.compile(r"\bsince when\b", re.I)


_HEADING = re.compile(r"^\s*#{1,6}\s")
_ASKS_TITLE = re.compile(r"\b(?:title|titled|heading|headline|section|chapter)\b", re.I)


def answer_fits(question: Question, sentence: str) -> bool:
    """Whether ``sentence`` holds the kind of thing the question asks for (a Markdown heading
    holds none, unless the question asks for a title or section)."""
    if _HEADING.match(sentence) and not _ASKS_TITLE.search(question.text):
        return False
    if question.kind == "number":
        return answer_quantity(question, sentence) is not None
    if question.kind == "date":
        if _SINCE_WHEN.search(question.text) and re.search(r"\bsince\b", sentence, re.I):
            return True
        return answer_date(question, sentence) is not None
    if _NAME_OF.search(question.text):
        return bool(capitalized(sentence) - {w.lower() for w in words(question.text)})
    return True


_TIME_UNITS = frozenset(
    "second seconds minute minutes hour hours day days week weeks month months year years "
    "decade decades century centuries".split())
_NUMBER_WORD = "(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)*(?:-(\w+))?(?:\s+([^\W\d_]+))?|\b(" + _NUMBER_WORD + "(?:-"
    + _NUMBER_WORD + r")*)\b(?:-(\w+)|(?:\s+(?:of\s+)?([^\W\d_]+)))?", re.I)
"""A count or amount and the word after it (its unit): "282 Azerbaijanis", "44-day",
"twenty-five years", "two-year"."""
_HOW_MANY_WHAT = re.compile(r"\bhow (?:many|much)\s+(\w+)", re.I)
_DURATION_Q = re.compile(r"\bhow (?:long|old|often)\b", re.I)
_STRICT_DURATION_Q = re.compile(
    r"\bhow long (?:has|have|had|did|does|do|will|was|were|would|is it since)\b", re.I)
_MEASURES = frozenset(
    "square km kilometers kilometres miles meters metres percent per cent dollars euros tons "
    "tonnes kg kilograms hectares acres feet inches degrees".split())
_MEASURE_Q = re.compile(r"\bhow (?:big|large|far|much|wide|deep|high|tall)\b|\b(?:area|size|"
                        r"distance|percentage|share|cost|price)\b", re.I)
_NAME_OF = re.compile(r"\bname\b", re.I)


def answer_quantity(question: Question, sentence: str) -> tuple[int, int] | None:
    """Span of the first count or amount in ``sentence`` that could answer a number question:
    not a date or a time, not a number the question already names, and a duration ("44-day")
    only when the question asks how long, or how many days/years."""
    dates = [m.span() for m in _date_spans(sentence)]
    asked_unit = _HOW_MANY_WHAT.search(question.text)
    strict_time = bool(_STRICT_DURATION_Q.search(question.text)) or (
        asked_unit is not None and asked_unit.group(1).lower() in _TIME_UNITS)
    wants_time = strict_time or bool(_DURATION_Q.search(question.text))
    wants_measure = bool(_MEASURE_Q.search(question.text)) or (
        asked_unit is not None and asked_unit.group(1).lower() in _MEASURES)
    wants_money = bool(_MONEY_Q.search(question.text))
    for m in _QUANTITY.finditer(sentence):
        if any(a <= m.start() < b for a, b in dates):
            continue
        end = m.start() + len(m.group(0).split()[0])  # the amount's first word ("2,000", "44-day")
        if wants_money and not _is_money(sentence, m.start(), end):
            continue
        value = (m.group(0).split("-")[0].split()[0]).replace(",", "").lower()
        if value in question.numbers:
            continue
        unit = (m.group(1) or m.group(2) or m.group(4) or m.group(5) or "").lower()
        if (unit in _TIME_UNITS) != wants_time and (unit in _TIME_UNITS or strict_time
                                                     or not wants_time):
            continue
        if unit in _MEASURES and not wants_measure:
            continue
        return m.start(), end
    return None


_MONEY_Q = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|price|priced|pay|paid|spend|spent|worth|fee|charge|"
    r"charged)\b|\bwhat (?:is|was|are|were) the (?:price|cost|fee)s?\b", re.I)
"""A question that asks for an amount of money ("How much does it cost?"), not a count of
things ("How many people were charged?")."""
_CURRENCIES = frozenset(
    "dollar dollars euro euros pound pounds yen cent cents krone kroner kronor franc francs "
    "rupee rupees ruble rubles rouble roubles manat dram yuan usd eur gbp".split())


_SIGNS = ("$", "€", "£", "¥", "₼")


def _is_money(sentence: str, start: int, end: int) -> bool:
    """A currency sign or word next to the amount ("$49", "49 €", "USD 40"), or a currency
    word within three words after it ("2,500,000 US dollars", "1.5 million Swedish kronor")."""
    before, after = sentence[:start].rstrip(), sentence[end:].lstrip()
    if before.endswith(_SIGNS) or after.startswith(_SIGNS):
        return True
    previous = words(before)[-1:]
    following = [w.lower() for w in words(after)[:3]]
    return (bool(previous) and previous[0].lower() in _CURRENCIES) or any(
        w in _CURRENCIES for w in following)


def answer_date(question: Question, sentence: str) -> tuple[int, int] | None:
    """Span of the first date or time in ``sentence`` that the question does not already name."""
    asked = question.text.lower()
    spans = [m for m in _date_spans(sentence) if m.group(0).lower() not in asked]
    if re.search(r"\bwhat time\b", asked):
        spans.sort(key=lambda m: ":" not in m.group(0))
    return spans[0].span() if spans else None


def is_date_line(sentence: str) -> bool:
    """A short line that is mostly a date or time (a dateline, a timestamp)."""
    return len(sentence) <= 120 and len(_date_spans(sentence)) >= 1 and len(terms(sentence)) <= 12


def highlight_span(question: Question, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the phrase that answers a number or date question."""
    if question.kind == "number":
        return answer_quantity(question, sentence)
    if question.kind == "date":
        return answer_date(question, sentence)
    return None


_MONTH = "(?:" + "|".join(MONTHS) + r")\.?"
_DATE_SPAN = re.compile(
    r"\b(?:" + _MONTH + r" \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?|\d{1,2}(?:st|nd|rd|th)? "
    + _MONTH + r"(?:,? \d{4})?|" + _MONTH + r",? \d{4}|\d{4}-\d\d-\d\d|\d{1,2}:\d\d(?::\d\d)?"
    r"|" + YEAR + r"|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow)|" + _MONTH + r")(?![\w-])", re.I)


@lru_cache(maxsize=16384)
def _date_spans(text: str) -> tuple[re.Match[str], ...]:
    return tuple(_DATE_SPAN.finditer(text))
