"""The kind of thing that answers a question, found in a sentence without a model."""

from rag.answer_type import answer_fits, answer_quantity
from rag.text import Question


def test_a_markdown_heading_is_no_answer_unless_a_title_is_asked() -> None:
    assert not answer_fits(Question.parse("What is the warranty period?"), "## Warranty")
    assert answer_fits(Question.parse("What is the title of the section?"), "## Warranty")


def test_a_price_question_needs_money() -> None:
    cost = Question.parse("How much does the filter cost?")
    assert answer_quantity(cost, "The filter has a two-year warranty.") is None
    for sentence in ("The filter costs $49 in most shops.", "It sells for 350 kroner.",
                     "It was worth 2,500,000 US dollars.", "It costs 1.5 million Swedish kronor.",
                     "It costs USD 40.", "It costs 49 € today."):
        assert answer_quantity(cost, sentence) is not None, sentence
    charged = Question.parse("How many people were charged in the case?")
    assert answer_fits(charged, "Five people were charged.")


def test_a_number_word_with_a_unit_is_a_duration() -> None:
    q = Question.parse("How many filters were sold?")
    assert answer_quantity(q, "It has a two-year warranty.") is None
    assert answer_fits(Question.parse("How many years did he serve?"),
                       "He served twenty-five years.")
    assert answer_fits(Question.parse("How long did the war last?"),
                       "It lasted twenty-five years.")
