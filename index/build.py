"""Build or update a collection: load → sentences → chunks → vectors → Chroma.

Incremental and crash-safe: unchanged files (same content hash) are skipped, changed ones are
replaced, files gone from an indexed folder are removed. A document's chunks and sentences are
written before its document record, and readers trust only records whose hash matches that
record, so a file is either fully indexed or not at all; records left by an interrupted run are
removed by the next one. Old versions of changed files stay until the run ends and the
collection's version changes: a reader keeps answering from the state it loaded until then.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import chunk_sentences, fit_sentences, tiktoken_counter
from index.embed import Embedder, Vectors
from index.errors import SkippedFile
from index.load import discover, load_file, source_name
from index.segment import split_sentences
from index.settings import IndexSettings
from index.store import DOCS, SENTENCES, Store, check_name, open_client
from index.types import Chunk, Document, Sentence

_BATCH_SENTENCES = 512
PREV_CHARS = 300
"""Each sentence record keeps the end of the sentence before it: what "he" or "it" refers to."""


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    collection: str
    files: int
    indexed: int
    unchanged: int
    removed: int
    skipped: tuple[tuple[str, str], ...]
    sentences: int
    chunks: int
    characters: int
    seconds: float

    def summary(self) -> str:
        lines = [
            f"{self.collection}: {self.files} files ({self.indexed} indexed, {self.unchanged} "
            f"unchanged, {self.removed} removed, {len(self.skipped)} skipped), "
            f"{self.sentences} sentences, {self.chunks} chunks in {self.seconds:.1f} s"
        ]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


@dataclass
class _Pending:
    doc: Document
    sentences: list[Sentence]
    chunks: list[Chunk]
    replaces: bool


@dataclass
class _Records:
    ids: list[str] = field(default_factory=list)
    vectors: list[Vectors] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)

    def add(self, id_: str, vector: Vectors, text: str, meta: dict[str, Any]) -> None:
        self.ids.append(id_)
        self.vectors.append(vector)
        self.texts.append(text)
        self.metas.append(meta)


def _add_document(item: _Pending, vectors: Vectors, sentences: _Records, chunks: _Records,
                  docs: _Records) -> None:
    doc, sha = item.doc, item.doc.sha256
    # the content hash is part of each id: a new version never overwrites the old one's records
    sent_ids = [stable_id("s", doc.source, sha, s.index, s.text) for s in item.sentences]
    first_chunk: dict[int, int] = {}
    for c in item.chunks:
        for s in c.sentences:
            first_chunk.setdefault(s.index, c.index)
    for s in item.sentences:
        sentences.add(sent_ids[s.index], vectors[s.index], s.text, {
            "source": doc.source, "doc_sha": sha, "index": s.index, "start": s.start,
            "end": s.end, "chunk": first_chunk.get(s.index, 0), "page": doc.page_of(s.start) or 0,
            "prev": item.sentences[s.index - 1].text[-PREV_CHARS:] if s.index else ""})
    for c in item.chunks:
        chunks.add(stable_id("c", doc.source, sha, c.index, c.text),
                   _mean(vectors[[s.index for s in c.sentences]]), c.text, {
                       "source": doc.source, "doc_sha": sha, "index": c.index, "start": c.start,
                       "end": c.end,
                       "sentence_ids": ",".join(sent_ids[s.index] for s in c.sentences)})
    docs.add(stable_id("d", doc.source), _mean(vectors), doc.text, {
        "source": doc.source, "doc_sha": sha, "kind": doc.kind,
        "sentences": len(item.sentences), "chunks": len(item.chunks),
        "indexed_at": time.time(), "pages": json.dumps(list(doc.pages))})


@dataclass
class _Run:
    files: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    sentences: int = 0
    chunks: int = 0
    characters: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    """(source, new sha) of changed documents whose old version is still stored."""


def stable_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:40]


class Indexer:
    """Turns files into a collection. One writer per collection at a time (a file lock)."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None,
                 client: Any = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model_path, settings.embed_batch_size)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    def build(self, paths: list[Path], collection: str | None = None, *, rebuild: bool = False,
              progress: bool = False, base: Path | None = None) -> IndexReport:
        name = check_name(collection or self.settings.collection)
        base = base or Path.cwd()
        started = time.perf_counter()
        files = list(discover(paths))
        run = _Run(files=len(files))
        with self._lock(name):
            store = Store(self.client, name)
            if rebuild:
                store.drop()
            for source, sha in store.orphan_sources():
                self._drop_version(store, source, sha)
            known = store.docs()
            seen: set[str] = set()
            pending: list[_Pending] = []
            bar = _progress(len(files), name, progress)
            for file, root in files:
                source = source_name(file, root, base)
                seen.add(source)
                bar.update(1)
                try:
                    item = self._prepare(file, source, known.get(source))
                except SkippedFile as skip:
                    run.skipped.append((skip.path, skip.reason))
                    continue
                if item is None:
                    run.unchanged += 1
                    continue
                pending.append(item)
                if sum(len(p.sentences) for p in pending) >= _BATCH_SENTENCES:
                    self._flush(store, pending, run)
            self._flush(store, pending, run)
            bar.close()
            gone = self._gone(paths, base, known, seen)
            for source in gone:  # new views leave it out; views already loaded keep it
                store.col(DOCS).delete(where={"source": source})
            run.removed = len(gone)
            if rebuild or run.indexed or run.removed or not store.version():
                store.bump_version()  # readers switch to the new state here ...
            for source, sha in run.replaced:  # ... so the old versions can go
                store.delete_source(source, keep_sha=sha)
            for source in gone:
                store.delete_source(source)
        return IndexReport(
            collection=name, files=run.files, indexed=run.indexed, unchanged=run.unchanged,
            removed=run.removed, skipped=tuple(run.skipped), sentences=run.sentences,
            chunks=run.chunks, characters=run.characters,
            seconds=time.perf_counter() - started,
        )

    def _prepare(self, file: Path, source: str, known: Any) -> _Pending | None:
        max_bytes = int(self.settings.max_file_mb * 1e6)
        if known is not None:
            try:
                if file.stat().st_size <= max_bytes and \
                        hashlib.sha256(file.read_bytes()).hexdigest() == known.sha256:
                    return None
            except OSError:
                pass
        doc = load_file(file, source, max_bytes)
        limit = self.embedder.max_pieces
        sentences = split_sentences(doc.text, source)
        pieces = self.embedder.count_pieces_many([s.text for s in sentences])
        if any(p > limit for p in pieces):
            sentences = fit_sentences(sentences, doc.text, limit, self.embedder.count_pieces)
            pieces = self.embedder.count_pieces_many([s.text for s in sentences])
        if not sentences:
            raise SkippedFile(source, "has no sentences")
        count = tiktoken_counter()
        tokens = [count(s.text) for s in sentences]
        chunks = chunk_sentences(sentences, doc.text, self.settings.chunk_tokens,
                                 self.settings.chunk_overlap_tokens, tokens, pieces, limit)
        return _Pending(doc, sentences, chunks, replaces=known is not None)

    def _flush(self, store: Store, pending: list[_Pending], run: _Run) -> None:
        """Embed the pending documents' sentences in one batch and write them all: sentences,
        then chunks, then the document records that mark them complete."""
        if not pending:
            return
        vectors = self.embedder.embed([s.text for p in pending for s in p.sentences])
        sentences, chunks, docs = _Records(), _Records(), _Records()
        offset = 0
        for item in pending:
            n = len(item.sentences)
            _add_document(item, vectors[offset : offset + n], sentences, chunks, docs)
            offset += n
            run.indexed += 1
            run.sentences += n
            run.chunks += len(item.chunks)
            run.characters += len(item.doc.text)
        store.upsert(SENTENCES, sentences.ids, np.stack(sentences.vectors), sentences.texts,
                     sentences.metas)
        store.upsert("", chunks.ids, np.stack(chunks.vectors), chunks.texts, chunks.metas)
        store.upsert(DOCS, docs.ids, np.stack(docs.vectors), docs.texts, docs.metas)
        run.replaced += [(p.doc.source, p.doc.sha256) for p in pending if p.replaces]
        pending.clear()

    @staticmethod
    def _drop_version(store: Store, source: str, sha: str) -> None:
        where = {"$and": [{"source": source}, {"doc_sha": sha}]}
        for suffix in ("", SENTENCES):
            store.col(suffix).delete(where=where)

    @staticmethod
    def _gone(paths: list[Path], base: Path, known: dict[str, Any], seen: set[str]) -> list[str]:
        """Indexed sources inside an indexed folder whose file no longer exists."""
        gone: list[str] = []
        for path in paths:
            if not path.is_dir():
                continue
            prefix = source_name(path, path, base)
            inside = prefix != path.name or path.resolve().parent == base.resolve()
            prefix = "" if prefix in (".", "") or not inside else prefix + "/"
            for source in known:
                if source in seen or not source.startswith(prefix):
                    continue
                file = (base / source) if inside else (path / source)
                if not file.exists():
                    gone.append(source)
        return gone

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        lock_dir = self.settings.data_dir / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / f"{name}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _mean(vectors: Vectors) -> Vectors:
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    out: Vectors = (mean / norm if norm > 0 else mean).astype(np.float32)
    return out


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"indexing {name}", unit="file", file=sys.stderr,
                disable=not enabled, leave=False)


def build_index(paths: list[str | Path], collection: str | None = None, *,
                settings: IndexSettings | None = None, rebuild: bool = False,
                progress: bool = False, embedder: Embedder | None = None) -> IndexReport:
    """Index files and folders into ``collection`` (default: ``settings.collection``)."""
    settings = settings or IndexSettings()
    indexer = Indexer(settings, embedder)
    return indexer.build([Path(p) for p in paths], collection, rebuild=rebuild, progress=progress)
