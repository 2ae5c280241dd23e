"""What a question asks for, read without a model."""

import pytest

from rag.text import (
    Question,
    asks_document_date,
    constraints_met,
    content_terms,
    definition_subject,
    negated,
    question_kind,
)


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


def test_a_number_word_in_the_question_is_not_required_in_the_sentence() -> None:
    """"Which two countries ..." counts the answer; "What is one of ..." picks from it."""
    two = Question.parse("Which two countries' contingents belong to the monitoring center?")
    assert constraints_met(two, "The Turkish and Russian contingents of the center saw them.")
    one = Question.parse("What is one of the reasons given for the delay?")
    assert constraints_met(one, "The delay was caused by a strike at the port.")


@pytest.mark.parametrize(("question", "expected"), [
    ("When was the article published?", True),
    ("What time was this piece posted?", True),
    ("Which time zone is the article's timestamp given in?", True),
    ("Which news agency published this report?", False),
    ("Who wrote this article?", False),
    ("When did the war end?", False),
])
def test_only_a_question_about_the_documents_date_wants_its_dateline(question: str,
                                                                     expected: bool) -> None:
    assert asks_document_date(Question.parse(question)) is expected


@pytest.mark.parametrize(("question", "expected"), [
    ("Who is Ayxan Hajizada?", ("ayxan", "hajizada")),
    ("What is the Lachin road?", ("lachin", "road")),
    ("What is the capital of France?", ()),
    ("Who is the person that examined them?", ()),
    ("How many victims were there?", ()),
])
def test_definition_subject(question: str, expected: tuple[str, ...]) -> None:
    assert definition_subject(Question.parse(question)) == expected


@pytest.mark.parametrize(("question", "kind"), [
    ("What should I do when the light turns red?", "other"),
    ("Who was president when the war began?", "who"),
    ("The arena where the team played can seat how many people?", "number"),
    ("According to Hajizada, when did Armenia deny it?", "date"),
    ("In which year did the factory open?", "date"),
    ("Since when?", "date"),
    ("What is the name of the commander?", "who"),
    ("Which is larger, and by how much?", "number"),
])
def test_the_asking_interrogative_sets_the_answer_type(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_a_number_in_a_name_is_not_required() -> None:
    q = Question.parse("Which product did the Aquafil 300 replace?")
    assert constraints_met(q, "It replaced the Aquafil 200 in 2019.")
    assert not constraints_met(Question.parse("What happened to the 282 victims?"),
                               "Many people became victims.")
    kobe = Question.parse("How many died in the Kobe 1995 earthquake?")
    assert not constraints_met(kobe, "In 2004 many people died.")
