"""Lexical coverage (the share of a question's weighted words a sentence holds), and how the
reader's probabilities rank and choose sentences."""

from index.terms import terms
from index.types import SentenceRecord
from rag.select import FEATURES, choose, coverage, read_candidates
from rag.types import Candidate


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


def candidate(i: int, score: float, fits: bool = True) -> Candidate:
    record = SentenceRecord("doc.txt", i, i * 10, i * 10 + 5, f"sentence {i}", f"s{i}", "h", "")
    return Candidate(record, 0.0, 0.0, score, fits, (0.0,) * len(FEATURES))


def test_read_candidates_rank_by_the_readers_probability() -> None:
    first = [candidate(0, 0.9), candidate(1, 0.8, fits=False), candidate(2, 0.7),
             candidate(3, 0.6)]
    read = read_candidates(first, [0.2, 0.95, 0.7], require_fit=False)
    assert [(c.index, c.score) for c in read] == [(1, 0.95), (2, 0.7), (0, 0.2), (3, 0.0)]
    # with require_fit, a sentence without the asked kind of thing cannot answer
    read = read_candidates(first, [0.2, 0.95, 0.7], require_fit=True)
    assert [(c.index, c.score) for c in read] == [(2, 0.7), (0, 0.2), (1, 0.0), (3, 0.0)]


def test_choose_adds_a_second_sentence_only_above_its_probability() -> None:
    ranked = [candidate(0, 0.97), candidate(1, 0.93), candidate(2, 0.5)]
    assert [c.index for c in choose(ranked, 3, second=0.9)] == [0, 1]
    assert [c.index for c in choose(ranked, 3, second=0.95)] == [0]
    assert [c.index for c in choose(ranked, 1, second=0.1)] == [0]
    assert choose([], 3, second=0.5) == []
