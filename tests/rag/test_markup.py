"""An answer's segments rendered as text, and a model's text read back into segments."""

from __future__ import annotations

from rag.compose import refusal, refusal_text
from rag.markup import (
    Piece,
    Segment,
    pieces,
    plain_reply,
    render,
    segment_of,
    split_claims,
    unmarked,
    without_markers,
)
from rag.types import Answer, Claim, Verdict, answer_json

TOWER = Segment("The tower is 212 metres tall.", (1,), ((13, 16),))
BUILT = Segment("It was built in 1889.", (2, 3))


def test_render_writes_bold_and_markers_after_each_segment() -> None:
    parts = (TOWER, BUILT)
    assert render(parts) == "The tower is **212** metres tall. [1] It was built in 1889. [2] [3]"
    assert render(parts, bold=False) == (
        "The tower is 212 metres tall. [1] It was built in 1889. [2] [3]")
    assert render(parts, bold=False, markers=False) == (
        "The tower is 212 metres tall. It was built in 1889.")
    assert render(()) == "" and render((Segment("No markers."),)) == "No markers."


def test_pieces_spell_the_rendered_text() -> None:
    got = list(pieces((TOWER,)))
    assert got == [Piece("text", "The tower is "), Piece("bold", "212"),
                   Piece("text", " metres tall."), Piece("text", " "), Piece("marker", "1")]
    assert "".join(p.markup for p in got) == render((TOWER,))


def test_answer_text_and_claim_text_come_from_the_parts() -> None:
    answer = Answer("q?", (TOWER, BUILT), (), False, "docs", 0.9)
    assert answer.text == render((TOWER, BUILT))
    refused = Answer("q?", refusal("docs"), (), True, "docs", 0.1)
    assert refused.text == refusal_text("docs")
    claim = Claim(Segment("It opened in 1937.", (1,)), Verdict.SUPPORTED, 0.8)
    assert claim.text == "It opened in 1937. [1]" and claim.markers == (1,) and claim.supported
    wrong = Claim(Segment("It closed."), Verdict.UNSUPPORTED, 0.1, "no citation")
    assert not wrong.supported
    data = answer_json(Answer("q?", (claim.segment,), (), False, "docs", 0.9,
                              claims=(claim, wrong)))
    assert data["answer"] == "It opened in 1937. [1]"
    assert [c["verdict"] for c in data["claims"]] == ["supported", "unsupported"]
    assert type(data["claims"][0]["verdict"]) is str


def test_a_models_bold_phrases_become_highlights() -> None:
    content = "It is **212 metres** tall, **the** tallest."
    segment = segment_of(content, (2,))
    assert segment.text == "It is 212 metres tall, the tallest."
    assert render((segment,)) == f"{content} [2]"
    assert segment_of("No bold here.") == Segment("No bold here.")


def test_model_output_and_history_text() -> None:
    assert split_claims("It opened in 1937. [1] [2] It is red.") == [
        Segment("It opened in 1937.", (1, 2)), Segment("It is red.")]
    assert without_markers("It opened [1] in 1937 [2, 3].") == "It opened in 1937."
    earlier = "The tower is **212** metres tall. [1] It was built in 1889. [2]"
    assert plain_reply(earlier) == "The tower is 212 metres tall. It was built in 1889."
    assert unmarked(earlier) == "The tower is 212 metres tall.  It was built in 1889. "
