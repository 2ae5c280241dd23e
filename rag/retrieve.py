"""Hybrid retrieval: dense (Chroma) and lexical (BM25, :mod:`index.lexical`) over chunks, fused
by reciprocal rank, then the sentences of the best chunks with their stored vectors.

A view is one committed state of the collection: its version and its lexical index, opened
from disk (memory-mapped; nothing of the chunks is read to open it). The process keeps no
copy of the chunks' texts or metadata: a question reads the records of its hit chunks only,
from the lexical index's compressed store (the dense query asks Chroma for ids), and a chunk
record holds its sentences' records and vectors (:func:`index.records.chunk_record`). Besides
the fused hits, the sentences nearest to the question by their own vectors are taken from the
chunks the dense query ranks first (a wider list than the fused hits): a sentence that answers
by itself in a chunk about something else still competes.

Only records of the view's state are used (a dense hit that is not in the view's lexical index
belongs to another state), so a document that is being written or replaced is never seen
half-done, and a run in progress is not seen at all.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index import reads
from index.embed import Vectors
from index.errors import LexicalIndexMissing, StoreUnavailable
from index.store import Store
from index.types import ChunkRecord, SentenceRecord
from rag.view import CorpusView

_RRF_K = 60
_VIEW_TRIES = 5


_POOLS: dict[str, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(kind: str = "query") -> ThreadPoolExecutor:
    """Chroma's queries release the GIL: the dense chunk query runs beside BM25. Views are
    checked (and opened again after a commit) in their own pool, so that never holds up the
    queries of other questions."""
    with _POOLS_LOCK:
        if kind not in _POOLS:
            _POOLS[kind] = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"rag-{kind}")
        return _POOLS[kind]


@dataclass(frozen=True)
class ChunkHit:
    """A chunk of the view's state and its fused rank score."""

    chunk: ChunkRecord
    rrf: float

    @property
    def id(self) -> str:
        return self.chunk.id

    @property
    def source(self) -> str:
        return self.chunk.source


@dataclass(frozen=True)
class Retrieved:
    """A retrieved sentence: its stored record and what retrieval knows of it."""

    sentence: SentenceRecord
    similarity: float
    """Cosine similarity of the sentence's stored vector to the question's."""
    chunk: str
    """The text of the best hit chunk holding it ("" for a sentence found on its own)."""
    rank: float


