"""Verify a model's answer claim by claim against the evidence sentences it cites.

The answer is split into claims (sentences) with their ``[n]`` markers. Markers that point to
no evidence sentence are dropped. A claim is supported when it cites at least one evidence
sentence, every number and capitalized name in it appears in the cited text, it negates nothing
the cited text does not, and its support, the probability the trained reader gives that a
cited sentence answers the claim (read as a question), reaches the threshold. Supported claims
keep their citations, renumbered in order of first use and built exactly as the extractive path
builds them; unsupported claims lose their markers and are shown marked (or dropped). With no
supported claim the answer is a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.terms import STOPWORDS, words
from rag.answer_type import highlight_span
from rag.compose import refusal
from rag.markup import Segment, segment_of, split_claims
from rag.reader import Passage, Reader, title_of
from rag.text import SMALL_NUMBERS, Question, numbers
from rag.types import Answer, Candidate, Citation, Claim, Verdict

_NUMBER_VALUE = {w: str(i) for i, w in enumerate(SMALL_NUMBERS)}
_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|neither|nobody|nothing|cannot|without)\b"
                       r"|n['’]t\b", re.I)


def is_refusal(text: str, phrases: Sequence[str]) -> bool:
    low = " ".join(text.lower().replace("’", "'").split())
    return any(p.lower() in low for p in phrases)


def _numbers(text: str) -> set[str]:
    """Numbers in ``text``, small number words as digits ("one" is too often a pronoun)."""
    return {_NUMBER_VALUE.get(n, n) for n in numbers(text) if n != "one"}


def _word_key(word: str) -> str:
    w = word.lower().replace("’", "'")
    return w[:-2] if w.endswith("'s") else w


def _names(text: str) -> set[str]:
    """Capitalized words that are not function words (names, places, organizations; the first
    word of the sentence too, which a common word rarely is once function words are left out)."""
    out = set()
    for w in words(text):
        key = _word_key(w)
        if w[:1].isupper() and key not in STOPWORDS and key != "i":
            out.add(key)
    return out


def _name_found(name: str, cited_words: set[str]) -> bool:
    if name in cited_words:
        return True
    return any(min(len(name), len(w)) >= 5 and (name.startswith(w) or w.startswith(name))
               for w in cited_words)


def check_claim(draft: Segment, evidence: Sequence[Candidate], reader: Reader,
                min_support: float) -> tuple[tuple[int, ...], float, str]:
    """(valid markers, support, reason); the reason is empty when the claim is supported."""
    valid = tuple(n for n in draft.markers if 1 <= n <= len(evidence))
    if not draft.markers:
        return valid, 0.0, "no citation"
    if not valid:
        shown = ", ".join(f"[{n}]" for n in draft.markers)
        return valid, 0.0, f"cites {shown}, which is not an evidence sentence"
    cited = [evidence[n - 1] for n in valid]
    joined = " ".join(c.text for c in cited)
    probabilities = reader.probabilities(
        draft.text, [Passage(c.text, title_of(c.source)) for c in cited])
    support = round(float(probabilities.max()), 4)
    missing = sorted(_numbers(draft.text) - _numbers(joined))
    if missing:
        return valid, support, f"{', '.join(missing)} is not in the cited sentence"
    cited_words = {_word_key(w) for w in words(joined)}
    names = sorted(n for n in _names(draft.text) if not _name_found(n, cited_words))
    if names:
        return valid, support, f"{', '.join(names)} is not in the cited sentence"
    negation = _NEGATION.search(draft.text)
    if negation and not _NEGATION.search(joined):
        return valid, support, f"the cited sentence does not say \"{negation.group(0)}\""
    if support < min_support:
        return valid, support, (f"the cited sentence does not support it (support {support:.2f}"
                                f" < {min_support:.2f})")
    return valid, support, ""


def _plain(text: str) -> str:
    return " ".join(text.lower().strip(" .!?…\"'“”").split())


def strip_labels(text: str, evidence: Sequence[Candidate]) -> str:
    """``text`` without the ``(source)`` labels of the evidence lines (a model may echo a line)."""
    for source in {c.source for c in evidence}:
        text = text.replace(f"({source})", " ")
    return text


def verify(text: str, question: Question, extractive: Answer, evidence: Sequence[Candidate],
           reader: Reader, min_support: float, drop_unsupported: bool,
           examples: Sequence[str] = ()) -> Answer:
    """The Answer for the model's ``text``; ``evidence[n - 1]`` is evidence sentence ``n``. A
    claim repeating one of the prompt's ``examples`` is unsupported."""
    drafts = split_claims(strip_labels(text, evidence))
    parroted = {_plain(e) for e in examples}
    numbering: dict[int, int] = {}  # evidence number → citation number
    claims: list[Claim] = []
    for draft in drafts:
        valid, support, reason = check_claim(draft, evidence, reader, min_support)
        if _plain(draft.text) in parroted:
            reason = "it repeats the prompt's example"
        if reason:
            claims.append(Claim(segment_of(draft.text), Verdict.UNSUPPORTED, support, reason))
            continue
        cited = tuple(numbering.setdefault(n, len(numbering) + 1) for n in valid)
        claims.append(Claim(segment_of(draft.text, cited), Verdict.SUPPORTED, support))
    citations = []
    for n, number in sorted(numbering.items(), key=lambda item: item[1]):
        c = evidence[n - 1]
        citations.append(Citation(number, c.source, c.start, c.end, c.text, round(c.score, 4),
                                  highlight_span(question, c.text)))
    base = Answer(extractive.question, (), tuple(citations), False, extractive.collection,
                  extractive.score, extractive.candidates)
    if not citations:
        return Answer(base.question, refusal(base.collection), (), True, base.collection,
                      base.score, base.candidates, tuple(claims),
                      "The model's answer was withheld: no sentence of it is supported by the "
                      "sentence it cites.")
    notice = None
    if drop_unsupported:
        dropped = sum(not c.supported for c in claims)
        claims = [c for c in claims if c.supported]
        if dropped:
            notice = (f"{dropped} sentence{'s' if dropped != 1 else ''} of the model's answer "
                      "left out: not supported by the documents.")
    return Answer(base.question, tuple(c.segment for c in claims), base.citations, False,
                  base.collection, base.score, base.candidates, tuple(claims), notice)
