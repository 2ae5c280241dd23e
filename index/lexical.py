"""The lexical index: BM25 over each chunk's terms (:func:`index.terms.terms`), on disk beside
the vectors, one tantivy index per committed generation of a collection. It also holds what a
question reads of its hit chunks: their records and their sentences' vectors.

``RAG_DATA_DIR/lexical/<collection>/g<N>/`` holds generation ``N``'s chunks (their id, their
document version, their terms, and their record: text, metadata and the vectors of their
sentences, stored compressed and read only for a question's hits; chunks that open a document
are marked, so its title or dateline is found without a scan) and a file ``VERSION`` naming the
format and the collection version
(:meth:`index.store.Store.committed`) it belongs to. A run builds ``g<N+1>`` from ``g<N>``
without copying it: the new folder starts as hard links to the old one's files (tantivy never
rewrites a file: new segments, deletes and its ``meta.json`` are new files), then the run adds
the chunks it writes, deletes the versions it replaces, commits, writes ``VERSION``, and only
then commits the vectors, the one write readers switch on. So a reader of version ``v`` opens
the folder whose ``VERSION`` is ``v``: its terms and the vectors are of the same state, and a
run that dies at any point leaves the committed folder as it was.

A folder that is missing or names another version (a data folder copied without it, a folder
of another format) is never rebuilt on a question: readers get
:class:`index.errors.LexicalIndexMissing`, and the next indexing run of the collection (or
``rag index --repair``) rebuilds it once from Chroma's chunk records, encoding their sentences
again (Chroma keeps the chunks' vectors, not the sentences'): :mod:`index.repair`. After a
commit, folders older than the previous generation are deleted; the previous one stays for
readers that read its version just before the switch.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tantivy

from index.docrecord import Version
from index.embed import Vectors
from index.errors import LexicalIndexMissing
from index.records import chunk_record
from index.terms import terms
from index.types import ChunkRecord

VERSION = "VERSION"
FORMAT = "3"
"""The schema's version, written into ``VERSION``: a folder of another format is stale."""
_HEAP_BYTES = 64_000_000
"""The writer's memory budget: it writes a segment whenever its buffer reaches it."""
HEAD_SPAN = 8
"""Chunks that begin within a document's first ``HEAD_SPAN`` sentences are marked as its
opening (:meth:`LexicalReader.heads`)."""
Embed = Callable[[Sequence[str]], Vectors]
"""Unit vectors of texts, in order (:meth:`index.embed.Embedder.embed`)."""


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("head", tokenizer_name="raw", index_option="basic")
    # the terms are ours, joined by spaces (a term never holds one): the whitespace tokenizer
    # splits them back unchanged, so BM25 counts exactly the words the answer scores with
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_bytes_field("record", stored=True)
    builder.add_bytes_field("vectors", stored=True)
    return builder.build()


def version_key(source: str, sha: str) -> str:
    """The term that names a document version's chunks (for deletes, and for its opening)."""
    return f"{sha}:{source}"


def folder_of(root: Path, name: str, generation: int) -> Path:
    return root / name / f"g{generation}"


def stored_version(folder: Path) -> str | None:
    """The collection version a generation folder holds; None when it is incomplete or gone."""
    try:
        form, _, version = (folder / VERSION).read_text(encoding="utf-8").partition(" ")
    except OSError:
        return None
    return version.strip() if form == FORMAT else None


def is_current(root: Path, name: str, version: str, generation: int) -> bool:
    """Whether the committed state ``(version, generation)`` has its lexical index."""
    return not version or stored_version(folder_of(root, name, generation)) == version


def drop(root: Path, name: str) -> None:
    """Delete every generation of a collection's lexical index."""
    shutil.rmtree(root / name, ignore_errors=True)


class LexicalReader:
    """One generation's lexical index, memory-mapped: only the terms' postings a question asks
    for and the records (with their sentences' vectors) of its hits are read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index = tantivy.Index.open(str(folder))
        self._schema = self._index.schema
        self._searcher = self._index.searcher()
        self.n = int(self._searcher.num_docs)

    @staticmethod
    def open(root: Path, name: str, version: str, generation: int) -> LexicalReader | None:
        """The lexical index of the committed state ``(version, generation)``; None when the
        collection has no committed state yet. Raises :class:`LexicalIndexMissing` when the
        folder is missing or holds another version."""
        if not version:
            return None
        folder = folder_of(root, name, generation)
        if stored_version(folder) != version:
            raise LexicalIndexMissing(name, folder)
        try:
            return LexicalReader(folder)
        except (OSError, ValueError) as exc:  # removed in between: the caller looks again
            raise LexicalIndexMissing(name, folder) from exc

    def doc_freq(self, term: str) -> int:
        """Chunks holding ``term`` (chunks a later run deleted count until their segment is
        merged)."""
        return int(self._searcher.doc_freq("terms", term))

    def search(self, query_terms: Sequence[str], k: int) -> dict[str, ChunkRecord]:
        """The ``k`` chunks with the best BM25 score for ``query_terms`` (a term given twice
        counts twice), best first, each with its record; chunks that hold none of them are left
        out."""
        if not query_terms or k <= 0 or not self.n:
            return {}
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "terms", t))
            for t in query_terms])
        return self._read(self._searcher.search(query, k, count=False).hits)

    def records(self, ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """The records of the chunks ``ids`` that this generation holds (a chunk it does not
        hold belongs to another version), read from the compressed document store."""
        if not ids:
            return {}
        return self._read(self._searcher.search(self._any_of("id", ids), len(ids),
                                                count=False).hits)

    def _any_of(self, field_name: str, values: Sequence[str]) -> Any:
        """Documents whose raw ``field_name`` is one of ``values`` (a term query each: at 1M
        chunks a few times faster than tantivy's term-set query, which walks the term
        dictionary)."""
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, field_name, v))
            for v in values])

    def _read(self, hits: Sequence[Any]) -> dict[str, ChunkRecord]:
        """The record of each hit, by id, in the hits' order."""
        out = {}
        for _, address in hits:
            doc = self._searcher.doc(address)
            text, meta = json.loads(bytes(doc["record"][0]))
            id_ = str(doc["id"][0])
            out[id_] = chunk_record(id_, str(text), dict(meta), bytes(doc["vectors"][0]))
        return out

    def heads(self, versions: Iterable[Version]) -> dict[str, ChunkRecord]:
        """The records of the chunks that open the documents ``versions`` (those beginning
        within their first :data:`HEAD_SPAN` sentences) that this generation holds."""
        keys = sorted({version_key(*v) for v in versions})
        if not keys:
            return {}
        # chunks start at increasing sentences, so at most HEAD_SPAN of a version are marked
        return self._read(self._searcher.search(self._any_of("head", keys),
                                                len(keys) * HEAD_SPAN, count=False).hits)


