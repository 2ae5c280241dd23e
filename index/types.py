"""Values that flow through indexing (Document → Sentence → Chunk) and back out of the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from index.docrecord import Version, page_of


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


@dataclass(frozen=True)
class SentenceRecord(Sentence):
    """A stored sentence: the one sentence record answering builds on."""

    id: str
    doc_sha: str
    """The content hash of the document version that holds it."""
    prev: str
    """The end of the sentence before it ("" for a document's first)."""

    @property
    def key(self) -> Version:
        return self.source, self.doc_sha


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with the ids of its sentences, in order."""

    id: str
    source: str
    doc_sha: str
    text: str
    sentence_ids: tuple[str, ...]
    sentences: tuple[SentenceRecord, ...]
    """Its sentences' records, in order."""
    vectors: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.float32), compare=False, repr=False)
    """Its sentences' unit vectors, one row per sentence in order (stored as float16: see
    :func:`index.records.pack_vectors`); empty (size 0) when read without them (from Chroma's
    metadata alone)."""

    @property
    def key(self) -> Version:
        return self.source, self.doc_sha
