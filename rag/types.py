"""Values that flow out of answering: Candidate → Citation → Answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from index.types import SentenceRecord
from rag.markup import Segment, render


@dataclass(frozen=True)
class Candidate:
    """A retrieved sentence with its scores (internal to answering, kept for evaluation)."""

    sentence: SentenceRecord
    """The stored sentence it is."""
    dense: float
    lexical: float
    score: float
    fits: bool
    features: tuple[float, ...] = ()

    @property
    def id(self) -> str:
        return self.sentence.id

    @property
    def source(self) -> str:
        return self.sentence.source

    @property
    def index(self) -> int:
        return self.sentence.index

    @property
    def start(self) -> int:
        return self.sentence.start

    @property
    def end(self) -> int:
        return self.sentence.end

    @property
    def text(self) -> str:
        return self.sentence.text


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
    page: int | None = None
    """The page (from 1) of a PDF the sentence starts on; None for other kinds."""

    @property
    def where(self) -> str:
        """The document, and the page where known: ``report.pdf, p. 3``."""
        return self.source if self.page is None else f"{self.source}, p. {self.page}"

    def as_json(self) -> dict[str, Any]:
        """The citation as ``rag ask --json`` and the ``/ask`` endpoint give it."""
        return {"n": self.n, "source": self.source, "page": self.page, "start": self.start,
                "end": self.end, "text": self.text, "score": self.score}


class Verdict(StrEnum):
    """Whether the sentences a claim cites support it."""

    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Claim:
    """One sentence of a generative answer and whether its cited sentences support it."""

    segment: Segment
    """The sentence as shown in the answer: its markers are numbers of ``Answer.citations``,
    renumbered (none when unsupported)."""
    verdict: Verdict
    support: float
    """The reader's probability that a cited sentence answers the claim (0 without one)."""
    reason: str = ""
    """Why a claim is unsupported (no citation, a number or name not in the cited text...)."""

    @property
    def text(self) -> str:
        """The sentence as ``Answer.text`` shows it, with its markers."""
        return render((self.segment,))

    @property
    def markers(self) -> tuple[int, ...]:
        return self.segment.markers

    @property
    def supported(self) -> bool:
        return self.verdict is Verdict.SUPPORTED


@dataclass(frozen=True)
class Answer:
    """The answer: ``parts``, each sentence with the numbers of the ``citations`` it cites."""

    question: str
    parts: tuple[Segment, ...]
    citations: tuple[Citation, ...]
    refused: bool
    collection: str
    score: float
    """Support score of the best sentence; refusal happens below the configured threshold."""
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)
    claims: tuple[Claim, ...] = ()
    """Generative answers only: each sentence with its verdict (empty for extractive answers)."""
    notice: str | None = None
    """Shown above the answer, e.g. that the model failed and the extractive answer is shown."""
    answerer: str = "extractive"
    """What wrote ``text``: ``extractive`` or the chat model (``openai:<model>``...)."""
    fallback: str | None = None
    """Why the configured chat model's answer is not the one shown (None: it is, or none is
    configured); the answer is then the extractive one."""

    @property
    def text(self) -> str:
        """The answer as text: markers ``[n]`` after each sentence, the answering phrase in
        ``**bold**``."""
        return render(self.parts)


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as JSON, the one shape ``rag ask --json`` and the ``/ask`` endpoint give:
    question, text, refusal, citations, and how it came about (``answerer``, ``notice``,
    ``fallback``: why, or null; each claim's verdict)."""
    return {
        "question": answer.question, "answer": answer.text, "refused": answer.refused,
        "citations": [c.as_json() for c in answer.citations],
        "answerer": answer.answerer, "notice": answer.notice, "fallback": answer.fallback,
        "claims": [{"text": c.text, "verdict": c.verdict.value, "reason": c.reason,
                    "markers": list(c.markers), "support": c.support} for c in answer.claims],
    }
