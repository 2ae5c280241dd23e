"""Score candidate sentences against the question and choose the fewest that answer it.

A sentence's support score is a weighted sum (weights in ``scoring.json``) of a few features:
its cosine similarity to the question (stored sentence vectors, no encoding at query time), the
IDF-weighted share of the question's content words it holds (and its chunk holds), the share of
the previous turn's words its chunk holds (follow-ups), and whether it is a document's dateline
when the question asks about the document's date. A sentence without the kind of thing asked
for (a number for "how many", a date for "when") cannot be the answer. The refusal threshold is
calibrated on data by ``python -m rag.calibrate``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from index.errors import ConfigError
from index.terms import terms
from rag.answer_type import answer_fits, is_date_line
from rag.reader import SCORING_FILE, ReaderConfig
from rag.retrieve import Retrieved
from rag.text import (
    Question,
    asks_document_date,
    constraints_met,
    definition_subject,
)
from rag.types import Candidate

HEAD_SENTENCES = 3
"""Sentences at the top of a document that may be its dateline."""
PREFIX = 6
"""Words sharing their first PREFIX letters ("Azerbaijani", "Azerbaijan") match for half."""
COMPOUND_HEAD = 4
"""Letters a word needs in front of a question word to count as its compound ("land|mines")."""
FEATURES = ("dense", "lexical", "context", "history", "fits", "dense_gap", "lexical_gap",
            "chunk_rank", "dateline", "length", "unknown_terms", "first_mention")


@dataclass(frozen=True)
class Scorer:
    """A weighted sum of the features above: how well a sentence supports an answer."""

    weights: tuple[float, ...]
    bias: float

    @classmethod
    def load(cls, path: Path | None = None) -> Scorer:
        data = json.loads((path or SCORING_FILE).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ConfigError(f"{path or SCORING_FILE} names other features than {FEATURES}: "
                              "fix its feature list and weights")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]))

    def score(self, features: Sequence[float]) -> float:
        return self.bias + sum(w * f for w, f in zip(self.weights, features, strict=True))




@dataclass(frozen=True)
class Vocabulary:
    """A text's terms, their PREFIX-letter prefixes, and the tails of its compound words."""

    terms: frozenset[str]
    prefixes: frozenset[str]
    tails: frozenset[str]

    @classmethod
    def of(cls, text_terms: Iterable[str]) -> Vocabulary:
        found = frozenset(text_terms)
        return cls(found, frozenset(t[:PREFIX] for t in found if len(t) >= PREFIX),
                   frozenset(u[i:] for u in found if u.isalpha()
                             for i in range(COMPOUND_HEAD, len(u) - 2)))


@lru_cache(maxsize=8192)
def vocabulary(text: str) -> Vocabulary:
    """The :class:`Vocabulary` of ``text`` (cached: a chunk is the context of many sentences)."""
    return Vocabulary.of(terms(text))


def coverage(question_terms: Sequence[str],
             text: set[str] | Vocabulary | tuple[Vocabulary, ...],
             weight: Callable[[str], float]) -> float:
    """IDF-weighted share of ``question_terms`` found in ``text`` (0 when none asked); a tuple
    of vocabularies counts as their union. A word sharing its first PREFIX letters ("Armenian"
    for "Armenia") or holding the term after a word in front ("landmines" for "mines") counts
    half."""
    vocabs = (text if isinstance(text, tuple)
              else (text if isinstance(text, Vocabulary) else Vocabulary.of(text),))
    return _covered(Weighted.of(question_terms, weight), vocabs)


@dataclass(frozen=True)
class Weighted:
    """Question terms with their weights, and their total: computed once per question."""

    terms: tuple[tuple[str, float], ...]
    total: float

    @classmethod
    def of(cls, question_terms: Sequence[str], weight: Callable[[str], float]) -> Weighted:
        pairs = tuple((t, weight(t)) for t in question_terms)
        return cls(pairs, sum(w for _, w in pairs))


def _covered(asked: Weighted, vocabs: tuple[Vocabulary, ...]) -> float:
    if asked.total <= 0:
        return 0.0
    found = 0.0
    for t, w in asked.terms:  # plain loops: this runs for every term of every candidate
        for v in vocabs:
            if t in v.terms:
                found += w
                break
        else:
            head = t[:PREFIX] if len(t) >= PREFIX else None
            tail = len(t) >= 3
            for v in vocabs:
                if (head is not None and head in v.prefixes) or (tail and t in v.tails):
                    found += 0.5 * w
                    break
    return found / asked.total


