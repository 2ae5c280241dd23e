"""Answers as plain text and conversations as Markdown: pure functions."""

from __future__ import annotations

from rag.export import conversation_markdown, plain_text
from rag.markup import Segment
from rag.types import Answer, Citation

CITED = Citation(1, "docs/report.pdf", 120, 161, "The lighthouse was repainted in 1998.", 0.8,
                 page=3)
PLAIN = Citation(2, "notes.txt", 0, 27, "It was red.\nBright red.", 0.5)


REPAINTED = "It was repainted in 1998."
BOLD_YEAR = ((REPAINTED.index("1998"), REPAINTED.index("1998") + 4),)


def _answer(question: str, parts: tuple[Segment, ...],
            citations: tuple[Citation, ...] = (), refused: bool = False,
            notice: str | None = None) -> Answer:
    return Answer(question, parts, citations, refused, "docs", 0.8, notice=notice)


def test_plain_text_numbers_the_citations_with_their_page() -> None:
    answer = _answer("When?", (Segment(REPAINTED, (1, 2), BOLD_YEAR),), (CITED, PLAIN),
                     notice="The model was not used.")
    assert plain_text(answer) == (
        "Note: The model was not used.\nIt was repainted in 1998. [1] [2]\n\n"
        "[1] docs/report.pdf, p. 3: \"The lighthouse was repainted in 1998.\"\n"
        "[2] notes.txt: \"It was red. Bright red.\"")


def test_conversation_markdown_holds_questions_answers_and_quoted_sentences() -> None:
    answers = [_answer("When was it\nrepainted?", (Segment(REPAINTED, (1,), BOLD_YEAR),),
                       (CITED,)),
               _answer("# Who?", (Segment("# The documents don't say."),), refused=True)]
    text = conversation_markdown(answers, saved_at=0)
    assert text.startswith("# Conversation\n\nCollection: “docs”. Saved 19")
    assert "## 1. When was it repainted?\n\nIt was repainted in **1998**. [1]" in text
    assert ("- [1] `docs/report.pdf`, p. 3, characters 120–161\n\n"
            "  > The lighthouse was repainted in 1998.") in text
    assert "## 2. # Who?\n\n\\# The documents don't say." in text  # not a heading
    assert text.endswith("\n") and text.count("Citations:") == 1
