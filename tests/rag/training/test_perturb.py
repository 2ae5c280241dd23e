"""Unanswerable twins: a name or number of the question that the answer sentence holds is
swapped for another of the article's that it does not hold."""

import json
import random
from pathlib import Path

from rag.training.data import pairs, read_articles
from rag.training.perturb import perturb, swappable

TEXT = ("The Huguenots reached Charleston in 1680. Many later moved to Boston. "
        "In 1685 the Edict of Nantes was revoked by Louis.")


def test_names_skip_sentence_openers_and_function_words_and_numbers_are_kept() -> None:
    found = swappable(TEXT)
    assert found["name"] == ("Huguenots", "Charleston", "Boston", "Edict", "Nantes", "Louis")
    assert found["number"] == ("1680", "1685")


def test_a_word_the_answer_holds_is_swapped_for_one_of_its_kind_it_does_not_hold() -> None:
    gold = "The Huguenots reached Charleston in 1680."
    seen = set()
    for seed in range(20):
        made = perturb("When did the Huguenots reach Charleston?", gold, swappable(TEXT),
                       random.Random(seed))
        assert made is not None
        question, new = made
        assert new in question and new not in gold and new in swappable(TEXT)["name"]
        seen.add(question)
    # either name may be swapped, never the opening word
    assert "When did the Huguenots reach Boston?" in seen
    assert any(q.startswith("When did the Boston") or q.startswith("When did the Louis")
               for q in seen)


def test_no_twin_when_no_word_of_the_question_is_in_the_answer() -> None:
    assert perturb("What did they build?", "The Huguenots reached Charleston in 1680.",
                   swappable(TEXT), random.Random(0)) is None
    assert perturb("When did the Huguenots arrive?", "The Huguenots arrived.",
                   {"name": ("Huguenots",), "number": ()}, random.Random(0)) is None


def test_twins_are_negative_groups_of_their_own_and_leave_out_sentences_naming_the_new_word(
        tmp_path: Path) -> None:
    context = ("The Huguenots reached Charleston in 1680. Many later moved to Boston. "
               "Some farmed rice. In 1685 the Edict of Nantes was revoked.")
    data = {"data": [{"title": "Huguenots", "paragraphs": [{"context": context, "qas": [
        {"id": "q", "question": "When did the Huguenots reach Charleston?",
         "is_impossible": False,
         "answers": [{"text": "1680", "answer_start": context.index("1680")}]}]}]}]}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    articles = read_articles(path)
    plain = pairs(articles, seed=2)
    got = pairs(articles, seed=2, perturbed=True)
    assert {p.group for p in plain} == {0} and {p.group for p in got} == {0, 1}
    twin = [p for p in got if p.group == 1]
    assert all(p.label == 0.0 for p in twin) and len({p.question for p in twin}) == 1
    question = twin[0].question
    assert question != "When did the Huguenots reach Charleston?"
    sentences = {p.passage.sentence for p in twin}
    assert "The Huguenots reached Charleston in 1680." in sentences  # the near miss
    swapped = next(w for w in ("Boston", "Edict", "Nantes") if w in question)
    assert not any(swapped in s for s in sentences - {"The Huguenots reached Charleston in 1680."})
    assert sorted(map(repr, (p for p in got if p.group == 0))) == sorted(map(repr, plain))
