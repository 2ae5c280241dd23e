"""Metric functions: match, mismatch, normalisation, nothing to score."""

from __future__ import annotations

import pytest

from eval.metrics import (
    FAILURE_KINDS,
    citation_score,
    contains_answer,
    exact_match,
    failure_kind,
    normalize_answer,
    overlaps,
    percentile,
    summarize_answers,
    summarize_citations,
    summarize_latency,
    summarize_refusals,
    token_f1,
    verbatim,
)

GOLD = [("a.txt", 10, 20), ("b.txt", 0, 5)]


def test_overlap_needs_same_source_and_shared_characters() -> None:
    assert overlaps(("a", 0, 10), ("a", 9, 12))
    assert not overlaps(("a", 0, 10), ("a", 10, 12))  # touching is not overlapping
    assert not overlaps(("a", 0, 10), ("b", 0, 10))


def test_citation_score_all_correct_is_exact() -> None:
    s = citation_score([("a.txt", 12, 18), ("b.txt", 1, 4)], GOLD)
    assert s is not None
    assert (s.precision, s.recall, s.f1, s.exact) == (1.0, 1.0, 1.0, True)


def test_citation_score_partial_and_wrong() -> None:
    s = citation_score([("a.txt", 15, 30), ("a.txt", 40, 50), ("c.txt", 10, 20)], GOLD)
    assert s is not None
    assert s.correct == 1 and s.found == 1
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert not s.exact


def test_citation_score_duplicates_count_once() -> None:
    s = citation_score([("a.txt", 12, 18), ("a.txt", 12, 18)], GOLD[:1])
    assert s is not None and s.cited == 1 and s.exact


def test_citing_nothing_scores_zero_and_no_gold_is_not_scored() -> None:
    s = citation_score([], GOLD)
    assert s is not None and (s.precision, s.recall, s.f1, s.exact) == (0.0, 0.0, 0.0, False)
    assert citation_score([("a.txt", 0, 5)], []) is None


def test_summary_averages_per_question() -> None:
    scores = [citation_score([("a.txt", 10, 20)], GOLD[:1]),  # P 1, R 1
              citation_score([("a.txt", 10, 20), ("x", 0, 1)], GOLD),  # P .5, R .5
              citation_score([], GOLD),  # refused: 0
              None]  # unanswerable: not scored
    s = summarize_citations(scores)
    assert s.questions == 3 and s.answered == 2
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)
    assert s.exact == pytest.approx(1 / 3)
    assert s.precision_answered == pytest.approx(0.75)
    assert s.mean_cited == pytest.approx(1.5)
    empty = summarize_citations([None])
    assert empty.questions == 0 and empty.precision is None and empty.f1 is None


def test_verbatim() -> None:
    docs = {"a.txt": "Hello world. Bye."}
    v = verbatim([("a.txt", 0, 12, "Hello world."), ("a.txt", 13, 17, "Bye!"),
                  ("gone.txt", 0, 1, "H"), ("a.txt", 10, 99, "d. Bye.")], docs)
    assert (v.citations, v.exact, v.missing_source) == (4, 1, 1)
    assert v.rate == 0.25
    assert verbatim([], docs).rate is None


def test_squad_normalisation() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("An apple, a pear") == "apple pear"
    assert exact_match("the Normans.", ["Normans"])
    assert not exact_match("Normans of France", ["Normans"])
    assert exact_match("", [""])


def test_token_f1() -> None:
    assert token_f1("Normans", ["the Normans"]) == 1.0
    assert token_f1("Kawann Short", ["Short", "Kawann Short"]) == 1.0
    assert token_f1("in the 10th century", ["10th and 11th centuries"]) == pytest.approx(
        2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
    assert token_f1("nothing", ["else"]) == 0.0
    assert token_f1("anything", []) == 0.0


def test_contains_answer_on_word_boundaries() -> None:
    assert contains_answer("It was in the 10th and 11th centuries [1].",
                           ["10th and 11th centuries"])
    assert not contains_answer("They numbered 2820 in all.", ["282"])
    assert contains_answer("282 Azerbaijanis became victims", ["282"])
    assert not contains_answer("anything", [])


def test_refusals() -> None:
    # (answerable, refused)
    r = summarize_refusals([(False, True), (False, True), (False, False), (True, True),
                            (True, False), (True, False), (True, False)])
    assert (r.answerable, r.unanswerable, r.refused_answerable, r.refused_unanswerable) == (
        4, 3, 1, 2)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 3)
    assert r.false_refusal_rate == pytest.approx(1 / 4)
    none = summarize_refusals([(True, False)])
    assert none.precision is None and none.recall is None and none.false_refusal_rate == 0.0


def test_latency_percentiles() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([], 50) is None
    lat = summarize_latency([0.2, 0.1])
    assert (lat.n, lat.p50, lat.mean) == (2, pytest.approx(0.15), pytest.approx(0.15))
    assert summarize_latency([]).p95 is None


def test_answer_summary() -> None:
    s = summarize_answers([(True, 1.0, True), (False, 0.5, True), (False, 0.0, False)])
    assert s.questions == 3
    assert s.exact_match == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(0.5)
    assert s.contained == pytest.approx(2 / 3)
    assert summarize_answers([]).f1 is None


def test_failure_kind_says_where_the_answer_was_lost() -> None:
    gold = [("a.txt", 10, 20)]
    right, wrong, far = ("a.txt", 12, 30), ("a.txt", 40, 50), ("b.txt", 10, 20)
    assert failure_kind(True, False, [right], [wrong, right], gold) is None
    assert failure_kind(True, False, [wrong], [wrong, right], gold) == "cited another candidate"
    assert failure_kind(True, False, [wrong], [wrong, far], gold) == \
        "cited, the answer was not retrieved"
    assert failure_kind(True, True, [], [right], gold) == "refused, the answer was a candidate"
    assert failure_kind(True, True, [], [far], gold) == "refused, the answer was not retrieved"
    assert failure_kind(False, True, [], [wrong], []) is None
    assert failure_kind(False, False, [wrong], [wrong], []) == FAILURE_KINDS[0]


def test_separation_counts_wins_and_refusals_at_the_false_refusal_rate() -> None:
    from eval.metrics import separation

    sep = separation([0.9, 0.8, 0.5, 0.1], [0.6, 0.2, 0.05])
    assert sep is not None
    # 0.9 and 0.8 beat all three, 0.5 beats two, 0.1 beats one: 9 of 12
    assert sep.auc == 9 / 12
    # refusing 10 % of 4 answerable: none (the threshold is the lowest score, 0.1)
    assert sep.refused_at == 1 / 3
    assert separation([0.5], [0.5]).auc == 0.5  # type: ignore[union-attr]
    assert separation([0.9, 0.8], [0.6], false_refusal=0.5).refused_at == 1.0  # type: ignore[union-attr]
    assert separation([0.5], []) is None
