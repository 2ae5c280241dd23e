"""Rendering answers and documents: escaping, highlight offsets, refusals, caps (pure)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from rag.markup import Segment
from rag.types import Answer, Citation, answer_json
from ui import panels, render

EVIL = '<script>alert(1)</script><img src=x onerror="window.__xss=1"> [x](javascript:alert(1))'
DOC = ("First paragraph sentence one. Sentence two here.\n\n"
       "Alpha sentence. Beta sentence. Gamma sentence holds 42 apples. Delta sentence. "
       "Epsilon sentence. Zeta sentence.\n\nLast paragraph.")


def _cite(doc: str, text: str, n: int = 1, highlight: tuple[int, int] | None = None,
          source: str = "docs/a.txt") -> Citation:
    start = doc.index(text)
    return Citation(n, source, start, start + len(text), text, 0.9, highlight)


def _part(text: str, *markers: int, bold: str | None = None) -> Segment:
    """A sentence citing ``markers``, the phrase ``bold`` highlighted."""
    at = -1 if bold is None else text.index(bold)
    return Segment(text, markers, () if bold is None else ((at, at + len(bold)),))


def _answer(citations: tuple[Citation, ...], *parts: Segment, refused: bool = False) -> Answer:
    return Answer("q?", parts, citations, refused, "seed", 0.9)


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_answer_text_is_escaped_with_our_markup_only() -> None:
    out = render.render_answer_text((_part(f"{EVIL} 1987", 1, bold="1987"),), turn=0)
    assert "<script" not in out and "<img" not in out and "javascript:alert(1))" in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=&quot;" in out
    assert '<strong class="answer-phrase">1987</strong>' in out
    assert '<sup class="marker" data-turn="0" data-n="1"' in out
    assert set(re.findall(r"<(\w+)", out)) == {"strong", "sup"}


def test_half_streamed_bold_and_long_answers() -> None:
    bridge = (_part("The bridge was completed in 1937.", 1, bold="1937"),)
    half = render.render_answer_text(bridge, shown_chars=len("The bridge was completed in **19"))
    assert "**" not in half and half.endswith("completed in 19")
    long = render.render_answer_text((_part("word " * 10_000),))
    assert len(long) < render.MAX_ANSWER_CHARS + 100 and "more characters" in long


def test_citation_context_highlights_sentence_with_neighbours() -> None:
    text = "Gamma sentence holds 42 apples."
    c = _cite(DOC, text, highlight=(text.index("42"), text.index("42") + 2))
    out = render.render_citation_context(DOC, c)
    assert '<mark class="cited">Gamma sentence holds <b class="hl">42</b> apples.</mark>' in out
    shown = _plain(out)
    assert "Alpha sentence. Beta sentence. Gamma" in shown  # two sentences before
    assert "apples. Delta sentence. Epsilon sentence." in shown  # two after
    assert "Zeta" not in shown and "First paragraph" not in shown  # not beyond the paragraph


def test_context_bounds_stay_in_paragraph_and_reach() -> None:
    c = _cite(DOC, "Last paragraph.")
    lo, hi = render.context_bounds(DOC, c.start, c.end)
    assert (lo, hi) == (c.start, c.end)
    # sentences as the indexer splits them: the long ones around are cut by the reach
    long = "X" * 5000 + ". Near one. Near two. Cited here. After one. After two. " + "Y" * 5000
    start = long.index("Cited here.")
    lo, hi = render.context_bounds(long, start, start + len("Cited here."))
    assert long[lo:hi].strip() == "Near one. Near two. Cited here. After one. After two."


def test_citation_with_evil_document_is_escaped() -> None:
    doc = f"Intro. The tower is 212 metres tall {EVIL}. Outro."
    c = _cite(doc, f"The tower is 212 metres tall {EVIL}.", source='<b onmouseover="x">.md')
    answer = _answer((c,), _part("The tower is 212", 1, bold="212"))
    out = render.render_answer(answer, {c.source: doc}, 0)
    assert "<script" not in out and "<img" not in out and "<b onmouseover" not in out
    assert "&lt;b onmouseover=&quot;x&quot;&gt;.md" in out
    assert EVIL in _plain(out)


def test_context_falls_back_when_document_differs() -> None:
    c = _cite(DOC, "Beta sentence.")
    assert _plain(render.render_citation_context(None, c)) == "Beta sentence."
    assert _plain(render.render_citation_context("changed", c)) == "Beta sentence."


def test_refused_answer_has_its_own_class() -> None:
    refused = render.render_answer(
        _answer((), _part("The documents don't say."), refused=True), {})
    answered = render.render_answer(_answer((), _part("Yes", 1)), {})
    assert 'class="msg bot refused"' in refused and "refused-label" in refused
    assert 'class="msg bot answer"' in answered and "refused" not in answered
    streaming = render.render_answer(
        _answer((_cite(DOC, "Beta sentence."),), _part("Beta", 1)), {}, 0, shown_chars=4)
    assert "streaming" in streaming and "citation" not in streaming


def test_document_marks_exact_span() -> None:
    doc = f"Head {EVIL} middle. Cited <b>part</b>. Tail."
    start = doc.index("Cited")
    end = doc.index(". Tail") + 1
    out = panels.render_document(doc, start, end, source="a<b>.txt")
    mark = re.search(r'<mark id="cited-span" class="cited">(.*?)</mark>', out, re.S)
    assert mark is not None and html.unescape(mark.group(1)) == doc[start:end]
    body = re.search(r'<pre class="doc-text">(.*)</pre>', out, re.S)
    assert body is not None and _plain(body.group(1)) == doc
    assert "<script" not in out and "<img" not in out and "a&lt;b&gt;.txt" in out


def test_long_document_is_capped_around_the_span() -> None:
    doc = "".join(f"Sentence number {i}. " for i in range(100_000))  # ~2.2M characters
    start = doc.index("Sentence number 50000.")
    end = start + len("Sentence number 50000.")
    out = panels.render_document(doc, start, end, "big.txt")
    assert len(out) < panels.MAX_DOC_CHARS + 2_000
    assert '<mark id="cited-span" class="cited">Sentence number 50000.</mark>' in out
    assert "characters before are not shown" in out
    assert "characters after are not shown" in out
    top = panels.render_document(doc, None, None, "big.txt")
    assert "cited-span" not in top and top.count("Sentence number 0.") == 1


def test_invalid_span_shows_document_without_mark() -> None:
    assert "cited-span" not in panels.render_document("short", 3, 99)


def test_documents_list_and_status_escape_names() -> None:
    docs = [{"source": '<img src=x onerror="alert(1)">.txt', "sentences": 3,
             "indexed_at": 0.0}]
    out = panels.render_documents(docs, "seed")
    assert "<img" not in out and 'data-doc="0"' in out and "&lt;img" in out
    assert "No documents" in panels.render_documents([], "<x>")
    status = panels.render_status([("ok", "<b>a</b> indexed"), ("error", "bad <i>")])
    assert 'class="ok">&lt;b&gt;a&lt;/b&gt; indexed' in status and "<i>" not in status


def test_answer_json_is_the_api_shape() -> None:
    c = _cite(DOC, "Beta sentence.")
    got = answer_json(_answer((c,), _part("Beta", 1)))
    assert got == {"question": "q?", "answer": "Beta [1]", "refused": False,
                   "citations": [{"n": 1, "source": "docs/a.txt", "page": None, "start": c.start,
                                  "end": c.end, "text": "Beta sentence.", "score": 0.9}],
                   "answerer": "extractive", "notice": None, "fallback": None, "claims": []}


def test_a_pdf_citation_names_its_page_and_the_viewer_shows_that_page() -> None:
    doc = "Page one text.\n\nPage two holds <b>the</b> fact.\n\nPage three."
    starts = (0, 16, 49)
    c = replace(_cite(doc, "Page two holds <b>the</b> fact.", source="r<1>.pdf"), page=2)
    head = render.render_citation(c, doc, 0)
    assert "r&lt;1&gt;.pdf</span>, <span class=\"page\">p. 2</span>" in head
    assert "<b>the</b>" not in head
    shown = panels.render_document(doc, c.start, c.end, c.source, page=(2, 3, 16, 47))
    assert '<span class="page">page 2 of 3</span>' in shown
    assert "Page one" not in shown and "Page three" not in shown
    assert "the 1 page(s) before are not shown" in shown
    assert "the 1 page(s) after are not shown" in shown
    assert starts[1:] == (doc.index("Page two"), doc.index("Page three"))
    # a span outside the page shows the whole document instead
    whole = panels.render_document(doc, 0, 5, c.source, page=(2, 3, 16, 47))
    assert "Page three" in whole and 'class="page"' not in whole


def test_copy_text_and_status_line_are_escaped() -> None:
    c = _cite(DOC, "Gamma sentence holds 42 apples.", highlight=(21, 23))
    answer = _answer((c,), _part('Gamma <i>"x"</i> holds 42 apples.', 1, bold="42"))
    out = render.render_answer(answer, {"docs/a.txt": DOC}, 0)
    copy = re.search(r'data-copy="([^"]*)"', out)
    assert copy is not None
    assert html.unescape(copy.group(1)) == (
        'Gamma <i>"x"</i> holds 42 apples. [1]\n\n[1] docs/a.txt: "Gamma sentence holds 42 '
        'apples."')
    line = panels.render_status_line("<c>", 2, "openai:<m>", "timed out <b>")
    assert "&lt;c&gt;" in line and "openai:&lt;m&gt;" in line and "<b>" not in line
    assert "2 documents" in line and "the last answer is extractive: timed out" in line


def test_a_bold_mark_a_model_left_open_is_not_shown() -> None:
    out = render.render_answer_text((Segment("It opened in **May 1937.", (1,)),), turn=0)
    assert "**" not in out and out.startswith("It opened in May 1937. <sup")
