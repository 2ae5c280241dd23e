"""The hand-rule answerer that came before the reader, kept as a baseline the eval reports
beside it (``RAG_READER=false``): the first-stage score decides alone, and the answer is the
best fitting sentence plus others close in score that add question words. Its refusal threshold
is the ``rules`` section of ``rag/scoring.json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from rag.reader import SCORING_FILE
from rag.select import coverage, vocabulary
from rag.text import Question
from rag.types import Candidate

EXTRA_MARGIN = 0.02
EXTRA_GAIN = 0.5
BRIDGE_MARGIN = 0.15
BRIDGE_GAIN = 0.3
"""A sentence from another document joins when it holds question words the chosen ones lack
(a second hop: "the director of the film that ..."), even a little further down the ranking."""


def refuse_below() -> float:
    return float(json.loads(SCORING_FILE.read_text(encoding="utf-8"))["rules"]["refuse_below"])


def choose_by_rules(question: Question, candidates: Sequence[Candidate], max_citations: int,
           weight: Callable[[str], float]) -> list[Candidate]:
    """The best fitting sentence, plus others only when close in score and adding new words."""
    fitting = [c for c in candidates if c.fits]
    if not fitting:
        return []
    chosen = [fitting[0]]
    covered = set(vocabulary(fitting[0].text).terms)
    for c in fitting[1:]:
        if len(chosen) >= max_citations or c.score < chosen[0].score - BRIDGE_MARGIN:
            break
        missing = [t for t in question.terms if t not in covered]
        vocab = vocabulary(c.text)
        gain = coverage(missing, vocab, weight) if missing else 0.0
        bridge = all(c.source != x.source for x in chosen)
        close = c.score >= chosen[0].score - EXTRA_MARGIN
        if (close and gain >= EXTRA_GAIN) or (bridge and gain >= BRIDGE_GAIN):
            chosen.append(c)
            covered |= vocab.terms
    return chosen
