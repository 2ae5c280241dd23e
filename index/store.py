"""The Chroma store: two collections per corpus, same code for embedded and server mode.

For a corpus ``NAME``:
- ``NAME``            chunks (the retrieval unit), vector = mean of its sentence vectors; the
  metadata locates each of its sentences in its text;
- ``NAME__docs``      one record per document version: full text, content hash, counts, and the
  generation range in which it is live (``generation <= g < gone``).

The sentences' own vectors are kept with the chunk records in the lexical index
(:mod:`index.lexical`), read for a question's chunks only: Chroma holds no vector index of
sentences, which would cost five times the chunks' in memory and on disk.

Versions: the ``NAME__docs`` collection's metadata holds the committed ``generation`` (and a
``version`` token that changes with it) and the ``format`` of the records (:data:`FORMAT`). An
indexing run writes every new document version (its chunks first, then its document
record) under the next generation, marks the records it replaces or removes as gone from that
generation, and only then commits it, in one metadata write: the switch. A reader takes the
document records live at the committed generation and keeps only chunks whose
``(source, doc_sha)`` one of them owns, so it sees the whole old version or the whole new one,
never a mix and never a half-written file. Between a run's first write and its end the state
also says ``clean: 0`` (:meth:`Store.mark_writing`), so the next run knows whether the last one
may have left records behind.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlparse

from index.docrecord import NEVER, DocRecord, Snapshot, Version, newest_live
from index.errors import (
    CollectionNotFound,
    InvalidCollectionName,
    OlderCollection,
    StoreUnavailable,
)
from index.settings import IndexSettings

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,58}[A-Za-z0-9]")
DOCS = "__docs"
_FORMER = ("__sentences",)
"""Collections that older formats kept beside a corpus's own (dropped with it)."""
_PAGE = 5000
_OR_BATCH = 100
_IN_BATCH = 500
_SNAPSHOT_TRIES = 20
FORMAT = 2
"""The format of the records this version writes, named by every commit. A collection whose
committed state names no format (or another) was written by an older version: it is refused
(:class:`index.errors.OlderCollection`), never read another way."""

T = TypeVar("T")

_committed_here: set[str] = set()
"""Versions committed by this process (see :meth:`Store.committed_elsewhere`)."""
_here_lock = threading.Lock()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or "__" in name:
        raise InvalidCollectionName(str(name))
    return name


