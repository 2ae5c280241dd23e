"""An answer's markup in one place: its segments rendered as text with ``[n]`` and ``**bold**``,
and a model's raw output read back into sentences with the markers each carries.

Answers are built from :class:`Segment` values; :func:`render` is the only code that writes
``[n]`` markers and ``**`` around highlights, and :func:`pieces` gives the same text piece by
piece for other renderers (HTML). The rest of this module reads text that someone else wrote:
a chat model's answer (markers in any of the forms ``[1]``, ``[1, 2]``, ``[1; 2]``) and earlier
answers passed back in as the chat history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from index.segment import split_sentences

Span = tuple[int, int]
PieceKind = Literal["text", "bold", "marker"]


@dataclass(frozen=True)
class Segment:
    """A sentence of an answer: its text, the citation numbers that follow it, and the spans of
    ``text`` shown in bold (the phrase that answers)."""

    text: str
    markers: tuple[int, ...] = ()
    highlights: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Piece:
    """A run of rendered text: plain text, a bold phrase, or a citation number."""

    kind: PieceKind
    text: str

    @property
    def markup(self) -> str:
        """The piece as :func:`render` writes it."""
        if self.kind == "bold":
            return f"**{self.text}**"
        return f"[{self.text}]" if self.kind == "marker" else self.text


def pieces(parts: Sequence[Segment], *, bold: bool = True,
           markers: bool = True) -> Iterator[Piece]:
    """The pieces of the answer made of ``parts``: segments joined by a space, each followed by
    a space and ``[n]`` for each of its markers."""
    for i, segment in enumerate(parts):
        if i:
            yield Piece("text", " ")
        at = 0
        for a, b in segment.highlights if bold else ():
            if segment.text[at:a]:
                yield Piece("text", segment.text[at:a])
            yield Piece("bold", segment.text[a:b])
            at = b
        if segment.text[at:]:
            yield Piece("text", segment.text[at:])
        for n in segment.markers if markers else ():
            yield Piece("text", " ")
            yield Piece("marker", str(n))


def render(parts: Sequence[Segment], *, bold: bool = True, markers: bool = True) -> str:
    """The answer's text: ``**phrase**`` around each highlight (unless not ``bold``), `` [n]``
    after each segment for each of its markers (unless not ``markers``)."""
    return "".join(p.markup for p in pieces(parts, bold=bold, markers=markers))


# -- text written by others -------------------------------------------------------------------

_MARKER_SRC = r"\[\s*\d{1,4}(?:\s*[,;]\s*\d{1,4})*\s*\]"
_MARKER = re.compile(r"\[\s*(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\s*\]")
_SPACED_MARKER = re.compile(r"\s*" + _MARKER_SRC)
_TRAILING_MARKERS = re.compile(r"([.!?…][\"'”’)]*)((?:\s*" + _MARKER_SRC + r")+)(?=\s|$)")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?…])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_OUR_MARKUP = re.compile(r"\[\d+\]|\*\*")

def has_markers(text: str) -> bool:
    return _MARKER.search(text) is not None


def marker_numbers(text: str) -> list[int]:
    """The numbers of the markers in ``text``, in order (``[1, 3]`` gives 1 and 3)."""
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


def strip_markers(text: str) -> str:
    """``text`` without ``[n]`` markers, spaces tidied."""
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _MARKER.sub(" ", text))
    return " ".join(text.split())


def without_markers(text: str) -> str:
    """``text`` without its markers and the white space before each, nothing else changed
    (a model's answer while it is written)."""
    return _SPACED_MARKER.sub("", text)


def plain_reply(text: str) -> str:
    """An earlier answer from the chat history as the chat model reads its own reply: no
    markers, no ``**``, spaces tidied."""
    return strip_markers(text.replace("**", ""))


def unmarked(text: str) -> str:
    """An earlier answer from the chat history without its ``[n]`` markers and ``**``, its
    spacing untouched (what retrieval and the reader read of a previous answer)."""
    return _OUR_MARKUP.sub("", text)


def segment_of(content: str, markers: tuple[int, ...] = ()) -> Segment:
    """A model's sentence as a segment: the phrases it wrote in ``**bold**`` become highlights,
    so that :func:`render` gives ``content`` back."""
    text, spans, at = [], [], 0
    length = 0
    for m in _BOLD.finditer(content):
        text.append(content[at:m.start()])
        length += m.start() - at
        spans.append((length, length + len(m.group(1))))
        text.append(m.group(1))
        length += len(m.group(1))
        at = m.end()
    text.append(content[at:])
    return Segment("".join(text), markers, tuple(spans))


def split_claims(text: str) -> list[Segment]:
    """Sentences of a model's ``text`` with the markers each carries (markers after a
    sentence's full stop belong to it; a line holding only markers belongs to the sentence
    before). Each segment's text is the sentence without markers, as the model wrote it.
    Sentences are split as documents are (:func:`index.segment.split_sentences`), once the
    markers that follow a full stop ("... in 1937. [2] It ...") are moved before it."""
    pieces_: list[str] = []
    for raw_line in text.splitlines():
        line = _TRAILING_MARKERS.sub(r"\2\1", _BULLET.sub("", raw_line).strip())
        pieces_ += [s.text for s in split_sentences(line)] or [line]
    claims: list[Segment] = []
    for piece in pieces_:
        content, cited = strip_markers(piece), tuple(dict.fromkeys(marker_numbers(piece)))
        if not any(ch.isalnum() for ch in content):
            if cited and claims:  # markers alone: they belong to the sentence before
                last = claims[-1]
                claims[-1] = Segment(last.text, tuple(dict.fromkeys(last.markers + cited)))
            continue
        claims.append(Segment(content, cited))
    return claims
