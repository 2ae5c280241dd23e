"""Words, stems and what a question asks for: the lexical side of answering, no model needed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom whose why will with would you your yours yourself yourselves also according
    said says say tell told according exactly actually really please did does do whats what's
    s t don doesn didn isn wasn weren aren per via us one happen happened happens happening
    occur occurred occurs
    """.split()
)

PRONOUNS = frozenset(
    "he she him her his hers it its they them their theirs this that these those there then "
    "such same former latter".split()
)

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_NUMBER_WORDS = frozenset(
    """
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions dozen dozens
    """.split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DATE = re.compile(
    r"\b(?:" + "|".join(_MONTHS) + r")\b|\b(?:1[0-9]|20)\d\d\b|\b\d{1,2}:\d\d\b|"
    r"\b\d{4}-\d\d-\d\d\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|century|decade|decades)\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")

_SINCE_WHEN = re.compile(r"\bsince when\b", re.I)

# question forms: (pattern, answer type)
_FORMS = (
    (re.compile(r"\bhow (?:many|much)\b|\bwhat (?:number|percentage|amount|share)\b"
                r"|\bhow (?:big|large|far|long|old|tall|high|wide|deep|often)\b", re.I), "number"),
    (re.compile(r"\bwhen\b|\bwhat (?:date|year|time|day|month|century|decade)\b|"
                r"\bwhich (?:date|year|day|month|century|decade)\b|\bsince when\b", re.I), "date"),
    (re.compile(r"\bwho(?:m|se)?\b|\bwhat(?:'s| is) (?:the |his |her |their )?name\b", re.I),
     "who"),
    (re.compile(r"\bwhere\b", re.I), "where"),
    (re.compile(r"\bwhy\b", re.I), "why"),
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A small, stable suffix stripper: ``accusations`` and ``accusing`` share ``accus``."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix in ("ational", "ations", "ation", "ments", "ment", "ness", "ings", "ing", "ers",
                   "ies", "ied", "ed", "es", "er", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= (4 if len(suffix) >= 4 else 3):
            w = w[: -len(suffix)]
            if suffix in ("ies", "ied"):
                w += "y"
            break
    if len(w) > 3 and w[-1] == "e":
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Stems of the content words of ``text`` (stop words dropped), in order."""
    out = []
    for w in words(text):
        low = w.lower()
        if low in STOPWORDS or (len(low) < 2 and not low.isdigit()):
            continue
        out.append(stem(low))
    return out


def numbers(text: str) -> set[str]:
    found = {m.group(0).replace(",", "") for m in _DIGITS.finditer(text)}
    return found | {w.lower() for w in words(text) if w.lower() in _NUMBER_WORDS}


def has_date(text: str) -> bool:
    return _DATE.search(text) is not None


def capitalized(text: str) -> set[str]:
    """Capitalized words that are not the first word of the text."""
    ws = words(text)
    return {w.lower() for w in ws[1:] if w[:1].isupper()}


_TYPE_NOUNS = re.compile(
    r"\b(?:what|which|whose|how)\s+(?:(?:is|was|are|were|the|a|an)\s+){0,2}(?:\w+\s+)?"
    r"(date|year|time|day|month|name|number|percentage|amount|kind|type|word|words|many|much|"
    r"long|big|large|old|far|often)\b", re.I)
_DURATION_VERBS = re.compile(r"\bhow long\b.*\b(last|lasted|take|took|taken)\b", re.I)
META_WORDS = frozenset(
    "mention mentioned mentions article passage text document paragraph".split())
"""Words that point at the document rather than at its content ("the war mentioned in the
article"): not matched against sentences."""


_META_STEMS = frozenset(stem(w) for w in META_WORDS)


def content_terms(question: str) -> list[str]:
    """Terms of a question without the words that only name the answer type ("what date",
    "how long did it last") or point at the document itself."""
    typed = {stem(m.group(1).lower()) for m in _TYPE_NOUNS.finditer(question)}
    typed |= {stem(m.group(1).lower()) for m in _DURATION_VERBS.finditer(question)}
    return [t for t in terms(question) if t not in typed and t not in _META_STEMS]


@dataclass(frozen=True)
class Question:
    """What a question asks: its content stems, its numbers, and the type of answer it wants."""

    text: str
    terms: tuple[str, ...]
    numbers: frozenset[str]
    kind: str  # number | date | who | where | why | other
    anaphoric: bool
    negated: bool = False

    @classmethod
    def parse(cls, text: str) -> Question:
        kind = next((k for pattern, k in _FORMS if pattern.search(text)), "other")
        lowered = [w.lower() for w in words(text)]
        own = content_terms(text)
        anaphoric = any(w in PRONOUNS for w in lowered) or len(own) <= 1
        return cls(text, tuple(dict.fromkeys(own)), frozenset(numbers(text)), kind, anaphoric,
                   negated(text))


_DEFINITION = re.compile(
    r"^\s*(?:who|what)\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?([^?]{2,60}?)\s*\??\s*$",
    re.I)


_RELATION = re.compile(r"\b(?:of|in|for|on|at|to|by|with|from|about|that|who|which|when|did|"
                       r"does|do|has|have|had)\b", re.I)


def definition_subject(question: Question) -> tuple[str, ...]:
    """The terms of X in "Who is X?" / "What is X?" (a question that asks what X is), or ()."""
    match = _DEFINITION.match(question.text)
    if match is None:
        return ()
    if _RELATION.search(match.group(1)):  # "What is the capital of France?": not what X is
        return ()
    subject = tuple(terms(match.group(1)))
    return subject if 0 < len(subject) <= 4 else ()


def answer_fits(question: Question, sentence: str) -> bool:
    """Whether ``sentence`` holds the kind of thing the question asks for."""
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
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)*(?:-(\w+))?(?:\s+([^\W\d_]+))?|\b(" + "|".join(_NUMBER_WORDS)
    + r")\b(?:\s+(?:of\s+)?([^\W\d_]+))?", re.I)
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
    for m in _QUANTITY.finditer(sentence):
        if any(a <= m.start() < b for a, b in dates):
            continue
        value = (m.group(0).split("-")[0].split()[0]).replace(",", "").lower()
        if value in question.numbers:
            continue
        unit = (m.group(1) or m.group(2) or m.group(4) or "").lower()
        if (unit in _TIME_UNITS) != wants_time and (unit in _TIME_UNITS or strict_time
                                                     or not wants_time):
            continue
        if unit in _MEASURES and not wants_measure:
            continue
        end = m.start() + len(m.group(0).split()[0])
        return m.start(), end
    return None


def answer_date(question: Question, sentence: str) -> tuple[int, int] | None:
    """Span of the first date or time in ``sentence`` that the question does not already name."""
    asked = question.text.lower()
    spans = [m for m in _date_spans(sentence) if m.group(0).lower() not in asked]
    if re.search(r"\bwhat time\b", asked):
        spans.sort(key=lambda m: ":" not in m.group(0))
    return spans[0].span() if spans else None


_ABOUT_DOCUMENT = re.compile(
    r"\b(?:article|piece|story|report|post|document|page|item|news)\b.*\b(?:published|posted|"
    r"written|dated|updated|released|time|date|timestamp|day)\b|\b(?:published|posted|written|"
    r"dated|updated|released|time|date|timestamp|day)\b.*\b(?:article|piece|story|report|post|"
    r"document|page|item|news)\b", re.I)


_ASKS_TIME = re.compile(r"\b(?:when|time|date|dated|timestamp|zone|day|year|hour)\b", re.I)


def about_document(question: Question) -> bool:
    """A question about the document itself ("When was the article published?")."""
    return _ABOUT_DOCUMENT.search(question.text) is not None


def asks_document_date(question: Question) -> bool:
    """A question about when the document itself was written or posted: its dateline answers
    ("Which agency published this report?" is about the document, not its date)."""
    return about_document(question) and (
        question.kind == "date" or _ASKS_TIME.search(question.text) is not None)


def is_date_line(sentence: str) -> bool:
    """A short line that is mostly a date or time (a dateline, a timestamp)."""
    return len(sentence) <= 120 and len(_date_spans(sentence)) >= 1 and len(terms(sentence)) <= 12


_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|none|cannot|without|unable|impossible|fail|fails|failed|"
    r"lack|lacks|lacked|absent|except)\b|n't\b|\bnon-", re.I)


def negated(text: str) -> bool:
    """Whether ``text`` says no, not, never, ... (or a word like "unable", "non-")."""
    return _NEGATION.search(text) is not None


def constraints_met(question: Question, sentence: str) -> bool:
    """Numbers the question names in digits ("in 2022", "the 282 victims") must be in the
    sentence (a number word may count the answer: "which two countries"), and a
    question that asks about what is not so ("which cities were not destroyed") needs a sentence
    that says no: without one, the sentence states the opposite of what is asked."""
    if question.negated and not negated(sentence):
        return False
    named = {n for n in question.numbers if n[0].isdigit()}
    return not named or named <= numbers(sentence)


def highlight_span(question: Question, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the phrase that answers a number or date question."""
    if question.kind == "number":
        return answer_quantity(question, sentence)
    if question.kind == "date":
        return answer_date(question, sentence)
    return None


_MONTH = "(?:" + "|".join(_MONTHS) + r")\.?"
_DATE_SPAN = re.compile(
    r"\b(?:" + _MONTH + r" \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?|\d{1,2}(?:st|nd|rd|th)? "
    + _MONTH + r"(?:,? \d{4})?|" + _MONTH + r",? \d{4}|\d{4}-\d\d-\d\d|\d{1,2}:\d\d(?::\d\d)?"
    r"|(?:1[0-9]|20)\d\d|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow)|" + _MONTH + r")(?![\w-])", re.I)


@lru_cache(maxsize=16384)
def _date_spans(text: str) -> tuple[re.Match[str], ...]:
    return tuple(_DATE_SPAN.finditer(text))
