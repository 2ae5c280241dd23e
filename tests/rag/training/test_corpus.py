"""Our own training documents become articles read the way the indexer reads them."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from index.errors import ConfigError
from rag.training.corpus import CALIBRATION_DOCS, CORPUS_DIR, read_corpus
from rag.training.data import Question, pairs, with_off_topic

GUIDE = """# Kettle guide

## Filling

Fill the kettle to at least the MIN mark. The kettle holds 1.7 litres.

## Cleaning

Descale the kettle every month with white vinegar. Rinse it twice afterwards.
"""


def corpus(tmp_path: Path, cases: list[dict], topics: dict[str, str] | None = None) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "kettle-guide.md").write_text(GUIDE, encoding="utf-8")
    qa = {"description": "test", "documents": "docs", "topics": topics or {}, "cases": cases}
    (tmp_path / "qa.json").write_text(json.dumps(qa), encoding="utf-8")
    return tmp_path


def case(cid: str, question: str, evidence: list[str], history: list | None = None) -> dict:
    return {"id": cid, "question": question, "history": history or [],
            "answers": ["x"] if evidence else [],
            "evidence": [{"source": "kettle-guide.md", "text": t} for t in evidence],
            "answerable": bool(evidence), "kind": "answerable"}


def test_gold_is_the_evidence_sentence_and_follow_ups_read_as_served(tmp_path: Path) -> None:
    folder = corpus(tmp_path, [
        case("c1", "How much water fits in it?", ["The kettle holds 1.7 litres."]),
        case("c2", "And how often?", ["Descale the kettle every month with white vinegar."],
             history=[["How do I descale it?", "With white vinegar."]]),
        case("c3", "What does the kettle cost?", []),
    ], topics={"c3": "kettle-guide.md"})
    (article,) = read_corpus(folder)
    assert article.title == "kettle-guide"
    q1, q2, q3 = article.questions
    assert [article.passages[i].sentence for i in q1.gold] == ["The kettle holds 1.7 litres."]
    assert q1.text == "How much water fits in it?"
    assert set(q1.gold) < set(q1.paragraph)
    assert q2.text == "And how often? (How do I descale it? With white vinegar.)"
    assert [article.passages[i].sentence for i in q2.gold] == [
        "Descale the kettle every month with white vinegar."]
    assert not q3.gold and any("kettle" in article.passages[i].sentence for i in q3.paragraph)
    labelled = pairs([article], 13)
    assert {p.passage.sentence for p in labelled if p.label} == {
        "The kettle holds 1.7 litres.", "Descale the kettle every month with white vinegar."}
    assert all(p.label == 0 for p in labelled if p.question.startswith("What does"))


def test_evidence_that_is_not_in_the_document_says_which_case(tmp_path: Path) -> None:
    folder = corpus(tmp_path, [case("c1", "How big is it?", ["The kettle holds 2 litres."])])
    with pytest.raises(ConfigError, match=r"c1: evidence not found in kettle-guide\.md"):
        read_corpus(folder)


def test_a_question_about_a_missing_document_says_so(tmp_path: Path) -> None:
    folder = corpus(tmp_path, [case("c1", "Who made it?", [])], topics={"c1": "toaster.md"})
    with pytest.raises(ConfigError, match=r"lacks: toaster\.md"):
        read_corpus(folder)


def test_the_committed_corpus_has_many_kinds_of_documents_and_questions() -> None:
    articles = read_corpus(CORPUS_DIR)
    kinds = {a.title for a in articles}
    assert len(kinds) >= 20
    questions = [q for a in articles for q in a.questions]
    assert len(questions) >= 200
    assert sum(not q.gold for q in questions) >= 50
    for a in articles:
        for q in a.questions:
            assert all(0 <= i < len(a.passages) for i in q.gold + q.paragraph)


def test_the_calibration_documents_are_read_apart_from_the_training_ones() -> None:
    held = read_corpus(CORPUS_DIR, only=CALIBRATION_DOCS)
    trained = read_corpus(CORPUS_DIR, exclude=CALIBRATION_DOCS)
    assert {a.title for a in held} == {Path(name).stem for name in CALIBRATION_DOCS}
    assert not {a.title for a in held} & {a.title for a in trained}
    assert len(held) + len(trained) == len(read_corpus(CORPUS_DIR))


def test_off_topic_questions_come_from_other_documents_and_are_never_answerable(
        tmp_path: Path) -> None:
    folder = corpus(tmp_path, [
        case("c1", "How much water fits in it?", ["The kettle holds 1.7 litres."])])
    (kettle,) = read_corpus(folder)
    # every word of the first question is in the kettle guide: it may be answered there
    toaster = replace(kettle, title="toaster", questions=(
        Question("What does the kettle hold?", (), ()),
        Question("Who invented the toaster?", (), ())))
    got = with_off_topic([kettle, toaster], 3, seed=5)
    assert got == with_off_topic([kettle, toaster], 3, seed=5)  # seeded
    added = got[0].questions[len(kettle.questions):]
    assert [q.text for q in added] == ["Who invented the toaster?"]
    assert not added[0].gold and len(added[0].paragraph) == min(6, len(kettle.passages))
    assert [q.text for q in got[1].questions[2:]] == ["How much water fits in it?"]
    assert not any(p.label for p in pairs(got, 13) if p.question == "Who invented the toaster?")


def test_no_training_document_shares_a_sentence_with_the_eval_documents() -> None:
    from index.load import load_file
    from index.segment import split_sentences

    def sentences(folder: Path) -> set[str]:
        out = set()
        for path in folder.iterdir():
            text = load_file(path, path.name, 10**8).text
            out |= {" ".join(s.text.lower().split()) for s in split_sentences(text, path.name)
                    if len(s.text) > 40}
        return out

    root = Path(__file__).resolve().parents[3]
    trained = sentences(CORPUS_DIR / "docs")
    for held in ("eval/unseen/docs", "eval/dev/docs"):
        assert not trained & sentences(root / held)