def score_sentences(
    question: Question,
    history_terms: Sequence[str],
    records: Sequence[Retrieved],
    weight: Callable[[str], float],
    scorer: Scorer,
    known: Callable[[str], bool],
) -> list[Candidate]:
    """Candidates with their features and support scores, best first."""
    if not records:
        return []
    own = list(question.terms)
    extra = [t for t in dict.fromkeys(history_terms) if t not in question.terms]
    if not own:  # "Who said that?": the previous turn's words are all there is to match
        own, extra = extra, []
    meta_question = asks_document_date(question)
    own_w, extra_w = Weighted.of(own, weight), Weighted.of(extra, weight)
    unknown = (sum(w for t, w in own_w.terms if not known(t)) / own_w.total
               if own_w.total else 0.0)
    rows: list[dict[str, float]] = []
    for r in records:
        s = r.sentence
        sent_terms = vocabulary(s.text)
        ctx_terms = (sent_terms, vocabulary(s.prev), vocabulary(r.chunk))
        rows.append({
            "dense": r.similarity,
            "lexical": _covered(own_w, (sent_terms,)),
            "context": _covered(own_w, ctx_terms),
            "history": _covered(extra_w, ctx_terms) if extra else 0.0,
            "fits": float(answer_fits(question, s.text) and constraints_met(question, s.text)),
            "chunk_rank": min(r.rank * 30.0, 2.0),
            "dateline": float(meta_question and s.index < HEAD_SENTENCES
                              and is_date_line(s.text)),
            "length": min(len(s.text), 400) / 400,
            "unknown_terms": unknown,
            "first_mention": 0.0,
        })
    for i in _first_mentions(definition_subject(question), records):
        rows[i]["first_mention"] = 1.0
    best_dense = max(row["dense"] for row in rows)
    best_lex = max(row["lexical"] for row in rows)
    out = []
    for r, row in zip(records, rows, strict=True):
        row["dense_gap"] = row["dense"] - best_dense
        row["lexical_gap"] = row["lexical"] - best_lex
        features = tuple(round(row[name], 6) for name in FEATURES)
        named = dict(zip(FEATURES, features, strict=True))
        s = r.sentence
        out.append(Candidate(s, named["dense"], named["lexical"], scorer.score(features),
                             bool(named["fits"]), features))
    out.sort(key=lambda c: (-c.score, c.source, c.index))
    return out


def _first_mentions(subject: Sequence[str], records: Sequence[Retrieved]) -> list[int]:
    """For "Who is X?" / "What is X?": in each document, the earliest candidate that names X.
    A text introduces a person or a thing where it first names it ("Spokesperson for the Foreign
    Ministry Ayxan Hajizada"); later mentions say what X did ("..., Hajizada said")."""
    if not subject:
        return []
    first: dict[str, int] = {}
    sentences = [r.sentence for r in records]
    for i, s in enumerate(sentences):
        if all(t in vocabulary(s.text).terms for t in subject):
            j = first.get(s.source)
            if j is None or s.index < sentences[j].index:
                first[s.source] = i
    return sorted(first.values())


HEAD_FEATURES = ("reader", "dense", "lexical", "context", "fits", "dense_gap", "lexical_gap",
                 "chunk_rank", "length", "unknown_terms")
"""What the reader's small head reads: the reader's logit and first-stage features."""


def head_row(candidate: Candidate, probability: float) -> list[float]:
    """The head's inputs for one read candidate, in :data:`HEAD_FEATURES` order."""
    p = min(max(float(probability), 1e-6), 1 - 1e-6)
    named = dict(zip(FEATURES, candidate.features, strict=True))
    return [math.log(p / (1 - p)), *(named[f] for f in HEAD_FEATURES[1:])]


@dataclass(frozen=True)
class Head:
    """Logistic regression over :func:`head_row`: the probability that a sentence answers.
    Fitted on validation articles by ``python -m rag.calibrate``."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, row: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


READER_ONLY = Head((1.0,) + (0.0,) * (len(HEAD_FEATURES) - 1), 0.0)
"""A head that passes the reader's probability through unchanged."""


def head_of(config: ReaderConfig) -> Head:
    if not config.head:
        return READER_ONLY
    if len(config.head) != len(HEAD_FEATURES) + 1 or config.head_features != HEAD_FEATURES:
        raise ConfigError(f"{SCORING_FILE}: the reader's head needs {len(HEAD_FEATURES)} weights "
                          f"({', '.join(HEAD_FEATURES)}) and a bias: rerun python -m rag.calibrate")
    return Head(config.head[:-1], config.head[-1])


def read_candidates(first: Sequence[Candidate], probabilities: Sequence[float],
                    require_fit: bool, head: Head = READER_ONLY) -> list[Candidate]:
    """The candidates the reader read, scored by the head over its probability and their
    first-stage features, best first, then the unread ones (score 0). With ``require_fit``, a
    sentence without the kind of thing asked for (a number for "how many", a date for "when")
    scores 0."""
    read = [replace(c, score=round(head.probability(head_row(c, p)), 6)
                    if c.fits or not require_fit else 0.0)
            for c, p in zip(first, probabilities, strict=False)]
    read.sort(key=lambda c: (-c.score, c.source, c.index))
    return read + [replace(c, score=0.0) for c in first[len(read):]]


def choose(candidates: Sequence[Candidate], max_citations: int, second: float) -> list[Candidate]:
    """The reader's best sentence, plus the next ones while the reader also gives them at least
    ``second`` (a second hop, or an answer that spans two sentences)."""
    if not candidates:
        return []
    chosen = [candidates[0]]
    for c in candidates[1:max_citations]:
        if c.score < second:
            break
        chosen.append(c)
    return chosen
