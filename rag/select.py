"""Score candidate sentences against the question and choose the fewest that answer it.

A sentence's support score mixes its cosine similarity to the question (stored sentence
vectors, no encoding at query time) with the IDF-weighted share of the question's content words
it holds (words of the surrounding chunk count for less). A sentence that lacks the kind of
thing asked for (a number for "how many", a date for "when") cannot be the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from index.embed import Vectors
from rag.retrieve import SentenceRecord
from rag.text import (
    Question,
    about_document,
    answer_fits,
    constraints_met,
    is_date_line,
    terms,
)
from rag.types import Candidate

DENSE_WEIGHT = 0.45
CONTEXT_SHARE = 0.35
HISTORY_WEIGHT = 0.25
EXTRA_MARGIN = 0.03
EXTRA_GAIN = 0.4
HEAD_SENTENCES = 3
"""Sentences at the top of a document that may be its dateline."""
DATELINE_SUPPORT = 0.9
"""Lexical support given to a dateline for a question about the document's date or time."""
PREFIX = 6
"""Words sharing their first PREFIX letters ("Azerbaijani", "Azerbaijan") match for half."""


def coverage(question_terms: Sequence[str], text_terms: set[str],
             weight: Callable[[str], float]) -> float:
    """IDF-weighted share of ``question_terms`` found in ``text_terms`` (0 when none asked)."""
    total = sum(weight(t) for t in question_terms)
    if total <= 0:
        return 0.0
    prefixes = {t[:PREFIX] for t in text_terms if len(t) >= PREFIX}
    found = 0.0
    for t in question_terms:
        if t in text_terms:
            found += weight(t)
        elif len(t) >= PREFIX and t[:PREFIX] in prefixes:
            found += 0.5 * weight(t)
    return found / total


def score_sentences(
    question: Question,
    history_terms: Sequence[str],
    query_vector: Vectors,
    records: Sequence[SentenceRecord],
    weight: Callable[[str], float],
) -> list[Candidate]:
    """Candidates, best first."""
    if not records:
        return []
    vectors = np.stack([r.vector for r in records])
    dense = vectors @ query_vector
    own = list(question.terms)
    extra = [t for t in history_terms if t not in question.terms]
    meta_question = about_document(question)
    out = []
    for r, d in zip(records, dense, strict=True):
        sent_terms = set(terms(r.text))
        ctx_terms = sent_terms | set(terms(r.context))
        lex = coverage(own, sent_terms, weight)
        ctx = coverage(own, ctx_terms, weight)
        lexical = lex + CONTEXT_SHARE * (ctx - lex)
        if extra:
            lexical = (lexical + HISTORY_WEIGHT * coverage(extra, ctx_terms, weight)) / (
                1 + HISTORY_WEIGHT)
        if meta_question and r.index < HEAD_SENTENCES and is_date_line(r.text):
            lexical = max(lexical, DATELINE_SUPPORT)
        score = DENSE_WEIGHT * float(d) + (1 - DENSE_WEIGHT) * lexical
        out.append(Candidate(r.id, r.source, r.index, r.start, r.end, r.text, float(d), lexical,
                             score, answer_fits(question, r.text)
                             and constraints_met(question, r.text)))
    out.sort(key=lambda c: (-c.score, c.source, c.index))
    return out


def choose(question: Question, candidates: Sequence[Candidate], max_citations: int,
           weight: Callable[[str], float]) -> list[Candidate]:
    """The best fitting sentence, plus others only when close in score and adding new words."""
    fitting = [c for c in candidates if c.fits]
    if not fitting:
        return []
    chosen = [fitting[0]]
    covered = set(terms(fitting[0].text))
    for c in fitting[1:]:
        if len(chosen) >= max_citations or c.score < chosen[0].score - EXTRA_MARGIN:
            break
        missing = [t for t in question.terms if t not in covered]
        gain = coverage(missing, set(terms(c.text)), weight) if missing else 0.0
        if gain >= EXTRA_GAIN:
            chosen.append(c)
            covered |= set(terms(c.text))
    return chosen
