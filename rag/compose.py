"""Turn chosen sentences into an Answer: the answer first, a marker after each sentence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from index.docrecord import DocRecord
from rag.answer_type import highlight_span
from rag.markup import Segment
from rag.text import Question
from rag.types import Answer, Candidate, Citation

REFUSAL_START = "The documents don't say."


def refusal_text(collection: str) -> str:
    return (f"{REFUSAL_START} Nothing in the collection \"{collection}\" answers this "
            "question; try rephrasing it, or add documents that cover it.")


def refusal(collection: str) -> tuple[Segment, ...]:
    """The parts of a refusal: one sentence saying the documents don't answer."""
    return (Segment(refusal_text(collection)),)


def compose(question_text: str, question: Question, collection: str,
            chosen: Sequence[Candidate], candidates: Sequence[Candidate],
            refuse_below: float) -> Answer:
    """An answer citing ``chosen``, or a refusal when the best support is under the threshold."""
    best = chosen[0].score if chosen else 0.0
    if not chosen or best < refuse_below:
        return Answer(question_text, refusal(collection), (), True, collection, best,
                      tuple(candidates))
    citations = []
    parts = []
    for n, c in enumerate(chosen, start=1):
        span = highlight_span(question, c.text)
        citations.append(Citation(n, c.source, c.start, c.end, c.text, round(c.score, 4), span))
        parts.append(Segment(c.text, (n,), () if span is None else (span,)))
    return Answer(question_text, tuple(parts), tuple(citations), False, collection, best,
                  tuple(candidates))


def with_pages(answer: Answer, docs: Mapping[str, DocRecord]) -> Answer:
    """``answer`` with each citation's page, from the cited documents' records (PDFs only)."""
    if not answer.citations:
        return answer
    cited = tuple(replace(c, page=docs[c.source].page_of(c.start) if c.source in docs else None)
                  for c in answer.citations)
    return replace(answer, citations=cited)
