"""Dataset loaders on small slices of the real files: spans hold the gold sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import (
    DatasetError,
    hotpot_dataset,
    load,
    load_seed,
    paragraph_text,
    unique_file_name,
)
from index.segment import split_sentences

ROOT = Path(__file__).resolve().parents[2]
SEED_SOURCE = "seeds/azernews-2023-01-23-landmines.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"

needs_data = pytest.mark.skipif(
    not (SHARED_DATA / "xquad.en.json").exists(),
    reason=f"shared eval data not found at {SHARED_DATA} (../shared/data from the project root)")


def _docs(dataset: object) -> dict[tuple[str, str], str]:
    return {(c.name, s): t for c in dataset.corpora for s, t in c.documents.items()}  # type: ignore[attr-defined]


def test_seed_evidence_spans_are_the_seed_sentences() -> None:
    dataset = load_seed()
    docs = _docs(dataset)
    raw = json.loads(Path("eval/seed_qa.json").read_text(encoding="utf-8"))
    assert len(dataset.cases) == len(raw["cases"])
    assert docs[("seed", SEED_SOURCE)] == Path(SEED_SOURCE).read_text(encoding="utf-8")
    for case, item in zip(dataset.cases, raw["cases"], strict=True):
        texts = [docs[(case.corpus, s)][a:b] for s, a, b in case.evidence]
        assert texts == item["evidence"]
        assert case.answerable == bool(item["evidence"])
    assert any(case.history for case in dataset.cases)
    assert len(load("seed", limit=3)[0].cases) == 3


@needs_data
def test_xquad_gold_is_the_sentence_holding_the_answer() -> None:
    (dataset,) = load("xquad", limit=40)
    assert len(dataset.cases) == 40
    docs = _docs(dataset)
    for case in dataset.cases:
        assert case.answerable and case.evidence
        text = docs[(case.corpus, case.evidence[0][0])]
        sentences = {(s.start, s.end) for s in split_sentences(text)}
        gold = " ".join(text[a:b] for _, a, b in case.evidence)
        assert all((a, b) in sentences for _, a, b in case.evidence)
        assert any(answer in gold for answer in case.answers)
    first = dataset.cases[0]
    assert first.question == "How many points did the Panthers defense surrender?"
    assert docs[(first.corpus, first.evidence[0][0])][first.evidence[0][1]:].startswith(
        "The Panthers defense gave up just 308 points")


@needs_data
def test_squad2_marks_unanswerable_questions() -> None:
    (dataset,) = load("squad2")
    unanswerable = [c for c in dataset.cases if not c.answerable]
    assert len(dataset.cases) == 626 and len(unanswerable) == 333
    assert all(not c.evidence and not c.answers for c in unanswerable)
    docs = _docs(dataset)
    for case in dataset.cases[:30]:
        if case.answerable:
            gold = " ".join(docs[(case.corpus, s)][a:b] for s, a, b in case.evidence)
            assert any(answer in gold for answer in case.answers)
    assert {s for c in dataset.corpora for s in c.documents} == {
        "Normans.txt", "Computational_complexity_theory.txt"}


@needs_data
def test_hotpot_gold_spans_are_supporting_sentences() -> None:
    distractor, open_ = load("hotpot", limit=5)
    raw = json.loads((SHARED_DATA / "hotpot-dev-distractor-first100.json").read_text())[:5]
    assert len(distractor.corpora) == 5 and len(open_.corpora) == 1
    assert all(len(c.documents) == 10 for c in distractor.corpora)
    for dataset in (distractor, open_):
        docs = _docs(dataset)
        for case, record in zip(dataset.cases, raw, strict=True):
            paragraphs = dict(zip(record["context"]["title"], record["context"]["sentences"],
                                  strict=True))
            facts = zip(record["supporting_facts"]["title"],
                        record["supporting_facts"]["sent_id"], strict=True)
            expected = [" ".join(paragraphs[t][i].split()) for t, i in facts]
            got = [docs[(case.corpus, s)][a:b] for s, a, b in case.evidence]
            assert got == expected
            assert {s for s, _, _ in case.evidence} <= {
                s for (c, s) in docs if c == case.corpus}
    first = distractor.cases[0]
    assert first.answers == ("yes",)
    assert {s for s, _, _ in first.evidence} == {"Scott Derrickson.txt", "Ed Wood.txt"}


def test_hotpot_titles_are_unescaped_and_made_safe() -> None:
    record = {
        "question": "Q?", "answer": "A",
        "supporting_facts": {"title": ["Tunnels &amp; Trolls"], "sent_id": [1]},
        "context": {"title": ["Tunnels &amp; Trolls", "2014 S/S", ".hack"],
                    "sentences": [["First one.", " Second  one ."], [" x."], [" y."]]},
    }
    dataset = hotpot_dataset([record], "t-distractor", "distractor")
    (corpus,) = dataset.corpora
    assert set(corpus.documents) == {"Tunnels & Trolls.txt", "2014 S_S.txt", "hack.txt"}
    (case,) = dataset.cases
    source, start, end = case.evidence[0]
    assert corpus.documents[source][start:end] == "Second one ."
    assert corpus.documents[source] == "First one. Second one ."


def test_paragraph_text_and_unique_names() -> None:
    text, spans = paragraph_text(["A b.", "  ", " C\nd. "])
    assert text == "A b. C d."
    assert [text[a:b] for a, b in spans] == ["A b.", "", "C d."]
    taken: set[str] = set()
    assert [unique_file_name(t, taken) for t in ("X", "x", "X")] == ["X.txt", "x-2.txt", "X-3.txt"]


def test_unknown_dataset_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown dataset"):
        load("nope")
    with pytest.raises(DatasetError, match="not found"):
        load("xquad", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(DatasetError, match="neither SQuAD"):
        load(str(bad))


def test_user_squad_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "My Set.json"
    context = "Paris is big. The Eiffel Tower is in Paris. It is tall."
    path.write_text(json.dumps({"data": [{"title": "Paris", "paragraphs": [{
        "context": context, "qas": [
            {"id": "q1", "question": "Where is the tower?",
             "answers": [{"text": "Paris", "answer_start": context.index("Paris.")}]},
            {"id": "q2", "question": "Who?", "answers": [], "is_impossible": True}]}]}]}))
    (dataset,) = load(str(path))
    assert dataset.name == "my-set"
    q1, q2 = dataset.cases
    text = dataset.corpora[0].documents["Paris.txt"]
    assert [text[a:b] for _, a, b in q1.evidence] == ["The Eiffel Tower is in Paris."]
    assert not q2.answerable and not q2.evidence


def test_the_unseen_set_loads_its_documents_as_indexed() -> None:
    from eval.datasets import load

    (data,) = load("unseen")
    docs = data.corpora[0].documents
    assert {name.rsplit(".", 1)[1] for name in docs} >= {"md", "txt", "html", "pdf"}
    assert len(data.cases) >= 60
    assert sum(not c.answerable and not c.history for c in data.cases) >= 15
    assert sum(bool(c.history) for c in data.cases) >= 10
    for case in data.cases:
        assert bool(case.evidence) == case.answerable
        for source, start, end in case.evidence:
            assert 0 <= start < end <= len(docs[source])


def test_the_dev_set_loads_and_every_documents_set_passes_its_check() -> None:
    import subprocess
    import sys

    from eval.datasets import load

    (data,) = load("dev")
    assert data.name == "dev" and len(data.cases) >= 60
    assert sum(not c.answerable for c in data.cases) >= 15
    root = Path(__file__).resolve().parents[2]
    for qa in ("eval/unseen/qa.json", "eval/dev/qa.json", "rag/training/corpus/qa.json"):
        run = subprocess.run([sys.executable, "eval/unseen/check.py", qa], cwd=root,
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout[-2000:]
        assert "OK: all checks passed" in run.stdout


def test_a_file_with_training_articles_says_so(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from eval.datasets import load

    ctx = "The engine was built in 1712."
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"data": [{"title": "Steam_engine", "paragraphs": [
        {"context": ctx, "qas": [{"id": "1", "question": "When was it built?",
                                   "answers": [{"text": "1712", "answer_start": 24}]}]}]}]}),
                    encoding="utf-8")
    (data,) = load(str(path))
    assert len(data.cases) == 1
    assert "Steam_engine" in capsys.readouterr().err
