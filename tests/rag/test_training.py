"""The reader's training: pairs from SQuAD-format data, split by article, and a tiny real run
(a few steps on a handful of pairs) that exports a model the serving code loads."""

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embed import default_model_path
from rag.reader import MODEL_FILE, Passage, Reader
from rag.training.data import pairs, read_articles
from rag.training.fit import TrainConfig, train


def squad_file(tmp_path: Path) -> Path:
    def article(title: str, context: str, questions: list[tuple[str, str | None]]) -> dict:
        qas = []
        for i, (q, answer) in enumerate(questions):
            if answer is None:
                qas.append({"id": f"{title}-{i}", "question": q, "answers": [],
                            "is_impossible": True})
            else:
                qas.append({"id": f"{title}-{i}", "question": q, "is_impossible": False,
                            "answers": [{"text": answer, "answer_start": context.index(answer)}]})
        return {"title": title, "paragraphs": [{"context": context, "qas": qas}]}

    data = {"data": [
        article("Bridges", "The old bridge opened in 1932. It was painted red in 1990. "
                "Engineers inspect it every spring.",
                [("When did the old bridge open?", "1932"),
                 ("Who designed the bridge?", None)]),
        article("Normans", "The Normans settled in Normandy. Rollo was their first ruler.",
                [("Who was the first ruler of the Normans?", "Rollo")]),
    ]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_pairs_label_the_sentence_holding_the_answer(tmp_path: Path) -> None:
    articles = read_articles(squad_file(tmp_path), exclude={"Normans"})
    assert [a.title for a in articles] == ["Bridges"]
    got = pairs(articles, seed=1)
    positives = [(p.question, p.passage.sentence) for p in got if p.label == 1.0]
    assert positives == [("When did the old bridge open?", "The old bridge opened in 1932.")]
    # the unanswerable question only has negatives: every sentence of its paragraph
    assert sorted(p.passage.sentence for p in got if p.question.startswith("Who designed")) == [
        "Engineers inspect it every spring.", "It was painted red in 1990.",
        "The old bridge opened in 1932."]
    assert all(p.passage.title == "Bridges" for p in got)
    assert pairs(articles, seed=1) == got  # seeded


@pytest.mark.parametrize("objective", ["pointwise", "listwise"])
def test_a_tiny_training_run_exports_a_reader_that_loads_and_is_reproducible(
        tmp_path: Path, objective: str) -> None:
    data = pairs(read_articles(squad_file(tmp_path)), seed=3, perturbed=True)
    config = TrainConfig(seed=3, batch_size=4, max_steps=2, objective=objective)
    digests = []
    for name in ("a", "b"):
        report = train(data, default_model_path(), tmp_path / name, config)
        assert report.steps == 2 and report.pairs == len(data)
        digests.append(hashlib.sha256((tmp_path / name / MODEL_FILE).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    reader = Reader(tmp_path / "a", threads=1)
    probs = reader.probabilities("When did the old bridge open?",
                                 [Passage("The old bridge opened in 1932.", "Bridges"),
                                  Passage("Rollo was their first ruler.", "Normans", "x")])
    assert probs.shape == (2,) and np.all((probs > 0) & (probs < 1))


def test_rag_train_with_our_own_documents_runs_end_to_end(tmp_path: Path) -> None:
    """``rag train --own 1 --off-topic 1`` as ``make train`` runs it, cut to a few steps: the
    SQuAD file and our own corpus less its calibration documents (a question of each document,
    and one of another document) become pairs, a model and its log."""
    from rag.training.corpus import CALIBRATION_DOCS, CORPUS_DIR
    from rag.training.run import TRAIN_LOG, main

    data = tmp_path / "data"
    data.mkdir()
    squad_file(tmp_path).rename(data / "squad2-dev-half.json")
    out = tmp_path / "reader"
    assert main(["--data", str(data), "--out", str(out), "--own", "1", "--questions", "1",
                 "--off-topic", "1", "--max-steps", "2"]) == 0
    log = json.loads((out / TRAIN_LOG).read_text(encoding="utf-8"))
    documents = sorted(p.stem for p in (CORPUS_DIR / "docs").iterdir()
                       if p.name not in CALIBRATION_DOCS)
    assert log["own_passes"] == 1 and log["off_topic"] == 1 and log["steps"] == 2
    assert log["articles"] == ["Bridges", *documents]
    Reader(out, threads=1)


def test_a_missing_reader_says_how_to_rebuild_it(tmp_path: Path) -> None:
    from index.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="make train"):
        Reader(tmp_path)


def test_mined_negatives_join_the_chosen_ones_and_never_label_gold(tmp_path: Path) -> None:
    other = ("Ferries cross the bay hourly. The harbour has 14 berths. Gulls nest on the pier. "
             "A lighthouse stands on the cape. The market opens on Fridays. Tourists come in "
             "summer.")
    data = {"data": [{"title": "Town", "paragraphs": [
        {"context": "The old bridge opened in 1932. It was painted red in 1990.",
         "qas": [{"id": "q", "question": "When did the old bridge open?", "is_impossible": False,
                  "answers": [{"text": "1932", "answer_start": 25}]}]},
        {"context": other, "qas": []}]}]}
    path = tmp_path / "town.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    articles = read_articles(path)
    plain = pairs(articles, seed=1)
    assert len(articles[0].passages) == 8 and len(plain) == 5  # gold, its paragraph, 2+1 others
    mined = {("Town", 0): (0, 7, 6, 5, 4, 3, 2)}  # best first, the gold one among them
    got = pairs(articles, seed=1, mined=mined, mined_negatives=2)
    assert len(got) == 7 and set(map(repr, plain)) < set(map(repr, got))
    added = [p for p in got if repr(p) not in set(map(repr, plain))]
    chosen = {p.passage.sentence for p in plain}
    # the two best-ranked sentences not chosen already, as negatives; gold is never added
    assert [p.label for p in added] == [0.0, 0.0]
    ranked = [articles[0].passages[i].sentence for i in mined[("Town", 0)][1:]]
    assert sorted(p.passage.sentence for p in added) == \
        sorted([s for s in ranked if s not in chosen][:2])
    assert sum(p.label for p in got) == 1.0
    assert pairs(articles, seed=1, mined=mined, mined_negatives=0) == plain


def test_mined_negatives_come_from_the_first_stage_of_the_question_s_own_article(
        tmp_path: Path, embedder: Any) -> None:
    from rag.training.mine import first_stage_ranks

    articles = read_articles(squad_file(tmp_path))
    ranks = first_stage_ranks(articles, 3, embedder, progress=False)
    assert set(ranks) == {("Bridges", 0), ("Bridges", 1), ("Normans", 0)}
    bridges = articles[0]
    # the sentence that answers ranks first; every index is a sentence of the article
    assert ranks[("Bridges", 0)][0] == 0 and bridges.passages[0].sentence.startswith("The old")
    assert all(0 <= i < len(a.passages) for a in articles for (t, _), got in ranks.items()
               if t == a.title for i in got)
    assert sorted(ranks[("Normans", 0)]) == [0, 1]  # both of its sentences, none of Bridges


def test_the_listwise_loss_is_softmax_cross_entropy_with_a_no_answer_logit_of_zero() -> None:
    import torch

    from rag.training.fit import listwise_loss

    logits = torch.tensor([2.0, -1.0, 0.5, -3.0, -2.0])
    labels = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0])
    groups = [7, 7, 7, 9, 9]  # an answerable question of three sentences, an unanswerable one
    answerable = math.log(math.exp(2) + math.exp(-1) + math.exp(0.5) + 1) - 2
    unanswerable = math.log(math.exp(-3) + math.exp(-2) + 1)
    got = listwise_loss(logits, labels, groups).item()
    assert got == pytest.approx((answerable + unanswerable) / 2, rel=1e-6)
    # two answer sentences share the target
    both = listwise_loss(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 1.0]), [0, 0]).item()
    assert both == pytest.approx(math.log(2 * math.e + 1) - math.log(2 * math.e), rel=1e-6)