def open_client(settings: IndexSettings) -> Any:
    """A Chroma client: HttpClient when ``chroma_url`` is set, else PersistentClient."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exception/ValueError subclasses
        where = settings.chroma_url or settings.chroma_path
        raise StoreUnavailable(
            f"cannot open the Chroma store at {where} ({exc}); check RAG_CHROMA_URL / "
            "RAG_DATA_DIR, and that no other process writes to that folder"
        ) from exc


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class Store:
    """The two collections of one corpus."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = check_name(name)
        self._cols: dict[str, Any] = {}

    @staticmethod
    def collection_names(client: Any) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
        return sorted(n for n in names if f"{n}{DOCS}" in names)

    def exists(self) -> bool:
        return self.name in self.collection_names(self.client)

    def require(self) -> Store:
        if not self.exists():
            raise CollectionNotFound(self.name, self.collection_names(self.client))
        return self

    def col(self, suffix: str = "") -> Any:
        if suffix not in self._cols:
            self._cols[suffix] = self.client.get_or_create_collection(
                self.name + suffix,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        return self._cols[suffix]

    def drop(self) -> None:
        """Delete the collection, document records first (it is then no longer listed)."""
        for suffix in (DOCS, "", *_FORMER):
            # a collection that is not there is already dropped
            with contextlib.suppress(Exception):
                self.client.delete_collection(self.name + suffix)
        self._cols.clear()

    @property
    def max_batch(self) -> int:
        return int(self.client.get_max_batch_size())

    def add(self, suffix: str, ids: Sequence[str], embeddings: Any,
            documents: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Add records, in batches no larger than the client allows.

        Chunk and sentence ids are content-addressed, and records a run did not finish are
        deleted before the next one writes (:mod:`index.versions`): an id that is already
        stored holds this same record, which Chroma then keeps. An add costs less than an
        upsert, which looks every id up first."""
        col = self.col(suffix)
        step = self.max_batch
        for i in range(0, len(ids), step):
            col.add(
                ids=list(ids[i : i + step]),
                embeddings=embeddings[i : i + step],
                documents=list(documents[i : i + step]),
                metadatas=list(metadatas[i : i + step]),
            )

    # -- versions ------------------------------------------------------------------------------

    def committed(self) -> tuple[str, int]:
        """``(version, generation)`` of the last committed run; ``("", 0)`` before the first."""
        meta = self.state()
        return str(meta.get("version", "")), int(meta.get("generation", 0))

    def state(self) -> dict[str, Any]:
        """The committed state's metadata: format, version, generation, the chunk and
        sentence totals of its documents, and whether a run has written since the commit
        (``clean`` 0, see :meth:`mark_writing`; empty before the first run). Raises
        :class:`OlderCollection` when an older version wrote the collection."""
        meta = dict(self.client.get_collection(self.name + DOCS).metadata or {})
        if meta.get("format") != FORMAT and (meta or self._written_before_versions()):
            raise OlderCollection(self.name)
        return meta

    def _written_before_versions(self) -> bool:
        """Whether the collection holds document records but was never committed by a version
        that names its state: its records carry no generation (a first run that died before
        its commit leaves records that do)."""
        got = self.col(DOCS).get(limit=1, include=["metadatas"])
        metas = got.get("metadatas") or []
        return bool(metas) and "generation" not in (metas[0] or {})

    def committed_elsewhere(self, version: str) -> bool:
        """Whether ``version`` was committed by another process into the embedded database.
        Such a process's writes reach this one's open database only in part (the vector
        index this process holds in memory does not see them), so its reads would fail."""
        with _here_lock:
            if not version or version in _committed_here:
                return False
        settings = self.client.get_settings()
        return bool(settings.is_persistent) and "fastapi" not in str(settings.chroma_api_impl)

    def version(self) -> str:
        """Changes whenever an indexing run changed the collection (readers cache on it)."""
        return self.committed()[0]

    def commit(self, generation: int, totals: tuple[int, int],
               version: str | None = None) -> None:
        """Make ``generation`` the one readers see: a single write of the collection metadata.
        ``totals``: the chunks and sentences its documents hold; ``version``: the new
        version's name (default: a fresh one)."""
        version = version or uuid.uuid4().hex
        with _here_lock:
            _committed_here.add(version)
        self.col(DOCS).modify(metadata={
            "format": FORMAT, "version": version, "generation": generation,
            "chunks": totals[0], "sentences": totals[1], "clean": 1})

    def mark_writing(self, state: dict[str, Any], writing: bool = True) -> None:
        """Say in the committed state (``state``, as :meth:`state` read it) that a run is
        about to write (``writing``), or that it ended having left nothing behind: a run that
        dies in between leaves the mark, and the next one then looks for the records it may
        have left without a document record (:meth:`index.versions.Generation.drop_orphans`).
        Readers see the same version and generation either way."""
        self.col(DOCS).modify(metadata={**state, "format": FORMAT, "clean": 0 if writing else 1})

    def doc_records(self) -> list[DocRecord]:
        """Every stored document record: live, replaced, or written by an unfinished run."""
        return [DocRecord.from_meta(id_, meta) for id_, meta in self._iter_meta(DOCS)]

    def doc_records_of(self, sources: Iterable[str], folders: Iterable[str],
                       after: int) -> list[DocRecord]:
        """The document records of ``sources`` and of every source inside ``folders`` (see
        :func:`index.records.folders_of`), and every record a later or unfinished run left
        (generation over ``after``, or marked gone). One query each, not a full scan."""
        wheres: list[dict[str, Any]] = [{"gone": {"$lt": NEVER}}, {"generation": {"$gt": after}}]
        wheres += [{"dirs": {"$contains": f}} for f in sorted(set(folders))]
        names = sorted(set(sources))
        wheres += [{"source": {"$in": part}} for part in _batches(names, _IN_BATCH)]
        found = {id_: meta for w in wheres for id_, meta in self._iter_meta(DOCS, w)}
        return [DocRecord.from_meta(i, m) for i, m in found.items()]

    def _read_committed(self, read: Callable[[int], T]) -> tuple[str, int, T]:
        """``read(generation)`` of the committed state, between two reads of the version and
        again if a commit came in between (so it never mixes two states)."""
        for _ in range(_SNAPSHOT_TRIES):
            version, generation = self.committed()
            value = read(generation)
            if self.committed()[0] == version:
                break
        return version, generation, value

    def snapshot(self) -> Snapshot:
        """The committed state, read so that a commit in the middle cannot mix two states."""
        version, generation, records = self._read_committed(lambda _: self.doc_records())
        return Snapshot(version, generation, newest_live(records, generation)[0])

    def docs(self) -> dict[str, DocRecord]:
        """Every document of the committed state, by source."""
        return self.snapshot().docs

    def doc_text(self, source: str) -> str | None:
        """The full text of the committed version of ``source``."""
        found = self.document(source)
        return None if found is None else found[0]

    def document(self, source: str) -> tuple[str, DocRecord] | None:
        """The full text and the record of the committed version of ``source``."""
        def read(generation: int) -> tuple[str, DocRecord] | None:
            got = self.col(DOCS).get(where={"source": source},
                                     include=["documents", "metadatas"])
            for id_, doc, meta in zip(got["ids"], got["documents"] or [],
                                      got["metadatas"] or [], strict=True):
                record = DocRecord.from_meta(id_, dict(meta))
                if record.live_at(generation):
                    return str(doc), record
            return None

        return self._read_committed(read)[2]

    def set_gone(self, ids: Sequence[str], generation: int) -> None:
        """Mark document records as replaced from ``generation`` on (``NEVER``: unmark)."""
        col = self.col(DOCS)
        for part in _batches(ids, self.max_batch):
            col.update(ids=part, metadatas=[{"gone": generation}] * len(part))

    def delete_docs(self, ids: Sequence[str]) -> None:
        col = self.col(DOCS)
        for part in _batches(ids, self.max_batch):
            col.delete(ids=part)

    def delete_versions(self, versions: Iterable[Version]) -> None:
        """Remove the chunk records of these document versions."""
        clauses = [{"$and": [{"source": s}, {"doc_sha": sha}]} for s, sha in sorted(versions)]
        for part in _batches(clauses, _OR_BATCH):
            self.col("").delete(where=part[0] if len(part) == 1 else {"$or": part})

    def stored_versions(self) -> set[Version]:
        """Every ``(source, doc_sha)`` that chunk records carry (a full scan)."""
        return {(str(m["source"]), str(m["doc_sha"])) for _, m in self._iter_meta("")}

    def count(self, suffix: str = "") -> int:
        return int(self.col(suffix).count())

    def pages(self, suffix: str, include: list[str], where: dict[str, Any] | None = None,
              size: int = _PAGE) -> Iterator[dict[str, Any]]:
        """The records of a collection (those ``where`` matches), ``size`` at a time: each
        page is Chroma's ``get`` result, with the fields ``include`` names."""
        col = self.col(suffix)
        offset = 0
        while True:
            got = col.get(include=include, limit=size, offset=offset, where=where)
            yield got
            if len(got["ids"]) < size:
                return
            offset += size

    def _iter_meta(self, suffix: str,
                   where: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        for got in self.pages(suffix, ["metadatas"], where):
            metas = got.get("metadatas") or []
            yield from ((str(i), dict(m)) for i, m in zip(got["ids"], metas, strict=True) if m)
