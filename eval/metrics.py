"""Pure metric functions: counts in, frozen counts and ratios out. No I/O.

A *span* is ``(source, start, end)``. A cited sentence is correct when its span overlaps a gold
evidence span of the same source; a gold span is found when some cited span overlaps it.
Per-question precision, recall and F1 are averaged over questions, as in HotpotQA's
supporting-fact score (a question that cites nothing scores 0 precision).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Span = tuple[str, int, int]


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or None when there is nothing to divide (never NaN: JSON-safe)."""
    return part / whole if whole else None


def overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


# -- what went wrong -----------------------------------------------------------------------------

FAILURE_KINDS = ("answered an unanswerable question", "refused, the answer was a candidate",
                 "refused, the answer was not retrieved", "cited another candidate",
                 "cited, the answer was not retrieved")
"""Kinds of failure, by where the pipeline lost the answer (:func:`failure_kind`)."""


def failure_kind(answerable: bool, refused: bool, cited: Sequence[Span],
                 candidates: Sequence[Span], gold: Sequence[Span]) -> str | None:
    """Which of :data:`FAILURE_KINDS` one answer is (None: right). An answerable question
    fails when no cited span overlaps the gold; it is then told apart by whether a gold span was
    among the ``candidates`` the system scored (retrieval found it, the choice or the threshold
    lost it) or not (retrieval lost it). An unanswerable one fails when it is answered."""
    if not answerable:
        return None if refused else FAILURE_KINDS[0]
    retrieved = any(overlaps(c, g) for c in candidates for g in gold)
    if refused:
        return FAILURE_KINDS[1] if retrieved else FAILURE_KINDS[2]
    if any(overlaps(c, g) for c in cited for g in gold):
        return None
    return FAILURE_KINDS[3] if retrieved else FAILURE_KINDS[4]


# -- citations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CitationScore:
    """One question: ``correct`` of ``cited`` overlap the gold; ``found`` of ``gold`` are hit."""

    cited: int
    correct: int
    gold: int
    found: int

    @property
    def precision(self) -> float:
        return self.correct / self.cited if self.cited else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def exact(self) -> bool:
        """Exact-set match: every cited sentence is gold and every gold sentence is cited."""
        return self.cited > 0 and self.correct == self.cited and self.found == self.gold


def citation_score(cited: Iterable[Span], gold: Iterable[Span]) -> CitationScore | None:
    """Sentence-level score of one question; None when it has no gold evidence to score."""
    gold_set = list(dict.fromkeys(gold))
    if not gold_set:
        return None
    cited_set = list(dict.fromkeys(cited))
    correct = sum(any(overlaps(c, g) for g in gold_set) for c in cited_set)
    found = sum(any(overlaps(c, g) for c in cited_set) for g in gold_set)
    return CitationScore(len(cited_set), correct, len(gold_set), found)


@dataclass(frozen=True)
class CitationSummary:
    """Means over the scored questions; ``*_answered`` only over those that cited something."""

    questions: int
    answered: int
    precision: float | None
    recall: float | None
    f1: float | None
    exact: float | None
    precision_answered: float | None
    mean_cited: float | None


def summarize_citations(scores: Iterable[CitationScore | None]) -> CitationSummary:
    got = [s for s in scores if s is not None]
    answered = [s for s in got if s.cited]
    n = len(got)
    return CitationSummary(
        questions=n,
        answered=len(answered),
        precision=ratio(sum(s.precision for s in got), n),
        recall=ratio(sum(s.recall for s in got), n),
        f1=ratio(sum(s.f1 for s in got), n),
        exact=ratio(sum(s.exact for s in got), n),
        precision_answered=ratio(sum(s.precision for s in answered), len(answered)),
        mean_cited=ratio(sum(s.cited for s in answered), len(answered)),
    )


@dataclass(frozen=True)
class Verbatim:
    """Citations whose text equals the slice of their source at their offsets."""

    citations: int
    exact: int
    missing_source: int
    rate: float | None


