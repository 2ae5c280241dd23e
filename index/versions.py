"""One indexing run's generation: repair on open, per-file decisions, the switch, the cleanup.

A run writes under generation ``G = committed + 1``. Readers see generation ``committed`` until
:meth:`Generation.commit`, so everything before it (new versions, gone marks) is invisible to
them, and everything after it (deleting what ``G`` replaced) only touches records no reader of
``G`` uses. If a run dies before its commit, the next one opens the same ``G``: it keeps the
complete documents (their record is written after their chunks) whose file is
unchanged, and drops the rest; if it dies after, the next one deletes what is left over.

The lexical index (:mod:`index.lexical`) follows the same generations: the run writes its own
folder for ``G``, and commits it (naming the new version) just before the vectors' switch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.docrecord import NEVER, DocRecord, Version, newest_live
from index.lexical import Embed, LexicalWriter
from index.repair import Told, encoded, repair_lexical
from index.store import DOCS, Store


@dataclass
class Generation:
    """The state of one run over one collection (used under the collection's write lock)."""

    store: Store
    committed: int
    version: str
    live: dict[str, DocRecord]
    """The committed record of each source."""
    pending: dict[str, DocRecord]
    """Complete records a dead run left at this generation, not yet kept or dropped."""
    written: dict[str, Version] = field(default_factory=dict)
    """The new version of each source this generation writes."""
    replaced: list[DocRecord] = field(default_factory=list)
    """Live records this generation replaces or removes."""
    totals: tuple[int, int] = (0, 0)
    """Chunks and sentences of the committed state's documents."""
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Chunks and sentences of each new version this generation writes."""
    lexical: LexicalWriter | None = None
    """This generation's lexical index (None: the run keeps none, as in some tests)."""
    switching: str = ""
    """The version :meth:`commit` is switching readers to, once it has begun."""
    embed: Embed | None = None
    """Encodes the sentences of chunks kept from a dead run (their vectors were in its lexical
    folder, which is gone)."""

    @property
    def number(self) -> int:
        return self.committed + 1

    @property
    def changed(self) -> bool:
        return bool(self.written or self.replaced)

    @staticmethod
    def open(store: Store, sources: Collection[str] | None = None,
             folders: Collection[str] | None = None, lexical_root: Path | None = None,
             progress: bool = False, embed: Embed | None = None,
             told: Told | None = None) -> Generation:
        """Read the committed state and repair what an interrupted run left behind.

        A run that names the ``sources`` it indexes and the ``folders`` it indexes whole reads
        only their document records and those of unfinished runs (every record names its
        folders); one that may touch any document (``folders`` None: it indexes the base
        folder itself; or a removal) reads every record. With a ``lexical_root``, ``embed``
        encodes sentences when the lexical index must be repaired first (``told`` hears how
        far) or a dead run's chunks kept; without it, a missing lexical index is an error.
        Raises :class:`index.errors.OlderCollection` for a collection an older version
        wrote."""
        store.col(DOCS)  # created on the first run
        state = store.state()
        clean = bool(state.get("clean"))  # the last run ended without leaving records behind
        store.mark_writing(state)  # before any write: a run that dies leaves this mark
        version, committed = str(state.get("version", "")), int(state.get("generation", 0))
        totals = int(state.get("chunks", 0)), int(state.get("sentences", 0))
        if sources is not None and folders is not None:
            records = store.doc_records_of(sources, folders, committed)
        else:
            records = store.doc_records()
        live, others = newest_live(records, committed)
        pending: dict[str, DocRecord] = {}
        stale: list[DocRecord] = []
        for rec in others:
            if rec.generation == committed + 1 and rec.gone == NEVER:
                pending[rec.source] = rec
            else:  # replaced by a committed run that died before its cleanup, an older live
                stale.append(rec)  # duplicate, or unreachable
        marked = [r.id for r in live.values() if r.gone != NEVER]
        if marked:  # gone marks of a run that died before its commit
            store.set_gone(marked, NEVER)
            live = {s: replace(r, gone=NEVER) for s, r in live.items()}
        owned = {r.key for r in live.values()} | {r.key for r in pending.values()}
        if stale:
            store.delete_versions({r.key for r in stale} - owned)
            store.delete_docs([r.id for r in stale])
        gen = Generation(store, committed, version, live, pending, totals=totals, embed=embed)
        if not clean:
            gen.drop_orphans()
        if lexical_root is not None:
            repair_lexical(store, lexical_root, embed, progress, told)
            gen.lexical = LexicalWriter.start(lexical_root, store.name, committed, gen.number)
        return gen

    def drop_orphans(self) -> None:
        """Delete chunk records no document record owns. They exist only after a run died
        between a document's chunks and its document record (so it is called only when the
        last run left its mark, :meth:`index.store.Store.mark_writing`): the record count
        tells, so the full scan is only paid then."""
        chunks = self.totals[0] + sum(r.chunks for r in self.pending.values())
        if self.store.count("") == chunks:
            return
        owned = {r.key for r in self.store.doc_records() if r.live_at(self.committed)}
        owned |= {r.key for r in self.pending.values()}
        orphans = self.store.stored_versions() - owned
        if orphans:
            self.store.delete_versions(orphans)

    def keep_pending(self, source: str, sha256: str) -> DocRecord | None:
        """The complete version a dead run wrote for this file's content, now kept."""
        rec = self.pending.get(source)
        live = self.live.get(source)
        if rec is None or rec.sha256 != sha256 or (live is not None and live.sha256 == sha256):
            return None
        if self.lexical is not None:
            if self.embed is None:  # indexed again instead
                return None
            # its chunks are in Chroma, not yet in this folder: their sentences are encoded
            got = self.store.col("").get(
                where={"$and": [{"source": source}, {"doc_sha": sha256}]},
                include=["documents", "metadatas"])
            texts, metas = list(got["documents"]), [dict(m) for m in got["metadatas"]]
            self.lexical.add(got["ids"], texts, metas, encoded(texts, metas, self.embed))
        del self.pending[source]
        self.wrote(rec.key, rec.chunks, rec.sentences)
        return rec

    def drop_pending(self, source: str) -> None:
        """Delete the version a dead run wrote for ``source`` (its file changed since)."""
        rec = self.pending.pop(source, None)
        if rec is None:
            return
        # the record first: killed in between, its records are orphans the next run deletes
        self.store.delete_docs([rec.id])
        live = self.live.get(source)
        if live is None or live.key != rec.key:
            self.store.delete_versions([rec.key])

    def wrote(self, version: Version, chunks: int, sentences: int) -> None:
        """A complete new version of a document is written in this generation."""
        source = version[0]
        if source in self.live and source not in self.written:
            self.replaced.append(self.live[source])
        self.written[source] = version
        self.sizes[source] = chunks, sentences

    def remove(self, source: str) -> None:
        """The file of ``source`` is gone: this generation leaves it out."""
        self.drop_pending(source)
        if source in self.live and source not in self.written:
            self.replaced.append(self.live[source])

    def commit(self, force: bool = False) -> bool:
        """Switch readers to this generation if it changed anything (or ``force``)."""
        for source in list(self.pending):  # files no longer indexed: a dead run's leftovers
            self.drop_pending(source)
        if not (self.changed or force):
            self.abandon()
            self.store.mark_writing(self.store.state(), writing=False)  # every write finished
            return False
        self.store.set_gone([r.id for r in self.replaced], self.number)
        totals = (self.totals[0] + sum(c for c, _ in self.sizes.values())
                  - sum(r.chunks for r in self.replaced),
                  self.totals[1] + sum(s for _, s in self.sizes.values())
                  - sum(r.sentences for r in self.replaced))
        version = uuid.uuid4().hex
        self.switching = version
        if self.lexical is not None:
            self.lexical.delete({r.key for r in self.replaced} - set(self.written.values()))
            self.lexical.commit(version)
        self.store.commit(self.number, totals, version)  # readers switch here ...
        return True

    def abandon(self) -> None:
        """Throw away this generation's lexical folder (nothing to commit, or the run stopped;
        the vectors it wrote are dropped by the next run). Once the switch has begun the folder
        stays: if the store committed its version, it is the one readers use."""
        if self.lexical is not None:
            if not self.switching:  # begun: its folder may be the committed one, and one
                self.lexical.discard()  # that is not is never opened (the next run drops it)
            self.lexical = None

    def cleanup(self) -> None:
        """... so what it replaced can go (views loaded before the switch stop seeing it)."""
        keep = set(self.written.values())
        self.store.delete_versions({r.key for r in self.replaced} - keep)
        self.store.delete_docs([r.id for r in self.replaced])
        if self.lexical is not None:
            self.lexical.cleanup(self.number)
