"""Claim-by-claim verification of a model's answer (no server: the model's text is given)."""

from __future__ import annotations

import pytest

from index.types import SentenceRecord
from rag.compose import refusal_text
from rag.markup import Segment, has_markers, split_claims, strip_markers
from rag.reader import Reader, get_reader
from rag.settings import Settings
from rag.text import Question
from rag.types import Answer, Candidate
from rag.verify import is_refusal, verify

DOC = ("The Golden Gate Bridge opened in May 1937 after four years of construction. "
       "Joseph Strauss was the chief engineer of the bridge. "
       "The bridge's main span is 1,280 metres long. "
       "Two men died when a scaffold fell through the safety net in 1937.")
SOURCE = "docs/bridge.txt"
QUESTION = "When did the Golden Gate Bridge open?"


@pytest.fixture(scope="module")
def reader() -> Reader:
    return get_reader()


def candidates() -> tuple[Candidate, ...]:
    out = []
    sentences = [s if s.endswith(".") else s + "." for s in DOC.split(". ")]
    for i, sentence in enumerate(sentences):
        start = DOC.index(sentence)
        record = SentenceRecord(SOURCE, i, start, start + len(sentence), sentence, f"c{i}", "h", "")
        out.append(Candidate(record, 0.0, 0.0, round(0.9 - i / 10, 2), True))
    return tuple(out)


def run(text: str, reader: Reader, drop: bool = False) -> Answer:
    evidence = candidates()
    extractive = Answer(QUESTION, (Segment("extractive text", (1,)),), (), False, "docs", 0.9,
                        evidence)
    return verify(text, Question.parse(QUESTION), extractive, evidence, reader,
                  Settings().claim_support_min, drop)


@pytest.mark.parametrize(("text", "drafts"), [
    ("It opened in 1937 [1]. Strauss led it.[2][3] Then [4]", [
        ("It opened in 1937.", (1,)), ("Strauss led it.", (2, 3)), ("Then", (4,))]),
    ("Both [1, 2]. U.S. engineers, e.g. Strauss, built it [2].\n[3]\n", [
        ("Both.", (1, 2)), ("U.S. engineers, e.g. Strauss, built it.", (2, 3))]),
    ("Dr. J. Strauss built it. Ellis helped.", [
        ("Dr. J. Strauss built it.", ()), ("Ellis helped.", ())]),
    ("- one bullet [1]\n2. a numbered line [2]\n\nNo marker here!", [
        ("one bullet", (1,)), ("a numbered line", (2,)), ("No marker here!", ())]),
    ("It is 1.5 km [1][1] long.", [("It is 1.5 km long.", (1,))]),
])
def test_split_claims(text: str, drafts: list[tuple[str, tuple[int, ...]]]) -> None:
    assert split_claims(text) == [Segment(content, markers) for content, markers in drafts]


def test_marker_and_refusal_detection() -> None:
    assert has_markers("x [2].") and has_markers("x [1, 3]") and not has_markers("x [a]")
    assert strip_markers("It opened [1] in 1937 [2, 3] .") == "It opened in 1937."
    assert is_refusal("NOT IN THE DOCUMENTS.", ["not in the documents"])
    assert is_refusal("The documents don’t say.", ["documents don't say"])
    assert not is_refusal("It opened in 1937.", ["not in the documents"])


def test_supported_claims_cite_exact_offsets_renumbered(reader: Reader) -> None:
    a = run("Joseph Strauss was the bridge's chief engineer [2]. The Golden Gate Bridge opened "
            "in May 1937 [1].", reader)
    assert not a.refused and [c.verdict for c in a.claims] == ["supported", "supported"]
    assert [(c.n, c.text) for c in a.citations] == [
        (1, "Joseph Strauss was the chief engineer of the bridge."),
        (2, "The Golden Gate Bridge opened in May 1937 after four years of construction.")]
    assert all(DOC[c.start:c.end] == c.text and c.source == SOURCE for c in a.citations)
    assert a.citations[1].highlight is not None  # the date, as in the extractive answer
    assert a.text == ("Joseph Strauss was the bridge's chief engineer. [1] The Golden Gate "
                      "Bridge opened in May 1937. [2]")


def test_numbers_and_names_must_be_in_the_cited_sentence(reader: Reader) -> None:
    a = run("Two men died in 1937 when a scaffold fell [4]. 2 men died when a scaffold fell "
            "through the net [4]. Three men died when a scaffold fell through the net [4]. "
            "The main span is 1280 metres long [3]. Charles Ellis was the chief engineer of the "
            "bridge [2]. One of the engineers was Joseph Strauss [2].", reader)
    verdicts = [(c.verdict, c.reason) for c in a.claims]
    assert verdicts == [
        ("supported", ""), ("supported", ""),
        ("unsupported", "3 is not in the cited sentence"),
        ("supported", ""),
        ("unsupported", "charles, ellis is not in the cited sentence"),
        ("supported", ""),
    ]


def test_wrong_or_missing_citations_are_unsupported(reader: Reader) -> None:
    a = run("The bridge opened in May 1937 [9]. It is painted International Orange. "
            "Joseph Strauss was the chief engineer [1]. It is painted a bright red colour [1].",
            reader)
    assert [c.reason for c in a.claims[:3]] == [
        "cites [9], which is not an evidence sentence", "no citation",
        "joseph, strauss is not in the cited sentence"]
    assert a.claims[3].reason.startswith("the cited sentence does not support it (support 0.")
    assert all(c.verdict == "unsupported" and c.markers == () for c in a.claims)
    assert a.refused and a.citations == () and a.text == refusal_text("docs")
    assert a.notice is not None and "withheld" in a.notice


def test_drop_unsupported_leaves_them_out_with_a_notice(reader: Reader) -> None:
    text = "The bridge opened in May 1937 [1]. It cost 35 million dollars [1]."
    kept = run(text, reader)
    assert kept.text == "The bridge opened in May 1937. [1] It cost 35 million dollars."
    assert [c.supported for c in kept.claims] == [True, False] and kept.notice is None
    dropped = run(text, reader, drop=True)
    assert dropped.text == "The bridge opened in May 1937. [1]" and len(dropped.claims) == 1
    assert dropped.notice == ("1 sentence of the model's answer left out: not supported by the "
                              "documents.")


def test_a_negation_or_a_swapped_name_the_sentence_does_not_hold(reader: Reader) -> None:
    a = run("Joseph Strauss was not the chief engineer of the bridge [2]. The bridge never "
            "opened in May 1937 [1]. Ellis was the chief engineer of the bridge [2]. The "
            "Golden Gate Bridge opened in May 1937 [1].", reader)
    assert [(c.verdict, c.reason) for c in a.claims] == [
        ("unsupported", 'the cited sentence does not say "not"'),
        ("unsupported", 'the cited sentence does not say "never"'),
        ("unsupported", "ellis is not in the cited sentence"),
        ("supported", "")]


def test_support_is_the_readers_probability(reader: Reader) -> None:
    a = run("The bridge opened in May 1937 [1]. The bridge opened in May 1937 [4].", reader)
    answered, unrelated = a.claims
    assert answered.supported and answered.support > 0.5
    assert not unrelated.supported and unrelated.support < Settings().claim_support_min
