"""Hybrid retrieval: dense (Chroma) and lexical (BM25) over chunks, fused by reciprocal rank,
then the sentences of the best chunks with their stored vectors.

A view is one committed state of the collection (:meth:`index.store.Store.snapshot`): only
chunk and sentence records that its document records own are used, so a document that is being
written or replaced is never seen half-done, and a run in progress is not seen at all.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.embed import Vectors
from index.store import SENTENCES, Snapshot, Store
from rag.text import terms

_RRF_K = 60
_VIEW_TRIES = 5


@dataclass(frozen=True)
class ChunkHit:
    id: str
    source: str
    text: str
    sentence_ids: tuple[str, ...]
    rrf: float


@dataclass(frozen=True)
class SentenceRecord:
    id: str
    source: str
    index: int
    start: int
    end: int
    text: str
    vector: Vectors
    context: str
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
        k = min(k, self.n)
        top = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in top[np.argsort(-scores[top])] if scores[i] > 0]


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

    def chunks(self, view: CorpusView, query_vector: Vectors, query_terms: list[str],
               k: int) -> list[ChunkHit]:
        """Chunks by vector and by BM25, fused; ``view`` is the one version the question uses."""
        if not view.n:
            return []
        ranks: dict[str, float] = {}
        info: dict[str, tuple[str, str, str]] = {}
        dense = self.store.col("").query(
            query_embeddings=[query_vector.tolist()], n_results=min(k * 2, view.n),
            include=["metadatas", "documents"],
        )
        rank = 0
        for cid, meta, text in zip(dense["ids"][0], dense["metadatas"][0], dense["documents"][0],
                                   strict=True):
            if view.docs.get(str(meta["source"])) != meta["doc_sha"] or rank >= k:
                continue
            ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (_RRF_K + rank)
            info[cid] = (str(meta["source"]), text, str(meta["sentence_ids"]))
            rank += 1
        for rank, i in enumerate(view.lexical(query_terms, k)):
            cid, meta = view.ids[i], view.metas[i]
            ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (_RRF_K + rank)
            info.setdefault(cid, (str(meta["source"]), str(meta["text"]),
                                  str(meta["sentence_ids"])))
        ordered = sorted(ranks, key=lambda c: (-ranks[c], c))[:k]
        return [ChunkHit(c, info[c][0], info[c][1], tuple(info[c][2].split(",")), ranks[c])
                for c in ordered]

    def sentences(self, view: CorpusView, hits: list[ChunkHit], query_vector: Vectors, k: int,
                  heads: int = 0) -> list[SentenceRecord]:
        """Sentences of the chunk hits, plus the nearest sentences by their own vectors, plus
        the first ``heads`` sentences of the hit documents (their title or dateline)."""
        rank_of: dict[str, float] = {}
        context_of: dict[str, str] = {}
        for hit in hits:
            for sid in hit.sentence_ids:
                if hit.rrf > rank_of.get(sid, -1.0):
                    rank_of[sid] = hit.rrf
                    context_of[sid] = hit.text
        col = self.store.col(SENTENCES)
        if k > 0 and view.n:
            near = col.query(query_embeddings=[query_vector.tolist()], n_results=k, include=[])
            for sid in near["ids"][0]:
                rank_of.setdefault(sid, 0.0)
        if heads and hits:
            sources = sorted({h.source for h in hits})
            top = col.get(where={"$and": [{"source": {"$in": sources}}, {"index": {"$lt": heads}}]},
                          include=[])
            for sid in top["ids"]:
                rank_of.setdefault(sid, 0.0)
        if not rank_of:
            return []
        got = col.get(ids=list(rank_of), include=["embeddings", "documents", "metadatas"])
        out: list[SentenceRecord] = []
        for sid, vec, text, meta in zip(got["ids"], got["embeddings"], got["documents"],
                                        got["metadatas"], strict=True):
            source = str(meta["source"])
            if view.docs.get(source) != meta["doc_sha"]:
                continue
            out.append(SentenceRecord(
                sid, source, int(meta["index"]), int(meta["start"]), int(meta["end"]), text,
                np.asarray(vec, dtype=np.float32),
                f"{meta.get('prev', '')} {context_of.get(sid, '')}", rank_of[sid],
            ))
        out.sort(key=lambda r: (r.source, r.index))
        return out


def documents_of(store: Store) -> list[dict[str, Any]]:
    """The documents of a collection, for listings: source, kind, counts, indexed time."""
    rows = [
        {"source": d.source, "kind": d.kind, "sentences": d.sentences, "chunks": d.chunks,
         "indexed_at": d.indexed_at}
        for d in store.docs().values()
    ]
    return sorted(rows, key=lambda r: str(r["source"]))

