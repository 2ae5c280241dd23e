"""Remove documents from a collection, or the whole collection, as atomically as indexing.

Removal is an indexing run that only removes: under the collection's write lock, the removed
documents' records are marked gone from the next generation, and their chunks are left out of
that generation's lexical index (:mod:`index.lexical`); both are then committed together, the
vectors' one write last (see :mod:`index.versions`). A question sees every removed document, or
none of them, in the vectors and the lexical index alike; their chunks and sentences are deleted
only after the switch. Deleting a collection also deletes its lexical folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index import lexical
from index.docrecord import DocRecord
from index.errors import OlderCollection
from index.lexical import LexicalWriter
from index.lock import collection_lock
from index.settings import IndexSettings
from index.store import Store, check_name
from index.versions import Generation


@dataclass(frozen=True)
class RemoveReport:
    """What one removal did: the sources removed, and the names that matched no document."""

    collection: str
    removed: tuple[str, ...]
    unmatched: tuple[str, ...]

    def summary(self) -> str:
        lines = [f"{self.collection}: {len(self.removed)} document"
                 f"{'s' if len(self.removed) != 1 else ''} removed"]
        lines += [f"  removed {source}" for source in self.removed]
        lines += [f"  not in the collection: {name} (give a document as stored, or the file or "
                  "folder it was indexed from)" for name in self.unmatched]
        return "\n".join(lines)


def file_of(record: DocRecord) -> Path:
    """The file a document was indexed from (its source, named from its folder)."""
    return Path(record.root) / record.source if record.root else Path(record.source)


def _matches(name: str, records: dict[str, DocRecord]) -> list[str]:
    """The sources ``name`` stands for: a source as stored, or a file or folder on disk whose
    documents the collection holds (they need not exist any more)."""
    if name in records:
        return [name]
    target = Path(name).absolute().resolve()
    found = []
    for source, record in records.items():
        where = file_of(record).absolute().resolve()
        if where == target or target in where.parents:
            found.append(source)
    return sorted(found)


def remove_documents(settings: IndexSettings, client: Any, collection: str,
                     names: list[str]) -> RemoveReport:
    """Remove the documents ``names`` stand for (sources, files or folders) in one commit.
    The collection's lexical index must be current (a removal never rebuilds it: that encodes
    every sentence again, which ``rag index --repair`` does with a progress bar)."""
    name = check_name(collection)
    with collection_lock(settings.data_dir, name):
        store = Store(client, name).require()
        # the new generation starts from the lexical index: raises when it is missing
        gen = Generation.open(store, lexical_root=settings.lexical_dir)
        removed: set[str] = set()
        unmatched = []
        try:
            for given in names:
                found = _matches(given, gen.live)
                if not found:
                    unmatched.append(given)
                for source in found:
                    if source not in removed:
                        gen.remove(source)
                        removed.add(source)
            if gen.commit():
                gen.cleanup()
        except BaseException:
            gen.abandon()
            raise
    return RemoveReport(name, tuple(sorted(removed)), tuple(unmatched))


def delete_collection(settings: IndexSettings, client: Any, collection: str) -> int:
    """Delete ``collection``; returns how many documents it held. Questions first see it
    empty (one commit), then not at all."""
    name = check_name(collection)
    with collection_lock(settings.data_dir, name):
        store = Store(client, name).require()
        try:
            gen = Generation.open(store)
        except OlderCollection:  # nothing of it can be read: it goes as it is
            store.drop()
            lexical.drop(settings.lexical_dir, name)
            return 0
        # every chunk goes, so the empty generation needs no repair of a missing lexical index
        gen.lexical = LexicalWriter.start(settings.lexical_dir, name, gen.committed, gen.number)
        held = len(gen.live)
        try:
            for source in list(gen.live):
                gen.remove(source)
            gen.commit()
        except BaseException:
            gen.abandon()
            raise
        store.drop()
        lexical.drop(settings.lexical_dir, name)
    return held
