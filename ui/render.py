"""Turn answers and documents into HTML: pure functions, no Gradio.

Every piece of document text, question text and file name goes through :func:`html.escape`;
the only markup in the output is our own. Long texts are capped so the page never freezes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from index.segment import split_sentences
from rag.export import plain_text
from rag.markup import Piece, Segment, pieces, render, without_markers
from rag.types import Answer, Citation, Claim

MAX_ANSWER_CHARS = 20_000
MAX_QUESTION_CHARS = 2_000
MAX_CITATION_CHARS = 2_000
CONTEXT_CHARS = 400
"""How far the context of a citation reaches on each side, at most."""
CONTEXT_SENTENCES = 2

def esc(text: object) -> str:
    """Escape any text for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit:,} more characters]"


def render_answer_text(parts: Sequence[Segment], turn: int | None = None,
                       shown_chars: int | None = None) -> str:
    """Answer parts as HTML: highlights in bold, markers as clickable chips. ``shown_chars``:
    only the first characters of the answer's text (while streaming)."""
    total = len(render(parts))
    if shown_chars is not None:
        total = min(total, shown_chars)
    left = min(total, MAX_ANSWER_CHARS)
    shown: list[tuple[Piece, str]] = []  # each piece with the part of its markup shown
    for piece in pieces(parts):
        shown.append((piece, piece.markup[:left]))
        left -= len(piece.markup)
        if left <= 0:
            break
    if sum(m.count("**") for _, m in shown) % 2:
        # a bold phrase cut short, or a "**" a model left open: that "**" is not shown
        i = max(j for j, (_, m) in enumerate(shown) if "**" in m)
        head, _, tail = shown[i][1].rpartition("**")
        shown[i] = (Piece("text", head + tail), head + tail)
    out = [_piece_html(p, turn) if m == p.markup else esc(m) for p, m in shown]
    if total > MAX_ANSWER_CHARS:
        out.append(esc(f"… [{total - MAX_ANSWER_CHARS:,} more characters]"))
    return "".join(out)


def _piece_html(piece: Piece, turn: int | None) -> str:
    if piece.kind == "bold":
        return f'<strong class="answer-phrase">{esc(piece.text)}</strong>'
    if piece.kind == "marker":
        turn_attr = f' data-turn="{turn}"' if turn is not None else ""
        return (f'<sup class="marker"{turn_attr} data-n="{piece.text}" title="show source">'
                f"[{piece.text}]</sup>")
    return esc(piece.text)


def _highlighted(citation: Citation) -> str:
    text = citation.text
    span = citation.highlight
    if span is None or not 0 <= span[0] < span[1] <= len(text):
        return esc(cap(text, MAX_CITATION_CHARS))
    a, b = span
    return (esc(cap(text[:a], MAX_CITATION_CHARS)) + f'<b class="hl">{esc(text[a:b])}</b>'
            + esc(cap(text[b:], MAX_CITATION_CHARS)))


def context_bounds(doc_text: str, start: int, end: int, sentences: int = CONTEXT_SENTENCES,
                   reach: int = CONTEXT_CHARS) -> tuple[int, int]:
    """Offsets of up to ``sentences`` sentences on each side of ``[start, end)``, within its
    paragraph and at most ``reach`` characters away."""
    lo = max(0, start - reach)
    left = doc_text[lo:start]
    para = left.rfind("\n\n")
    if para >= 0:
        lo, left = lo + para + 2, left[para + 2:]
    cut = lo > 0 and para < 0  # the reach cut a sentence in two
    ends = [s.start for s in split_sentences(left)[1:]]  # each sentence after the first
    if len(ends) >= sentences:
        lo += ends[-sentences]
    elif cut and ends:
        lo += ends[0]
    hi = min(len(doc_text), end + reach)
    right = doc_text[end:hi]
    para = right.find("\n\n")
    if para >= 0:
        hi, right = end + para, right[:para]
    cut = hi < len(doc_text) and para < 0
    found = split_sentences(right)
    ends = [s.end for s in (found[:-1] if cut else found)]  # a sentence the reach cut is left out
    if len(ends) >= sentences:
        hi = end + ends[sentences - 1]
    elif cut and ends:
        hi = end + ends[-1]
    return lo, hi


def render_citation_context(doc_text: str | None, citation: Citation) -> str:
    """The cited sentence highlighted inside a sentence or two of context on each side."""
    cited = f'<mark class="cited">{_highlighted(citation)}</mark>'
    if doc_text is None or doc_text[citation.start:citation.end] != citation.text:
        return f'<span class="context">{cited}</span>'
    lo, hi = context_bounds(doc_text, citation.start, citation.end)
    before = doc_text[lo:citation.start].lstrip()
    after = doc_text[citation.end:hi].rstrip()
    pre = "… " if lo > 0 and before and doc_text[lo - 1] != "\n" else ""
    post = " …" if hi < len(doc_text) and after and doc_text[hi] != "\n" else ""
    return (f'<span class="context"><span class="around">{esc(pre + before)}</span>{cited}'
            f'<span class="around">{esc(after + post)}</span></span>')