def verbatim(citations: Iterable[tuple[str, int, int, str]],
             documents: Mapping[str, str]) -> Verbatim:
    """Check ``(source, start, end, text)`` citations against the documents' texts."""
    total = exact = missing = 0
    for source, start, end, text in citations:
        total += 1
        doc = documents.get(source)
        if doc is None:
            missing += 1
        elif 0 <= start <= end <= len(doc) and doc[start:end] == text:
            exact += 1
    return Verbatim(total, exact, missing, ratio(exact, total))


# -- answers (SQuAD evaluation script semantics) -------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalisation)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> bool:
    norm = normalize_answer(prediction)
    return any(norm == normalize_answer(g) for g in golds)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best bag-of-tokens F1 of ``prediction`` against any gold answer (0 when none)."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        if not pred or not ref:
            best = max(best, float(pred == ref))
            continue
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """Some normalised gold answer appears, on word boundaries, in the normalised text."""
    norm = f" {normalize_answer(text)} "
    return any(g and f" {g} " in norm for g in map(normalize_answer, golds))


# -- refusals ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefusalSummary:
    """``precision``: share of refusals that were right (the question was unanswerable);
    ``recall``: share of unanswerable questions refused; ``false_refusal_rate``: share of
    answerable questions refused. None where there is nothing to divide."""

    answerable: int
    unanswerable: int
    refused_answerable: int
    refused_unanswerable: int
    precision: float | None
    recall: float | None
    false_refusal_rate: float | None


def summarize_refusals(outcomes: Iterable[tuple[bool, bool]]) -> RefusalSummary:
    """From ``(answerable, refused)`` pairs."""
    counts: Counter[tuple[bool, bool]] = Counter((bool(a), bool(r)) for a, r in outcomes)
    answerable = counts[True, True] + counts[True, False]
    unanswerable = counts[False, True] + counts[False, False]
    refused_ok, refused_bad = counts[False, True], counts[True, True]
    return RefusalSummary(
        answerable=answerable,
        unanswerable=unanswerable,
        refused_answerable=refused_bad,
        refused_unanswerable=refused_ok,
        precision=ratio(refused_ok, refused_ok + refused_bad),
        recall=ratio(refused_ok, unanswerable),
        false_refusal_rate=ratio(refused_bad, answerable),
    )


@dataclass(frozen=True)
class Separation:
    """How well a support score tells answerable questions from unanswerable ones, whatever
    the threshold."""

    auc: float
    """The chance that an answerable question scores above an unanswerable one (ties: half)."""
    refused_at: float
    """Unanswerable questions refused by the threshold that refuses ``false_refusal`` of the
    answerable ones (the highest such threshold: the ``floor(false_refusal * n)``-th lowest
    answerable score; a score under it is refused)."""
    false_refusal: float


def separation(answerable: Sequence[float], unanswerable: Sequence[float],
               false_refusal: float = 0.10) -> Separation | None:
    """:class:`Separation` of the best support scores; ``None`` without both kinds."""
    if not answerable or not unanswerable:
        return None
    wins = sum((a > u) + 0.5 * (a == u) for a in answerable for u in unanswerable)
    threshold = sorted(answerable)[int(false_refusal * len(answerable))]
    refused = sum(u < threshold for u in unanswerable)
    return Separation(wins / (len(answerable) * len(unanswerable)),
                      refused / len(unanswerable), false_refusal)


# -- latency -------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class Latency:
    n: int
    p50: float | None
    p95: float | None
    mean: float | None


def summarize_latency(seconds: Sequence[float]) -> Latency:
    return Latency(len(seconds), percentile(seconds, 50), percentile(seconds, 95),
                   ratio(sum(seconds), len(seconds)))


@dataclass(frozen=True)
class AnswerSummary:
    """Answer quality over answerable questions (a refusal scores 0)."""

    questions: int
    exact_match: float | None
    f1: float | None
    contained: float | None


def summarize_answers(rows: Iterable[tuple[bool, float, bool]]) -> AnswerSummary:
    """From ``(exact_match, token_f1, contained)`` per answerable question."""
    got = list(rows)
    n = len(got)
    return AnswerSummary(n, ratio(sum(r[0] for r in got), n), ratio(sum(r[1] for r in got), n),
                         ratio(sum(r[2] for r in got), n))
