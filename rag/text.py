"""Words, stems and what a question asks for: the lexical side of answering, no model needed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.terms import STOPWORDS, stem, terms, words

PRONOUNS = frozenset(
    "he she him her his hers it its they them their theirs this that these those there then "
    "such same former latter".split()
)

SMALL_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                 "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()
"""Number words by value: ``SMALL_NUMBERS[n]`` spells ``n``."""
NUMBER_WORDS = frozenset(SMALL_NUMBERS) | frozenset(
    """
    thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions dozen dozens
    """.split()
)
MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
YEAR = r"(?:1[0-9]|20)\d\d"
"""A year from 1000 to 2099, as a pattern."""
_DATE = re.compile(
    r"\b(?:" + "|".join(MONTHS) + r")\b|\b" + YEAR + r"\b|\b\d{1,2}:\d\d\b|"
    r"\b\d{4}-\d\d-\d\d\b|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|century|decade|decades)\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")

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


_INTERROGATIVE = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)


_LEADS = frozenset(
    "in on at of for by to from with within into during after before since until about against "
    "and or but so then according".split())
"""Words after which an interrogative asks ("in which year", "since when"); after another word
it starts a clause ("the arena where they played", "what should I do when ...")."""


def _asking(text: str) -> list[re.Match[str]]:
    """The interrogative words that ask the question, in order."""
    out = []
    for m in _INTERROGATIVE.finditer(text):
        before = text[: m.start()].rstrip()
        previous = words(before)[-1:] if before and before[-1].isalnum() else []
        if not previous or previous[0].lower() in _LEADS:
            out.append(m)
    return out


def question_kind(text: str) -> str:
    """The answer type, read from the interrogative word that asks and the words with it ("how
    many", "what year", "since when"): in "What should I do when the light turns red?" the
    question is "what", and "when" only starts a clause."""
    forms = [(m, kind) for pattern, kind in _FORMS for m in pattern.finditer(text)]
    asking = _asking(text)
    if not asking:
        return forms[0][1] if forms else "other"
    for word in asking:  # "Which is larger, and by how much?": the first one with a form
        for m, kind in forms:
            if m.start() <= word.start() < m.end():
                return kind
    return "other"


def numbers(text: str) -> set[str]:
    found = {m.group(0).replace(",", "") for m in _DIGITS.finditer(text)}
    return found | {w.lower() for w in words(text) if w.lower() in NUMBER_WORDS}


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
        kind = question_kind(text)
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
    named = {n for n in question.numbers if n[0].isdigit()} - _name_numbers(question.text)
    return not named or named <= numbers(sentence)


_NAMED_NUMBER = re.compile(r"\b([A-Z][\w-]*) (\d+)\b")


def _name_numbers(text: str) -> set[str]:
    """Numbers that are part of a name ("Aquafil 300", "Apollo 11"): a sentence may call the
    thing "it", so they are matched as words, not required."""
    return {m.group(2) for m in _NAMED_NUMBER.finditer(text)
            if m.group(1).lower() not in STOPWORDS
            and m.group(1).lower().rstrip(".") not in MONTHS and not _YEAR.fullmatch(m.group(2))}


_YEAR = re.compile(YEAR)
"""A year is never part of a name here: "the Kobe 1995 earthquake" needs a sentence about 1995."""