def render_citation(citation: Citation, doc_text: str | None, turn: int | None = None) -> str:
    turn_attr = f' data-turn="{turn}"' if turn is not None else ""
    return (
        f'<div class="citation" role="button" tabindex="0"{turn_attr} data-n="{citation.n}" '
        f'title="open the document at this sentence">'
        f'<div class="citation-head"><span class="citation-n">[{citation.n}]</span> '
        f'<span class="source">{esc(citation.source)}</span>{_page(citation.page)} '
        f'<span class="offsets">characters {citation.start}–{citation.end}</span></div>'
        f"{render_citation_context(doc_text, citation)}</div>"
    )


def _page(page: int | None) -> str:
    return "" if page is None else f', <span class="page">p. {page}</span>'


def render_question(text: str) -> str:
    shown = esc(cap(text, MAX_QUESTION_CHARS))
    return f'<div class="msg user"><div class="bubble">{shown}</div></div>'


def render_answer(answer: Answer, doc_texts: Mapping[str, str | None], turn: int | None = None,
                  shown_chars: int | None = None) -> str:
    """One answer: its text with markers, then each citation in context.

    ``shown_chars`` renders only the start of the text (while streaming), without citations.
    """
    kind = "refused" if answer.refused else "answer"
    if shown_chars is not None:
        kind += " streaming"
    parts = [f'<div class="msg bot {kind}"><div class="bubble">']
    if answer.notice and shown_chars is None:
        parts.append(render_notice(answer.notice))
    if answer.refused:
        parts.append('<div class="refused-label">No answer in the documents</div>')
    if answer.claims and not answer.refused and shown_chars is None:
        body = " ".join(render_claim(c, turn) for c in answer.claims)
    else:
        body = render_answer_text(answer.parts, turn, shown_chars)
    parts.append(f'<div class="answer-text">{body}</div>')
    if shown_chars is None and answer.citations:
        parts.append('<div class="citations">')
        parts += [render_citation(c, doc_texts.get(c.source), turn) for c in answer.citations]
        parts.append("</div>")
    if shown_chars is None:
        parts.append(f'<div class="answer-tools"><button type="button" class="copy" '
                     f'data-copy="{esc(plain_text(answer))}" title="copy the answer and its '
                     'citations as text">Copy</button></div>')
    parts.append("</div></div>")
    return "".join(parts)


NOTICE_STYLE = ("display:block;font-size:0.88em;font-style:normal;margin-bottom:6px;"
                "padding:4px 8px;border-radius:6px;background:#fffbeb;color:#92400e;"
                "border:1px solid #fcd34d")
UNSUPPORTED_STYLE = "text-decoration:underline dotted #b91c1c;color:#7f1d1d"
UNSUPPORTED_TAG_STYLE = "color:#b91c1c;font-size:0.75em;font-weight:600;margin-left:2px"


def render_notice(notice: str) -> str:
    """A notice above the answer (the model was not used, sentences were left out...)."""
    return f'<div class="notice" style="{NOTICE_STYLE}">{esc(cap(notice, 2_000))}</div>'


def render_claim(claim: Claim, turn: int | None = None) -> str:
    """One sentence of a generative answer; an unsupported one is marked, its reason on hover."""
    if claim.supported:
        return render_answer_text((claim.segment,), turn)
    why = esc(f"Not supported by the documents: {claim.reason}" if claim.reason
              else "Not supported by the documents")
    return (f'<span class="claim unsupported" style="{UNSUPPORTED_STYLE}" title="{why}">'
            f"{render_answer_text((claim.segment,))}</span>"
            f'<sup class="unsupported-tag" style="{UNSUPPORTED_TAG_STYLE}" title="{why}">'
            "unsupported</sup>")


def render_partial(text: str) -> str:
    """A model's answer while it is being written: markers left out (they are renumbered
    once every claim is checked), no citations yet."""
    shown = without_markers(cap(text, MAX_ANSWER_CHARS))
    return ('<div class="msg bot answer streaming"><div class="bubble">'
            f'<div class="answer-text">{esc(shown)}</div></div></div>')


def render_pending() -> str:
    return ('<div class="msg bot pending"><div class="bubble"><span class="thinking">'
            "Searching the documents…</span></div></div>")


def render_error(message: str) -> str:
    return (f'<div class="msg bot error"><div class="bubble"><div class="error-label">Error</div>'
            f'<div class="error-text">{esc(cap(message, MAX_ANSWER_CHARS))}</div></div></div>')


def render_conversation(turns: Iterable[str], placeholder: str = "") -> str:
    """The conversation from already rendered turns (oldest first)."""
    body = "".join(turns)
    if not body:
        body = f'<div class="empty">{esc(placeholder)}</div>' if placeholder else ""
    return f'<div class="conversation">{body}</div>'
