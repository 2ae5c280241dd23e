import time
from pathlib import Path

import pytest

from index.segment import split_sentences

SEED = Path("seeds/azernews-2023-01-23-landmines.txt")


def texts(text: str) -> list[str]:
    sentences = split_sentences(text)
    for s in sentences:
        assert text[s.start : s.end] == s.text
    return [s.text for s in sentences]


def test_seed_offsets_are_exact_and_cover_every_sentence() -> None:
    text = SEED.read_text(encoding="utf-8")
    got = texts(text)
    assert got[0] == "date 2023-01-23 23 January 2023 09:59 (UTC+04:00)"
    assert got[-1] == "Follow us on Twitter @AzerNewsAz"
    assert "It is impossible to deny these facts." in got
    assert any(s.startswith("Currently, the threat of landmines") and s.endswith("said.")
               for s in got)
    assert "---" not in got  # separators are not sentences
    assert len(got) == 14


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith arrived on Jan. 20, 2023. He left.",
         ["Dr. Smith arrived on Jan. 20, 2023.", "He left."]),
        ("It cost $3.5 million. Prices rose 2.75 percent.",
         ["It cost $3.5 million.", "Prices rose 2.75 percent."]),
        ("The U.S. Army agreed. She moved to the U.S. The year was hard.",
         ["The U.S. Army agreed.", "She moved to the U.S.", "The year was hard."]),
        ('"This is one. This is two," he said. "And three?" she asked. Yes!',
         ['"This is one.', 'This is two," he said.', '"And three?" she asked.', "Yes!"]),
        ("Mr. J. R. R. Tolkien wrote e.g. books, etc. Then he left.",
         ["Mr. J. R. R. Tolkien wrote e.g. books, etc.", "Then he left."]),
        ("Version 1.2.3 shipped. It works.", ["Version 1.2.3 shipped.", "It works."]),
    ],
)
def test_tricky_sentences(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_headings_list_items_and_date_lines_stand_alone() -> None:
    text = (
        "# Annual report\n\nPosted: 23 January 2023 09:59\nThe board met twice.\n"
        "- first item without a period\n- second item\n1. numbered item\n"
        "The text wraps here\nand continues on the next line."
    )
    assert texts(text) == [
        "# Annual report",
        "Posted: 23 January 2023 09:59",
        "The board met twice.",
        "- first item without a period",
        "- second item",
        "1. numbered item",
        "The text wraps here\nand continues on the next line.",
    ]


def test_quotation_over_several_paragraphs_keeps_offsets() -> None:
    text = '"First paragraph of a quote. It goes on.\n\n"Second paragraph," he added.'
    assert texts(text) == ['"First paragraph of a quote.', "It goes on.",
                           '"Second paragraph," he added.']


def test_empty_and_symbol_only_text_has_no_sentences() -> None:
    assert texts("") == []
    assert texts("  \n\n---\n***  ") == []


@pytest.mark.parametrize("text", [
    "." * 100_000 + "x",  # one long run of end marks
    ("x" * 200 + ". The ") * 500,  # long words before many periods
])
def test_splitting_is_linear_in_the_text(text: str) -> None:
    started = time.perf_counter()
    sentences = split_sentences(text)
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert time.perf_counter() - started < 2.0  # quadratic: over a minute
