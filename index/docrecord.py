"""Document records: one stored version of a document, and the committed state readers see.

A record is live in the generations ``generation <= g < gone`` (see :mod:`index.store`).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NEVER = 2**62
"""``gone`` of a document record that no committed generation has replaced yet."""

Version = tuple[str, str]
"""``(source, doc_sha)``: the key that ties chunk and sentence records to a document version."""


def newest_live(records: Iterable[DocRecord],
                generation: int) -> tuple[dict[str, DocRecord], list[DocRecord]]:
    """The newest record live at ``generation`` of each source; and the rest: records not live
    at ``generation``, and older live ones (left by a run that died: stale)."""
    live: dict[str, DocRecord] = {}
    others: list[DocRecord] = []
    for rec in records:
        if not rec.live_at(generation):
            others.append(rec)
            continue
        old = live.get(rec.source)
        if old is not None:
            others.append(min(old, rec, key=lambda r: r.generation))
            rec = max(old, rec, key=lambda r: r.generation)
        live[rec.source] = rec
    return live, others


def page_of(starts: tuple[int, ...], offset: int) -> int | None:
    """The page (from 1) holding ``offset``, given each page's start offset; None when there
    are no pages."""
    if not starts:
        return None
    return max(1, bisect_right(starts, offset))  # page starts are in order


def page_bounds(starts: tuple[int, ...], page: int, length: int) -> tuple[int, int] | None:
    """The offsets of page ``page`` (from 1) in a text of ``length`` characters whose pages
    start at ``starts`` (pages are joined by a blank line, which belongs to neither)."""
    if not 1 <= page <= len(starts):
        return None
    end = starts[page] - 2 if page < len(starts) else length
    return starts[page - 1], max(starts[page - 1], end)


@dataclass(frozen=True)
class DocRecord:
    """One stored document version."""

    source: str
    sha256: str
    kind: str
    sentences: int
    chunks: int
    indexed_at: float
    pages: str
    id: str = ""
    generation: int = 0
    """The generation whose commit made it live."""
    gone: int = NEVER
    """The generation whose commit replaced or removed it."""
    folders: tuple[str, ...] = ()
    """The folders its source lies in (see :func:`index.records.folders_of`)."""
    root: str = ""
    """The folder its source is named relative to."""

    @property
    def key(self) -> Version:
        return self.source, self.sha256

    def live_at(self, generation: int) -> bool:
        return self.generation <= generation < self.gone

    @property
    def page_starts(self) -> tuple[int, ...]:
        """The start offset of each page in the text (PDFs; empty for other kinds)."""
        try:
            starts = json.loads(self.pages) if self.pages else []
        except ValueError:
            return ()
        return tuple(int(s) for s in starts) if isinstance(starts, list) else ()

    def page_of(self, offset: int) -> int | None:
        """The page (from 1) holding ``offset``, or None for a document without pages."""
        return page_of(self.page_starts, offset)

    @staticmethod
    def from_meta(id_: str, meta: dict[str, Any]) -> DocRecord:
        return DocRecord(
            source=str(meta["source"]), sha256=str(meta["doc_sha"]), kind=str(meta["kind"]),
            sentences=int(meta["sentences"]), chunks=int(meta["chunks"]),
            indexed_at=float(meta["indexed_at"]), pages=str(meta["pages"]), id=id_,
            generation=int(meta["generation"]), gone=int(meta["gone"]),
            folders=tuple(str(f) for f in meta["dirs"]), root=str(meta["root"]))


@dataclass(frozen=True)
class Snapshot:
    """The committed state of a collection: what every reader of ``version`` sees."""

    version: str
    generation: int
    docs: dict[str, DocRecord]
    """The live document record of each source."""

    def owns(self, meta: dict[str, Any]) -> bool:
        """Whether a chunk or sentence record belongs to this state."""
        doc = self.docs.get(str(meta["source"]))
        return doc is not None and doc.sha256 == meta["doc_sha"]
