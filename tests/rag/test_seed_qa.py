"""Our seed QA set (eval/seed_qa.json) against the acceptance floors of the answering component."""

import json
from pathlib import Path

import pytest

from eval.metrics import citation_score, summarize_citations
from rag.pipeline import Engine

QA = json.loads(Path("eval/seed_qa.json").read_text(encoding="utf-8"))
TEXT = Path(QA["source"]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def results(seed_engine: Engine) -> list[tuple[dict[str, object], object]]:
    return [(case, seed_engine.ask(case["question"], [tuple(h) for h in case["history"]]))
            for case in QA["cases"]]


def gold(case: dict[str, object]) -> list[tuple[str, int, int]]:
    spans = []
    for ev in case["evidence"]:  # type: ignore[attr-defined]
        start = TEXT.index(ev)
        spans.append((QA["source"], start, start + len(ev)))
    return spans


def test_the_set_has_what_it_should() -> None:
    cases = QA["cases"]
    assert len(cases) >= 30
    assert sum(not c["answerable"] for c in cases) >= 6
    assert sum(bool(c["history"]) for c in cases) >= 4
    for c in cases:
        for ev in c["evidence"]:
            assert TEXT.count(ev) == 1


def test_every_citation_is_verbatim(results: list[tuple[dict[str, object], object]]) -> None:
    for _, answer in results:
        for c in answer.citations:  # type: ignore[attr-defined]
            assert TEXT[c.start : c.end] == c.text and c.source == QA["source"]


def test_citation_precision_and_recall(results: list[tuple[dict[str, object], object]]) -> None:
    scores = [citation_score([(c.source, c.start, c.end) for c in a.citations], gold(case))
              for case, a in results if case["answerable"]]
    summary = summarize_citations(scores)
    assert summary.precision_answered is not None and summary.precision_answered >= 0.9
    assert summary.recall is not None and summary.recall >= 0.9


def test_refusals(results: list[tuple[dict[str, object], object]]) -> None:
    unanswerable = [a.refused for case, a in results if not case["answerable"]]
    answerable = [a.refused for case, a in results if case["answerable"]]
    # seed-53 onwards were written as unseen questions after the scorer was set: their near-miss
    # unanswerables ("How many of the landmine victims were children?") are the hard part
    assert sum(unanswerable) / len(unanswerable) >= 0.6
    assert sum(answerable) / len(answerable) <= 0.1


def test_follow_ups_are_answered_from_history(
        results: list[tuple[dict[str, object], object]]) -> None:
    follow = [(case, a) for case, a in results if case["history"] and case["answerable"]]
    right = [case["id"] for case, a in follow
             if a.citations and citation_score(
                 [(c.source, c.start, c.end) for c in a.citations], gold(case)).precision == 1]
    assert len(right) >= len(follow) - 1, right
