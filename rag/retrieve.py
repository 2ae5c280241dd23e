"""Hybrid retrieval: dense (Chroma) and lexical (BM25) over chunks, fused by reciprocal rank,
then the sentences of the best chunks with their stored vectors.

The view holds every chunk's text and metadata (BM25 needs them), and a chunk record holds its
sentences' records (:func:`index.records.sentence_rows`), so a question costs Chroma three
reads: the dense chunk query (ids only), the nearest-sentence query, and the vectors of the hit
chunks' sentences; they overlap with BM25 and with each other in worker threads.

A view is one committed state of the collection (:meth:`index.store.Store.snapshot`): only
chunk and sentence records that its document records own are used, so a document that is being
written or replaced is never seen half-done, and a run in progress is not seen at all.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.docrecord import Snapshot
from index.embed import Vectors
from index.errors import StoreUnavailable
from index.records import sentence_rows
from index.store import SENTENCES, Store
from rag.text import terms

_RRF_K = 60
_VIEW_TRIES = 5


_POOLS: dict[str, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(kind: str = "query") -> ThreadPoolExecutor:
    """Chroma's queries release the GIL: the dense chunk query runs beside BM25, and the
    nearest-sentence query beside reading the hit chunks' sentences. Views are checked (and
    rebuilt after a commit, which takes seconds on a large collection) in their own pool, so a
    rebuild never holds up the queries of other questions."""
    with _POOLS_LOCK:
        if kind not in _POOLS:
            _POOLS[kind] = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"rag-{kind}")
        return _POOLS[kind]


@dataclass(frozen=True)
class ChunkHit:
    id: str
    source: str
    text: str
    meta: dict[str, Any]
    rrf: float

    @property
    def sentence_ids(self) -> tuple[str, ...]:
        return tuple(str(self.meta["sentence_ids"]).split(","))


@dataclass(frozen=True)
class SentenceRecord:
    id: str
    source: str
    index: int
    start: int
    end: int
    text: str
    similarity: float
    """Cosine similarity of the sentence's stored vector to the question's."""
    prev: str
    """The end of the sentence before it."""
    chunk: str
    """The text of the best hit chunk holding it ("" for a sentence found on its own)."""
    rank: float


class CorpusView:
    """A snapshot of one collection: its documents, a BM25 index and term statistics."""

    def __init__(self, store: Store) -> None:
        import bm25s

        snapshot = store.snapshot()
        self.snapshot: Snapshot = snapshot
        self.version = snapshot.version
        self.docs = {src: rec.sha256 for src, rec in snapshot.docs.items()}
        ids: list[str] = []
        seen: set[str] = set()
        metas: list[dict[str, Any]] = []
        corpus: list[list[str]] = []
        df: Counter[str] = Counter()
        col = store.col("")
        offset, page = 0, 20_000  # each get() costs seconds at 1M chunks; SQLite caps a page
        while True:
            got = col.get(include=["documents", "metadatas"], limit=page, offset=offset)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if cid in seen or not snapshot.owns(meta):
                    continue
                seen.add(cid)
                toks = terms(text)
                ids.append(cid)
                metas.append(dict(meta) | {"text": text})
                corpus.append(toks or ["\x00"])
                df.update(set(toks))
            if len(got["ids"]) < page:
                break
            offset += page
        self.ids = ids
        self.metas = metas
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.n = len(ids)
        # smoothed IDF: a word in every chunk still counts 1; a word the corpus never uses
        # counts like one found in a single chunk (it may be a paraphrase, or the topic)
        self.idf = {t: math.log((1 + self.n) / (1 + c)) + 1 for t, c in df.items()}
        self.default_idf = math.log((1 + self.n) / 2) + 1
        self.bm25 = bm25s.BM25()
        if corpus:
            self.bm25.index(corpus, show_progress=False)

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.default_idf)

    def lexical(self, query_terms: list[str], k: int) -> list[int]:
        known = [t for t in query_terms if t in self.idf]
        if not known or not self.n:
            return []
        scores = self.bm25.get_scores(known)
        hits = np.flatnonzero(scores > 0)  # usually far fewer than all chunks
        if len(hits) > k:
            hits = np.sort(hits[np.argpartition(-scores[hits], k - 1)[:k]])
        return [int(i) for i in hits[np.argsort(-scores[hits], kind="stable")]]


class Retriever:
    """Retrieves candidate sentences for a question from one collection."""

    def __init__(self, store: Store) -> None:
        self.store = store
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
                    view = CorpusView(self.store)
                    # a commit while the chunks were read: its cleanup may have removed some
                    for _ in range(_VIEW_TRIES):
                        if view.version == self.store.version():
                            break
                        view = CorpusView(self.store)
                    self._view = view
        return view

    def view_soon(self) -> Future[CorpusView]:
        """:meth:`view`, in a worker thread."""
        return _pool("view").submit(self.view)

    def chunks(self, view: CorpusView, query_vector: Vectors, query_terms: list[str],
               k: int) -> list[ChunkHit]:
        """Chunks by vector and by BM25, fused; ``view`` is the one version the question uses.
        The records come from the view (it holds every chunk's text), so the dense query asks
        Chroma for ids only; a chunk the view does not hold belongs to another version."""
        if not view.n:
            return []
        dense = _pool().submit(self.store.col("").query, query_embeddings=[query_vector.tolist()],
                             n_results=min(k * 2, view.n), include=[])
        ranks: dict[int, float] = {}
        for rank, i in enumerate(view.lexical(query_terms, k)):
            ranks[i] = 1.0 / (_RRF_K + rank)
        rank = 0
        for cid in dense.result()["ids"][0]:
            i = view.position.get(cid, -1)
            if i < 0 or rank >= k:
                continue
            ranks[i] = ranks.get(i, 0.0) + 1.0 / (_RRF_K + rank)
            rank += 1
        ordered = sorted(ranks, key=lambda i: (-ranks[i], view.ids[i]))[:k]
        return [ChunkHit(view.ids[i], str(view.metas[i]["source"]), str(view.metas[i]["text"]),
                         view.metas[i], ranks[i]) for i in ordered]

    def nearest(self, view: CorpusView, query_vector: Vectors, k: int) -> Future[Any] | None:
        """Start the query for the ``k`` sentences nearest to the question by their own vectors
        (it runs while the chunks are retrieved); pass it to :meth:`sentences`."""
        if k <= 0 or not view.n:
            return None
        return _pool().submit(self.store.col(SENTENCES).query,
                              query_embeddings=[query_vector.tolist()], n_results=k,
                              include=["documents", "metadatas", "distances"])

    def sentences(self, view: CorpusView, hits: list[ChunkHit], query_vector: Vectors,
                  near: Future[Any] | None, heads: int = 0) -> list[SentenceRecord]:
        """Sentences of the chunk hits, plus the nearest sentences (see :meth:`nearest`), plus
        the first ``heads`` sentences of the hit documents (their title or dateline)."""
        col = self.store.col(SENTENCES)
        rows, rank_of, context_of, unread = _held(hits)
        if heads and hits:
            sources = sorted({h.source for h in hits})
            top = col.get(where={"$and": [{"source": {"$in": sources}}, {"index": {"$lt": heads}}]},
                          include=[])
            for sid in top["ids"]:
                rank_of.setdefault(sid, 0.0)
                unread.append(sid)
        # the vectors of the hit chunks' sentences are read while the nearest ones arrive
        held_ids = list(rows)
        early = (_pool().submit(col.get, ids=held_ids, include=["embeddings"])
                 if held_ids else None)
        similarity: dict[str, float] = {}
        if near is not None:
            got = near.result()
            for sid, text, meta, distance in zip(got["ids"][0], got["documents"][0],
                                                 got["metadatas"][0], got["distances"][0],
                                                 strict=True):
                rank_of.setdefault(sid, 0.0)
                rows.setdefault(sid, dict(meta) | {"id": sid, "text": text})
                similarity[sid] = 1.0 - float(distance)  # cosine space: distance = 1 - cosine
        unread = [sid for sid in dict.fromkeys(unread) if sid not in rows]
        if unread:
            got = col.get(ids=unread, include=["documents", "metadatas"])
            for sid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                rows[sid] = dict(meta) | {"id": sid, "text": text}
        rows = {sid: row for sid, row in rows.items()
                if view.docs.get(str(row["source"])) == row["doc_sha"]}
        fetched = [early.result()] if early is not None else []
        known = set(similarity) | set(held_ids)
        missing = [sid for sid in rows if sid not in known]
        if missing:
            fetched.append(col.get(ids=missing, include=["embeddings"]))
        for got in fetched:
            for sid, value in _similarities(got, query_vector):
                similarity.setdefault(sid, value)  # a nearest sentence keeps its distance
        out = [
            SentenceRecord(sid, str(row["source"]), int(row["index"]), int(row["start"]),
                           int(row["end"]), str(row["text"]), similarity[sid],
                           str(row.get("prev", "")), context_of.get(sid, ""), rank_of[sid])
            for sid, row in rows.items() if sid in similarity
        ]
        out.sort(key=lambda r: (r.source, r.index))
        return out


def _held(hits: list[ChunkHit]) -> tuple[dict[str, dict[str, Any]], dict[str, float],
                                         dict[str, str], list[str]]:
    """The sentence records the hit chunks hold, each sentence's rank and context (the best
    chunk holding it: hits come best first), and the ids of sentences whose chunk was written
    before chunks kept their sentences' offsets (to be read from the sentence collection)."""
    rows: dict[str, dict[str, Any]] = {}
    rank_of: dict[str, float] = {}
    context_of: dict[str, str] = {}
    unread: list[str] = []
    for hit in hits:
        held = sentence_rows(hit.text, hit.meta)
        for sid in hit.sentence_ids:
            if sid not in rank_of:
                rank_of[sid], context_of[sid] = hit.rrf, hit.text
        if held is None:
            unread.extend(hit.sentence_ids)
        for row in held or ():
            rows.setdefault(row["id"], row)
    return rows, rank_of, context_of, unread


def _similarities(got: dict[str, Any], query_vector: Vectors) -> list[tuple[str, float]]:
    """Cosine similarity of each fetched vector to the question's, row by row: a sentence's
    value never depends on which others were read with it."""
    if not len(got["ids"]):  # all of them removed by a run that committed meanwhile
        return []
    vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
    return list(zip(got["ids"], (vectors * query_vector).sum(axis=1).tolist(), strict=True))


def documents_of(store: Store) -> list[dict[str, Any]]:
    """The documents of a collection, for listings: source, kind, counts, indexed time."""
    rows = [
        {"source": d.source, "kind": d.kind, "sentences": d.sentences, "chunks": d.chunks,
         "indexed_at": d.indexed_at}
        for d in store.docs().values()
    ]
    return sorted(rows, key=lambda r: str(r["source"]))

