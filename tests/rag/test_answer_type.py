"""The kind of thing that answers a question, found in a sentence without a model."""

from rag.answer_type import answer_fits, answer_quantity
from rag.text import Question


def test_a_markdown_heading_is_no_answer_unless_a_title_is_asked() -> None:
    assert not answer_fits(Question.parse("What is the warranty period?"), "## Warranty")
    assert answer_fits(Question.parse("What is the title of the section?"), "## Warranty")


def test_a_price_question_needs_money() -> None:
    cost = Question.parse("How much does the filter cost?")
    assert answer_quantity(cost, "The filter has a two-year warranty.") is None
    assert answer_quantity(cost, "The filter costs $49 in most shops.") is not None
    assert answer_quantity(cost, "It sells for 350 kroner.") is not None


def test_a_number_word_with_a_unit_is_a_duration() -> None:
    q = Question.parse("How many filters were sold?")
    assert answer_quantity(q, "It has a two-year warranty.") is None