class Retriever:
    """Retrieves candidate sentences for a question from one collection."""

    def __init__(self, store: Store, lexical_root: Path) -> None:
        self.store = store
        self.lexical_root = lexical_root
        self._view: CorpusView | None = None
        self._lock = threading.Lock()

    def view(self) -> CorpusView:
        """The view of the committed state; rebuilt when a run has committed a new one."""
        version = self.store.version()
        view = self._view
        if view is not None and view.version != version and \
                self.store.committed_elsewhere(version):
            raise StoreUnavailable(
                f"the collection {self.store.name} was re-indexed by another process, and this "
                "process's embedded database cannot read the new state: restart this process "
                "(the app or the script), or run Chroma as a server and point every process at "
                "it with RAG_CHROMA_URL to index while serving (README: Running with a Chroma "
                "server)")
        if view is None or view.version != version:
            with self._lock:
                view = self._view
                if view is None or view.version != version:
                    view = self._open()
                    self._view = view
        return view

    def _open(self) -> CorpusView:
        """The view of the committed state. Commits while it opens may delete the folder of
        the state it read (two in a row): it then opens the new state."""
        for _ in range(_VIEW_TRIES):
            version = self.store.version()
            try:
                return CorpusView(self.store, self.lexical_root)
            except LexicalIndexMissing:
                if self.store.version() == version:  # not a commit: really missing
                    raise
        return CorpusView(self.store, self.lexical_root)

    def view_soon(self) -> Future[CorpusView]:
        """:meth:`view`, in a worker thread."""
        return _pool("view").submit(self.view)

    def chunks(self, view: CorpusView, query_vector: Vectors, query_terms: list[str],
               k: int, near: int = 0) -> tuple[list[ChunkHit], list[ChunkRecord]]:
        """Chunks by vector and by BM25, fused (the best ``k`` of each); ``view`` is the one
        version the question uses. Also the records of the (at most) ``near`` chunks the dense
        query ranks first, nearest first, whose sentences compete in :meth:`sentences` by their
        own vectors. The dense query asks Chroma for ids only; the
        hits' records are read from the view's lexical index, which holds exactly the chunks of
        its version (a dense hit it does not hold belongs to another one)."""
        if not view.n:
            return [], []
        dense = _pool().submit(reads.nearest_chunks, self.store, query_vector,
                               min(max(k * 2, near), view.n))
        records = view.lexical_hits(query_terms, k)
        lexical = list(records)
        dense_ids = list(dict.fromkeys(dense.result()))
        need = max(k, near)  # the spare ids stand in for hits of another version only
        records |= view.records([c for c in dense_ids[:need] if c not in records])
        if sum(c in records for c in dense_ids[:need]) < need:
            records |= view.records([c for c in dense_ids[need:] if c not in records])
        ranks: dict[str, float] = {}
        for rank, cid in enumerate(lexical):
            ranks[cid] = 1.0 / (_RRF_K + rank)
        nearest = [records[c] for c in dense_ids if c in records]
        for rank, record in enumerate(nearest[:k]):
            ranks[record.id] = ranks.get(record.id, 0.0) + 1.0 / (_RRF_K + rank)
        ordered = sorted(ranks, key=lambda c: (-ranks[c], c))[:k]
        return [ChunkHit(records[c], ranks[c]) for c in ordered], nearest[:near]

    def sentences(self, view: CorpusView, hits: list[ChunkHit], near_chunks: list[ChunkRecord],
                  query_vector: Vectors, top: int, heads: int = 0) -> list[Retrieved]:
        """Sentences of the chunk hits, plus the ``top`` sentences of ``near_chunks`` (see
        :meth:`chunks`) nearest to the question by their own vectors, plus the first ``heads``
        sentences of the hit documents (their title or dateline)."""
        rows, rank_of, context_of = _held(hits)
        opening = list(view.heads({h.chunk.key for h in hits}).values()) if heads and hits else []
        similarity: dict[str, float] = {}
        records: dict[str, SentenceRecord] = {}
        chunks = {c.id: c for c in [*(h.chunk for h in hits), *near_chunks, *opening]}
        for chunk in chunks.values():  # a sentence two chunks hold has one stored vector
            similarity.update(_similarities(chunk, query_vector))
            records.update((r.id, r) for r in chunk.sentences)
        nearby = {r.id for c in near_chunks for r in c.sentences if r.id in similarity}
        added = sorted(nearby, key=lambda sid: (-similarity[sid], sid))[:top]
        added += [r.id for c in opening for r in c.sentences
                  if r.index < heads and r.id in similarity]
        for sid in added:
            rank_of.setdefault(sid, 0.0)
            rows.setdefault(sid, records[sid])
        out = [Retrieved(row, similarity[sid], context_of.get(sid, ""), rank_of[sid])
               for sid, row in rows.items() if sid in similarity]
        out.sort(key=lambda r: (r.sentence.source, r.sentence.index))
        return out


def _held(hits: list[ChunkHit]) -> tuple[dict[str, SentenceRecord], dict[str, float],
                                         dict[str, str]]:
    """The sentence records the hit chunks hold, and each sentence's rank and context (the best
    chunk holding it: hits come best first)."""
    rows: dict[str, SentenceRecord] = {}
    rank_of: dict[str, float] = {}
    context_of: dict[str, str] = {}
    for hit in hits:
        chunk = hit.chunk
        for sid in chunk.sentence_ids:
            if sid not in rank_of:
                rank_of[sid], context_of[sid] = hit.rrf, chunk.text
        for record in chunk.sentences:
            rows.setdefault(record.id, record)
    return rows, rank_of, context_of


def _similarities(chunk: ChunkRecord, query_vector: Vectors) -> dict[str, float]:
    """Cosine similarity of each of the chunk's sentences to the question, row by row from
    their stored vectors (a sentence's value never depends on which others were read with
    it)."""
    if not chunk.vectors.size:  # read without its vectors
        return {}
    values = (chunk.vectors * query_vector).sum(axis=1).tolist()
    return dict(zip(chunk.sentence_ids, values, strict=True))


def documents_of(store: Store) -> list[dict[str, Any]]:
    """The documents of a collection, for listings: source, kind, counts, indexed time."""
    rows = [
        {"source": d.source, "kind": d.kind, "sentences": d.sentences, "chunks": d.chunks,
         "indexed_at": d.indexed_at}
        for d in store.docs().values()
    ]
    return sorted(rows, key=lambda r: str(r["source"]))

