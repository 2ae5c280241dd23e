"""Values that flow through indexing: Document → Sentence → Chunk."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.docrecord import page_of


@dataclass(frozen=True)
class Document:
    """A loaded file. ``text`` is what offsets index; for .txt/.md it is the file unchanged."""

    source: str
    text: str
    sha256: str
    kind: str
    pages: tuple[int, ...] = field(default=())
    """For PDFs: the start offset of each page in ``text`` (page n starts at pages[n-1])."""

    def page_of(self, offset: int) -> int | None:
        return page_of(self.pages, offset)


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``document.text[start:end] == text``."""

    source: str
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one document, sized in tokens."""

    source: str
    index: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]
