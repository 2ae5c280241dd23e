"""Lexical coverage: the share of a question's weighted words a sentence holds."""

from rag.select import coverage
from rag.text import terms


def weight(term: str) -> float:
    return 1.0


def test_full_half_and_no_matches() -> None:
    question = terms("mines armenia")
    assert coverage(question, set(terms("Armenia laid mines")), weight) == 1.0
    # a compound ("landmines") and a shared prefix ("Armenian") count half each
    assert coverage(question, set(terms("Armenian landmines")), weight) == 0.5
    assert coverage(question, set(terms("the weather in Baku")), weight) == 0.0


def test_a_short_front_is_not_a_compound() -> None:
    # "admin" is not a kind of "min": a compound needs a word of 4+ letters in front
    assert coverage(["min"], {"admin"}, weight) == 0.0
    assert coverage(["min"], {"landmin"}, weight) == 0.5


def test_no_question_words_cover_nothing() -> None:
    assert coverage([], {"anything"}, weight) == 0.0
