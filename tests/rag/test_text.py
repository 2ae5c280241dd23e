"""What a question asks for, read without a model."""

import pytest

from rag.text import Question, constraints_met, content_terms, negated


@pytest.mark.parametrize(("question", "expected"), [
    ("How long did the patriotic war mentioned in the article last?", ["patriotic", "war"]),
    ("What is the name of the commander of the forces?", ["command", "forc"]),
    ("Which time zone is the timestamp given in?", ["zon", "timestamp", "given"]),
])
def test_content_terms_drop_answer_type_and_document_words(question: str,
                                                           expected: list[str]) -> None:
    assert content_terms(question) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Which cities were not destroyed?", True),
    ("Why didn't the army attack?", True),
    ("the claims about Armenia's non-production of landmines", True),
    ("The parliament is unable to legislate on reserved matters.", True),
    ("The Mongols destroyed all of the major cities.", False),
    ("Nothing here is negated, notably.", False),
])
def test_negated(text: str, expected: bool) -> None:
    assert negated(text) is expected


def test_a_negative_question_needs_a_negative_sentence() -> None:
    q = Question.parse("Which major cities were not destroyed by the invasion?")
    assert not constraints_met(q, "The invasion destroyed all of the major cities of the region.")
    assert constraints_met(q, "Only Novgorod and Pskov were not destroyed by the invasion.")
    plain = Question.parse("Which cities were destroyed by the invasion?")
    assert constraints_met(plain, "The invasion destroyed all of the major cities of the region.")


def test_numbers_named_in_the_question_must_be_in_the_sentence() -> None:
    q = Question.parse("What happened to the 282 victims?")
    assert constraints_met(q, "282 people became victims.")
    assert not constraints_met(q, "Many people became victims.")