@dataclass
class LexicalWriter:
    """The lexical index of the generation a run writes (used under the collection's lock)."""

    folder: Path
    writer: Any
    schema: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The run's writer thread adds chunks while the run itself may add a kept version's."""

    @staticmethod
    def start(root: Path, name: str, committed: int, number: int) -> LexicalWriter:
        """Open generation ``number`` as a copy of ``committed`` (hard links, no data copied);
        what a dead run left in that folder is thrown away first."""
        folder = folder_of(root, name, number)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        base = folder_of(root, name, committed)
        if stored_version(base) is not None:
            for path in base.iterdir():
                if not path.name.startswith(VERSION) and not path.name.endswith(".lock"):
                    try:
                        os.link(path, folder / path.name)
                    except OSError:  # a file system without hard links: a copy
                        shutil.copy2(path, folder / path.name)
        index = tantivy.Index(_schema(), str(folder), reuse=True)
        return LexicalWriter(folder, index.writer(_HEAP_BYTES, 1), index.schema)

    @staticmethod
    def fresh(root: Path, name: str, number: int) -> LexicalWriter:
        """Open generation ``number`` as a new, empty index (a rebuild)."""
        folder = folder_of(root, name, number)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        index = tantivy.Index(_schema(), str(folder), reuse=False)
        return LexicalWriter(folder, index.writer(_HEAP_BYTES * 2, 1), index.schema)

    def add(self, ids: Sequence[str], texts: Sequence[str],
            metas: Sequence[dict[str, Any]], packed: Sequence[bytes]) -> None:
        """Add chunk records (ids, texts and metadata as written to Chroma) with their
        sentences' vectors (:func:`index.records.pack_vectors`)."""
        docs = []
        for id_, text, meta, vectors in zip(ids, texts, metas, packed, strict=True):
            sentences = str(meta["sentence_ids"]).count(",") + 1
            if not vectors or len(vectors) % (2 * sentences):
                raise ValueError(f"chunk {id_}: {len(vectors)} bytes of vectors for {sentences} "
                                 "sentences (see index.records.pack_vectors)")
            key = version_key(str(meta["source"]), str(meta["doc_sha"]))
            fields: dict[str, Any] = {
                "id": id_, "key": key, "terms": " ".join(terms(text)),
                "record": json.dumps([text, meta]).encode(), "vectors": vectors}
            if int(meta["first"]) < HEAD_SPAN:
                fields["head"] = key
            docs.append(tantivy.Document(**fields))
        with self.lock:
            for doc in docs:
                self.writer.add_document(doc)

    def delete(self, versions: Iterable[Version]) -> None:
        """Leave out the chunks of these document versions (added before this call)."""
        for version in sorted(versions):
            self.writer.delete_documents_by_term("key", version_key(*version))

    def commit(self, version: str) -> None:
        """Make the folder hold collection ``version``: committed, merged, then ``VERSION``
        written and flushed (before the vectors' commit names that version)."""
        self.writer.commit()
        self.writer.wait_merging_threads()
        _write_durably(self.folder / VERSION, f"{FORMAT} {version}")

    def discard(self) -> None:
        """Throw the folder away (the run committed nothing, or stopped)."""
        with contextlib.suppress(Exception):  # a writer already consumed by its commit
            self.writer.rollback()
        shutil.rmtree(self.folder, ignore_errors=True)

    def cleanup(self, number: int) -> None:
        """Delete the folders of generations before ``number - 1`` (and after ``number``:
        runs that died before their commit)."""
        for path in self.folder.parent.iterdir():
            gen = path.name[1:]
            if path.name.startswith("g") and gen.isdigit() and \
                    (int(gen) < number - 1 or int(gen) > number):
                shutil.rmtree(path, ignore_errors=True)


def _write_durably(path: Path, text: str) -> None:
    """Write a small file so that it is either whole or absent after a crash."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
