"""Values that flow out of answering: Candidate → Citation → Answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """A retrieved sentence with its scores (internal to answering, kept for evaluation)."""

    id: str
    source: str
    index: int
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    score: float
    fits: bool
    features: tuple[float, ...] = ()


@dataclass(frozen=True)
class Citation:
    """One cited sentence: ``document_text[start:end] == text``."""

    n: int
    source: str
    start: int
    end: int
    text: str
    score: float
    highlight: tuple[int, int] | None = None
    """Offsets inside ``text`` of the phrase that answers (a number, a date), if any."""


@dataclass(frozen=True)
class Answer:
    """The answer: ``text`` holds markers ``[n]`` that refer to ``citations`` (in order)."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    collection: str
    score: float
    """Support score of the best sentence; refusal happens below the configured threshold."""
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
