"""The panels beside the conversation as HTML: a document in the viewer (a PDF on its cited
page), the documents of a collection, upload results and progress, the status line. Pure
functions, no Gradio; every text goes through :func:`ui.render.esc`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ui.render import cap, esc

MAX_DOC_CHARS = 200_000
"""At most this much of a document is put in the page (a window around the cited span)."""


def document_window(length: int, start: int | None, end: int | None,
                    limit: int = MAX_DOC_CHARS) -> tuple[int, int]:
    """The part of a document of ``length`` characters that is shown: all of it when short,
    else ``limit`` characters around the span (or the start)."""
    if length <= limit:
        return 0, length
    if start is None or end is None:
        return 0, limit
    mid = (start + end) // 2
    lo = max(0, min(mid - limit // 2, length - limit))
    return lo, lo + limit


def render_document(text: str, start: int | None = None, end: int | None = None,
                    source: str = "", limit: int = MAX_DOC_CHARS,
                    page: tuple[int, int, int, int] | None = None) -> str:
    """The whole document (capped) with ``[start, end)`` in ``<mark id="cited-span">``.

    ``page`` = ``(number, pages, lo, hi)`` shows only that page of a PDF, ``text[lo:hi]``,
    and says which page it is."""
    valid = start is not None and end is not None and 0 <= start <= end <= len(text)
    if not valid:
        start = end = None
    first, last = (0, len(text)) if page is None else (page[2], page[3])
    if start is not None and end is not None and not first <= start <= end <= last:
        first, last, page = 0, len(text), None  # the sentence runs over the page's end
    lo, hi = document_window(last - first, None if start is None else start - first,
                             None if end is None else end - first, limit)
    lo, hi = lo + first, hi + first
    head = f'<div class="doc-head"><span class="source">{esc(source)}</span>'
    if page is not None:
        head += f' · <span class="page">page {page[0]} of {page[1]}</span>'
    if valid:
        head += f' <span class="offsets">characters {start}–{end}</span>'
    head += "</div>"
    parts = [f'<div class="document">{head}']
    if lo > first:
        parts.append(f'<div class="doc-cut">… {lo - first:,} characters before are not shown'
                     "</div>")
    elif page is not None and page[0] > 1:
        parts.append(f'<div class="doc-cut">… the {page[0] - 1} page(s) before are not shown</div>')
    parts.append('<pre class="doc-text">')
    if start is not None and end is not None:
        parts += [esc(text[lo:start]),
                  f'<mark id="cited-span" class="cited">{esc(text[start:end])}</mark>',
                  esc(text[end:hi])]
    else:
        parts.append(esc(text[lo:hi]))
    parts.append("</pre>")
    if hi < last:
        parts.append(f'<div class="doc-cut">… {last - hi:,} characters after are not shown'
                     "</div>")
    elif page is not None and page[0] < page[1]:
        parts.append(f'<div class="doc-cut">… the {page[1] - page[0]} page(s) after are not '
                     "shown</div>")
    parts.append("</div>")
    return "".join(parts)


def format_time(epoch: object) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(epoch)))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def render_documents(docs: Sequence[Mapping[str, Any]], collection: str) -> str:
    """The documents of a collection, each clickable (``data-doc`` is its index)."""
    if not docs:
        return (f'<div class="documents empty">No documents in “{esc(collection)}” yet: '
                "upload some below.</div>")
    rows = [
        f'<tr class="doc-row" role="button" tabindex="0" data-doc="{i}" title="show the document">'
        f'<td class="source">{esc(d.get("source", ""))}</td>'
        f'<td class="num">{esc(d.get("sentences", ""))}</td>'
        f'<td class="when">{esc(format_time(d.get("indexed_at")))}</td></tr>'
        for i, d in enumerate(docs)
    ]
    return (f'<div class="documents"><div class="doc-count">{len(docs)} document'
            f'{"s" if len(docs) != 1 else ""} in “{esc(collection)}”</div>'
            '<table><thead><tr><th>Document</th><th>Sentences</th><th>Indexed</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def render_status(lines: Sequence[tuple[str, str]]) -> str:
    """Upload results: ``(kind, message)`` with kind ``ok`` or ``error``."""
    items = "".join(f'<li class="{"ok" if kind == "ok" else "error"}">{esc(msg)}</li>'
                    for kind, msg in lines)
    return f'<ul class="status">{items}</ul>' if items else ""


def render_progress(fraction: float, what: str) -> str:
    """An upload under way: a bar at ``fraction`` (0 to 1) and what it is doing."""
    share = min(1.0, max(0.0, fraction))
    return (f'<div class="status progress"><progress max="100" value="{share * 100:.0f}">'
            f'</progress> {share * 100:.0f}% {esc(what)}</div>')


def render_status_line(collection: str, documents: int | None, answerer: str,
                       fallback: str | None = None) -> str:
    """What the chat is doing: the collection, its documents, the answerer and any fallback."""
    count = "?" if documents is None else f"{documents}"
    parts = [f'<span class="sl-collection">Collection “{esc(collection)}”</span>',
             f'<span class="sl-documents">{count} document{"s" if documents != 1 else ""}'
             "</span>",
             f'<span class="sl-answerer">answerer: {esc(answerer)}</span>']
    if fallback:
        parts.append(f'<span class="sl-fallback">the last answer is extractive: '
                     f"{esc(cap(fallback, 300))}</span>")
    return f'<div class="status-line">{" · ".join(parts)}</div>'


def render_confirm_delete(collection: str, documents: int) -> str:
    return (f'<div class="confirm">Delete the collection “{esc(collection)}” and its '
            f"{documents} document{'s' if documents != 1 else ''}? Questions can no longer "
            "use it, and this cannot be undone.</div>")
